#!/bin/bash
# rtdetr (arXiv 2501.16469 on RT-DETR, arXiv 2304.08069): quick preset, seeds
# 1-5, every claim C1-C5 passes and every plot is written.
set -u
exec bash "$DYNLAB_SOURCE_DIR/tests/system_seeds.sh" rtdetr C1,C2,C3,C4,C5 training_loss ap_vs_step ap_by_lesion_size
