#include "reweight/reweight.h"
int rw_lm_run(const rw_cfg *cfg, dl_run *run, int untrained) { (void)cfg; (void)run; (void)untrained; return 0; }
