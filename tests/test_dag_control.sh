#!/bin/bash
# dag: under `--control untrained` (attention and kernel steps 0) every
# learned claim (C1, C2, C4, C5) fails; C3 and C6 are structural.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_control.sh" dag
