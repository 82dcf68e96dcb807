#!/bin/bash
# dag (arXiv 2510.25542): quick preset, seeds 1-3, every claim C1-C6 passes.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_seeds.sh" dag C1,C2,C3,C4,C5,C6 objective_vs_step_per_f parent_mass_vs_step_per_f
