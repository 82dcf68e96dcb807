#!/bin/bash
# parity: under `--control untrained` (both step sizes zero in every training
# run) every learned claim fails.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_control.sh" parity
