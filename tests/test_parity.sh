#!/bin/bash
# parity (arXiv 2505.00926): quick preset, seeds 1-3, every claim C1-C5 passes.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_seeds.sh" parity C1,C2,C3,C4,C5 norms_vs_step_two_phases loss_vs_step_loglog accuracy_vs_length_parity
