#!/bin/bash
# sentiment (arXiv 2412.10199): quick preset, seeds 1-5: C1 (CNN+GRU beats
# the three baselines), C2 (alerts precede events), C3 (removing the GRU
# lowers AUROC), C4 (the null market stays at chance).
exec bash "$DYNLAB_SOURCE_DIR/tests/system_seeds.sh" sentiment C1,C2,C3,C4 roc alerts_on_price
