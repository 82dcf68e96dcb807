#!/bin/bash
# treepath: under `--control untrained` (every learning rate zero) every
# learned claim (C1-C4) fails; C5 (exact symmetry) is structural.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_control.sh" treepath
