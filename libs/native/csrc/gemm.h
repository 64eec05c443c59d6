// Single-precision GEMM, row-major: C (M x N) = op(A) (M x K) * op(B) (K x N), or C += it.
// op(A)(i, k) is A[i * lda + k], or A[k * lda + i] when transA; op(B)(k, j) is B[k * ldb + j], or
// B[j * ldb + k] when transB. One implementation per instruction set (gemm_impl.h), chosen at load.
#pragma once

namespace s2g {

using SgemmFn = void (*)(bool transA, bool transB, long M, long N, long K, const float* A, long lda, const float* B,
                         long ldb, float* C, long ldc, bool accumulate);

void sgemm_generic(bool, bool, long, long, long, const float*, long, const float*, long, float*, long, bool);
void sgemm_avx2(bool, bool, long, long, long, const float*, long, const float*, long, float*, long, bool);
void sgemm_avx512(bool, bool, long, long, long, const float*, long, const float*, long, float*, long, bool);

}  // namespace s2g
