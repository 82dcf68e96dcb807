#!/bin/bash
# gpt: under `--control untrained` (learning rate zero at every step) every
# learned claim (C1-C3) fails.
export OMP_WAIT_POLICY="${OMP_WAIT_POLICY:-passive}"
exec bash "$DYNLAB_SOURCE_DIR/tests/system_control.sh" gpt
