// Compiled with -mavx512f: 16-float vectors, 12 x 32 tile (24 accumulators of 32 registers).
#define GEMM_NAME sgemm_avx512
#define GEMM_VEC 16
#define GEMM_MR 12
#include "gemm_impl.h"
