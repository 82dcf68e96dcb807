#!/bin/bash
# rehearsal: under --control untrained (no minimum-norm update, no SGD step)
# every learned claim (C1-C5) must fail.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_control.sh" rehearsal
