#!/bin/bash
# rtdetr under --control untrained: every learned claim (C1-C3) fails.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_control.sh" rtdetr
