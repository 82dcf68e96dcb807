#!/bin/bash
# diffusion: untrained control (denoisers and GPT evaluator untrained): every
# learned claim (C6) must fail.
exec bash "$DYNLAB_SOURCE_DIR/tests/system_control.sh" diffusion
