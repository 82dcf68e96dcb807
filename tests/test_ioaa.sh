#!/bin/bash
# ioaa (arXiv 2510.05016): quick preset, seeds 1-3 (offline, against dynlab
# serve on loopback): C1 (hand-computed sample totals, ranks, medals), C2 (the
# paper's averages), C3 (interrupted benchmark resumed from the cache).
exec bash "$DYNLAB_SOURCE_DIR/tests/system_seeds.sh" ioaa C1,C2,C3 lost_points_by_category score_vs_participants_sample_theory
