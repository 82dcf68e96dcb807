#!/bin/bash
# icl: under `--control untrained` (step size zero) every learned claim fails.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_control.sh" icl
