/* Umbrella header. */
#ifndef DYNLAB_H
#define DYNLAB_H
#include "dynlab/rng.h"
#include "dynlab/core.h"
#include "dynlab/gemm.h"
#include "dynlab/conv.h"
#include "dynlab/nn.h"
#include "dynlab/rnn.h"
#include "dynlab/losses.h"
#include "dynlab/optim.h"
#include "dynlab/config.h"
#include "dynlab/run.h"
#include "dynlab/plot.h"
#include "dynlab/checkpoint.h"
#include "dynlab/data.h"
#include "dynlab/experiment.h"
#endif
