// Compiled with -mavx2 -mfma: 8-float vectors, 6 x 16 tile (12 accumulators of 16 registers).
#define GEMM_NAME sgemm_avx2
#define GEMM_VEC 8
#define GEMM_MR 6
#include "gemm_impl.h"
