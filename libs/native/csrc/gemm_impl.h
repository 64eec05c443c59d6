// The GEMM itself, compiled once per instruction set: each gemm_<isa>.cc defines GEMM_NAME (the
// function), GEMM_VEC (floats per vector register) and GEMM_MR (rows of the register tile), and is
// compiled with that ISA's flags. Goto/BLIS structure: B is packed in KC x NR panels, A in MC x KC
// blocks of MR-row panels, and an MR x (2 * GEMM_VEC) register tile accumulates over KC.
#include <algorithm>
#include <cstring>
#include <vector>

#include "gemm.h"

namespace {

constexpr int VEC = GEMM_VEC;
constexpr int MR = GEMM_MR;
constexpr int NR = 2 * VEC;
constexpr long KC = 256;
constexpr long MC = MR * 16;
constexpr long NC = 1024;

typedef float vf __attribute__((vector_size(VEC * sizeof(float))));

inline vf load(const float* p) {
  vf v;
  std::memcpy(&v, p, sizeof v);
  return v;
}

inline void store(float* p, vf v) { std::memcpy(p, &v, sizeof v); }

// C (mr x nr, mr <= MR, nr <= NR) (+)= Ap (kc panels of MR) * Bp (kc panels of NR).
void micro(long kc, const float* __restrict Ap, const float* __restrict Bp, float* C, long ldc, int mr, int nr,
           bool accumulate) {
  vf acc[MR][2];
#pragma GCC unroll 32
  for (int r = 0; r < MR; r++) acc[r][0] = acc[r][1] = vf{};
  for (long k = 0; k < kc; k++) {
    const vf b0 = load(Bp);
    const vf b1 = load(Bp + VEC);
#pragma GCC unroll 32
    for (int r = 0; r < MR; r++) {
      const vf a = vf{} + Ap[r];
      acc[r][0] += a * b0;
      acc[r][1] += a * b1;
    }
    Ap += MR;
    Bp += NR;
  }
  if (mr == MR && nr == NR) {
#pragma GCC unroll 32
    for (int r = 0; r < MR; r++) {
      float* c = C + r * ldc;
      if (accumulate) {
        store(c, load(c) + acc[r][0]);
        store(c + VEC, load(c + VEC) + acc[r][1]);
      } else {
        store(c, acc[r][0]);
        store(c + VEC, acc[r][1]);
      }
    }
    return;
  }
  alignas(64) float tile[MR * NR];
  for (int r = 0; r < MR; r++) {
    store(tile + r * NR, acc[r][0]);
    store(tile + r * NR + VEC, acc[r][1]);
  }
  for (int r = 0; r < mr; r++) {
    float* c = C + r * ldc;
    const float* t = tile + r * NR;
    if (accumulate)
      for (int j = 0; j < nr; j++) c[j] += t[j];
    else
      for (int j = 0; j < nr; j++) c[j] = t[j];
  }
}

// Rows [i0, i0 + mc) and depth [k0, k0 + kc) of op(A) into MR-row panels, zero-padded.
void packA(bool trans, const float* A, long lda, long i0, long mc, long k0, long kc, float* out) {
  for (long p = 0; p < mc; p += MR) {
    const int rows = static_cast<int>(std::min<long>(MR, mc - p));
    float* dst = out + p * kc;
    if (!trans) {
      for (int r = 0; r < rows; r++) {
        const float* src = A + (i0 + p + r) * lda + k0;
        for (long k = 0; k < kc; k++) dst[k * MR + r] = src[k];
      }
      for (int r = rows; r < MR; r++)
        for (long k = 0; k < kc; k++) dst[k * MR + r] = 0.f;
    } else {
      for (long k = 0; k < kc; k++) {
        const float* src = A + (k0 + k) * lda + i0 + p;
        float* d = dst + k * MR;
        int r = 0;
        for (; r < rows; r++) d[r] = src[r];
        for (; r < MR; r++) d[r] = 0.f;
      }
    }
  }
}

// Depth [k0, k0 + kc) and columns [j0, j0 + nc) of op(B) into NR-column panels, zero-padded.
void packB(bool trans, const float* B, long ldb, long k0, long kc, long j0, long nc, float* out) {
  for (long q = 0; q < nc; q += NR) {
    const int cols = static_cast<int>(std::min<long>(NR, nc - q));
    float* dst = out + q * kc;
    if (!trans) {
      for (long k = 0; k < kc; k++) {
        const float* src = B + (k0 + k) * ldb + j0 + q;
        float* d = dst + k * NR;
        int j = 0;
        for (; j < cols; j++) d[j] = src[j];
        for (; j < NR; j++) d[j] = 0.f;
      }
    } else {
      for (int j = 0; j < cols; j++) {
        const float* src = B + (j0 + q + j) * ldb + k0;
        for (long k = 0; k < kc; k++) dst[k * NR + j] = src[k];
      }
      for (int j = cols; j < NR; j++)
        for (long k = 0; k < kc; k++) dst[k * NR + j] = 0.f;
    }
  }
}

long roundUp(long n, long m) { return (n + m - 1) / m * m; }

}  // namespace

namespace s2g {

void GEMM_NAME(bool transA, bool transB, long M, long N, long K, const float* A, long lda, const float* B, long ldb,
               float* C, long ldc, bool accumulate) {
  if (M <= 0 || N <= 0) return;
  if (K <= 0) {
    if (!accumulate)
      for (long i = 0; i < M; i++) std::fill(C + i * ldc, C + i * ldc + N, 0.f);
    return;
  }
  thread_local std::vector<float> bufA, bufB;
  bufA.resize(static_cast<size_t>(roundUp(std::min(MC, roundUp(M, MR)), MR) * KC));
  bufB.resize(static_cast<size_t>(roundUp(std::min(NC, N), NR) * KC));
  for (long j0 = 0; j0 < N; j0 += NC) {
    const long nc = std::min(NC, N - j0);
    for (long k0 = 0; k0 < K; k0 += KC) {
      const long kc = std::min(KC, K - k0);
      const bool acc = accumulate || k0 > 0;
      packB(transB, B, ldb, k0, kc, j0, nc, bufB.data());
      for (long i0 = 0; i0 < M; i0 += MC) {
        const long mc = std::min(MC, M - i0);
        packA(transA, A, lda, i0, mc, k0, kc, bufA.data());
        for (long q = 0; q < nc; q += NR) {
          const int nr = static_cast<int>(std::min<long>(NR, nc - q));
          for (long p = 0; p < mc; p += MR) {
            const int mr = static_cast<int>(std::min<long>(MR, mc - p));
            micro(kc, bufA.data() + p * kc, bufB.data() + q * kc, C + (i0 + p) * ldc + j0 + q, ldc, mr, nr, acc);
          }
        }
      }
    }
  }
}

}  // namespace s2g
