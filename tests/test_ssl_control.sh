#!/bin/bash
# ssl under --control untrained (every learning rate zero): every learned claim must fail.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_control.sh" ssl
