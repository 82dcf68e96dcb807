#!/bin/bash
# mot: under `--control untrained` (every learning rate 0) every claim, all
# of kind `learned`, fails.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_control.sh" mot
