#!/bin/bash
# treepath (arXiv 2508.08222): quick preset, seeds 1-3, every claim C1-C5 passes.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_seeds.sh" treepath C1,C2,C3,C4,C5 loss_vs_step_backward loss_vs_step_forward_phases
