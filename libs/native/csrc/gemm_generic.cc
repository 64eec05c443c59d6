// Portable build: 4-float vectors (SSE2 on x86-64, NEON on arm64), 6-row tile.
#define GEMM_NAME sgemm_generic
#define GEMM_VEC 4
#define GEMM_MR 6
#include "gemm_impl.h"
