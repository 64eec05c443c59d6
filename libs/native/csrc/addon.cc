// N-API addon: threaded SGEMM-based convolution kernels over caller-owned Float32Arrays (for the wasm
// tensor backend these are views of the wasm heap, so nothing is copied in or out).
//
// Layouts are TensorFlow's: activations NHWC, filters (kh, kw, Ci, Co). Convolution geometry is an
// Int32Array: batch, inH, inW, inC, outH, outW, outC, kh, kw, strideH, strideW, padTop, padLeft,
// dilationH, dilationW.
#include <node_api.h>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <condition_variable>
#include <cstring>
#include <functional>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "gemm.h"

namespace s2g {
namespace {

// ---------------------------------------------------------------------------------------------
// Thread pool: run(f) calls f(t) once for every t in [0, size), t = 0 on the calling thread.

class Pool {
 public:
  explicit Pool(int n) : n_(std::max(1, n)) {
    for (int t = 1; t < n_; t++) workers_.emplace_back([this, t] { loop(t); });
  }
  ~Pool() {
    {
      std::lock_guard<std::mutex> lk(m_);
      stop_ = true;
      generation_++;
    }
    wake_.notify_all();
    for (auto& w : workers_) w.join();
  }
  int size() const { return n_; }
  void run(const std::function<void(int)>& f) {
    if (n_ == 1) {
      f(0);
      return;
    }
    std::lock_guard<std::mutex> serial(runMutex_);
    {
      std::lock_guard<std::mutex> lk(m_);
      task_ = &f;
      pending_ = n_ - 1;
      generation_++;
    }
    wake_.notify_all();
    f(0);
    std::unique_lock<std::mutex> lk(m_);
    done_.wait(lk, [this] { return pending_ == 0; });
  }

 private:
  void loop(int t) {
    unsigned long seen = 0;
    std::unique_lock<std::mutex> lk(m_);
    for (;;) {
      wake_.wait(lk, [&] { return generation_ != seen; });
      seen = generation_;
      if (stop_) return;
      const std::function<void(int)>* f = task_;
      lk.unlock();
      (*f)(t);
      lk.lock();
      if (--pending_ == 0) done_.notify_one();
    }
  }
  int n_;
  std::vector<std::thread> workers_;
  std::mutex m_, runMutex_;
  std::condition_variable wake_, done_;
  const std::function<void(int)>* task_ = nullptr;
  unsigned long generation_ = 0;
  int pending_ = 0;
  bool stop_ = false;
};

// The pool is process-wide, shared by every Node environment (main thread and workers) that loads the
// addon; poolMutex serialises its use against replacement (setThreads) and the last environment's exit.
Pool* pool = nullptr;
std::mutex poolMutex;
int environments = 0;
SgemmFn sgemm = sgemm_generic;
std::string isa = "generic";

int threadCount() { return pool ? pool->size() : 1; }

// Splits [0, n) into at most threadCount() contiguous ranges of at least `grain` items.
void parallelRanges(long n, long grain, const std::function<void(long, long, int)>& f) {
  std::lock_guard<std::mutex> lock(poolMutex);
  const long parts = std::max(1L, std::min<long>(threadCount(), n / std::max(1L, grain)));
  if (parts == 1 || !pool) {
    f(0, n, 0);
    return;
  }
  pool->run([&](int t) {
    if (t >= parts) return;
    const long begin = n * t / parts, end = n * (t + 1) / parts;
    if (begin < end) f(begin, end, t);
  });
}

// ---------------------------------------------------------------------------------------------
// Convolution geometry and im2col.

struct Geometry {
  long batch, inH, inW, inC, outH, outW, outC, kh, kw, sh, sw, padTop, padLeft, dh, dw;
  long rows() const { return batch * outH * outW; }
  long depth() const { return kh * kw * inC; }
  // A 1x1, stride-1 convolution whose output is its input's size: x itself is the im2col matrix.
  bool pointwise() const {
    return kh == 1 && kw == 1 && sh == 1 && sw == 1 && padTop == 0 && padLeft == 0 && outH == inH && outW == inW;
  }
};

// Rows [n0, n0 + count) of im2col(x): each row is the (kh, kw, Ci) patch of one output pixel.
void im2col(const Geometry& g, const float* x, long n0, long count, float* cols) {
  const long depth = g.depth();
  for (long r = 0; r < count; r++) {
    const long n = n0 + r;
    const long ow = n % g.outW, oh = (n / g.outW) % g.outH, b = n / (g.outW * g.outH);
    float* dst = cols + r * depth;
    for (long i = 0; i < g.kh; i++) {
      const long ih = oh * g.sh - g.padTop + i * g.dh;
      for (long j = 0; j < g.kw; j++, dst += g.inC) {
        const long iw = ow * g.sw - g.padLeft + j * g.dw;
        if (ih >= 0 && ih < g.inH && iw >= 0 && iw < g.inW)
          std::memcpy(dst, x + ((b * g.inH + ih) * g.inW + iw) * g.inC, g.inC * sizeof(float));
        else
          std::memset(dst, 0, g.inC * sizeof(float));
      }
    }
  }
}

// dx += col2im(dcols) for rows [n0, n0 + count).
void col2im(const Geometry& g, const float* dcols, long n0, long count, float* dx) {
  const long depth = g.depth();
  for (long r = 0; r < count; r++) {
    const long n = n0 + r;
    const long ow = n % g.outW, oh = (n / g.outW) % g.outH, b = n / (g.outW * g.outH);
    const float* src = dcols + r * depth;
    for (long i = 0; i < g.kh; i++) {
      const long ih = oh * g.sh - g.padTop + i * g.dh;
      for (long j = 0; j < g.kw; j++, src += g.inC) {
        const long iw = ow * g.sw - g.padLeft + j * g.dw;
        if (ih < 0 || ih >= g.inH || iw < 0 || iw >= g.inW) continue;
        float* d = dx + ((b * g.inH + ih) * g.inW + iw) * g.inC;
        for (long c = 0; c < g.inC; c++) d[c] += src[c];
      }
    }
  }
}

// Output rows per im2col chunk: about 2 MB of patches, a multiple of 16 rows.
long chunkRows(long depth) { return std::max(16L, (1L << 19) / std::max(1L, depth) / 16 * 16); }

enum Activation { LINEAR = 0, RELU = 1, LEAKY_RELU = 2 };

void conv2d(const Geometry& g, const float* x, const float* w, const float* bias, long biasSize, float* out, int act,
            float alpha) {
  const long depth = g.depth(), co = g.outC;
  parallelRanges(g.rows(), 16, [&](long begin, long end, int) {
    thread_local std::vector<float> cols;
    const long chunk = chunkRows(depth);
    for (long n0 = begin; n0 < end; n0 += chunk) {
      const long count = std::min(chunk, end - n0);
      const float* a = x + n0 * g.inC;
      if (!g.pointwise()) {
        cols.resize(static_cast<size_t>(count * depth));
        im2col(g, x, n0, count, cols.data());
        a = cols.data();
      }
      float* c = out + n0 * co;
      sgemm(false, false, count, co, depth, a, depth, w, co, c, co, false);
      if (bias || act != LINEAR) {
        for (long r = 0; r < count; r++) {
          float* row = c + r * co;
          if (bias) {
            if (biasSize == 1)
              for (long k = 0; k < co; k++) row[k] += bias[0];
            else
              for (long k = 0; k < co; k++) row[k] += bias[k];
          }
          if (act == RELU)
            for (long k = 0; k < co; k++) row[k] = row[k] > 0.f ? row[k] : 0.f;
          else if (act == LEAKY_RELU)
            for (long k = 0; k < co; k++) row[k] = row[k] > 0.f ? row[k] : alpha * row[k];
        }
      }
    }
  });
}

// dx = col2im(dy W^T). Threads take whole images so their scatter-adds never overlap.
void conv2dBackpropInput(const Geometry& g, const float* dy, const float* w, float* dx) {
  const long depth = g.depth(), co = g.outC, pixelsOut = g.outH * g.outW, pixelsIn = g.inH * g.inW;
  parallelRanges(g.batch, 1, [&](long b0, long b1, int) {
    std::memset(dx + b0 * pixelsIn * g.inC, 0, (b1 - b0) * pixelsIn * g.inC * sizeof(float));
    thread_local std::vector<float> dcols;
    const long chunk = chunkRows(depth);
    for (long n0 = b0 * pixelsOut; n0 < b1 * pixelsOut; n0 += chunk) {
      const long count = std::min(chunk, b1 * pixelsOut - n0);
      if (g.pointwise()) {
        sgemm(false, true, count, depth, co, dy + n0 * co, co, w, co, dx + n0 * g.inC, g.inC, false);
        continue;
      }
      dcols.resize(static_cast<size_t>(count * depth));
      sgemm(false, true, count, depth, co, dy + n0 * co, co, w, co, dcols.data(), depth, false);
      col2im(g, dcols.data(), n0, count, dx);
    }
  });
}

// dW (depth x Co) = im2col(x)^T dy. Threads take row ranges into private partial sums, added at the end.
void conv2dBackpropFilter(const Geometry& g, const float* x, const float* dy, float* dw) {
  const long depth = g.depth(), co = g.outC;
  const long size = depth * co;
  if (g.rows() == 0) {
    std::memset(dw, 0, size * sizeof(float));
    return;
  }
  std::vector<std::vector<float>> partial(static_cast<size_t>(threadCount()));
  std::vector<char> used(static_cast<size_t>(threadCount()), 0);
  parallelRanges(g.rows(), 64, [&](long begin, long end, int t) {
    float* target = dw;
    if (t > 0) {
      partial[t].resize(static_cast<size_t>(size));
      target = partial[t].data();
    }
    used[t] = 1;
    thread_local std::vector<float> cols;
    const long chunk = chunkRows(depth);
    for (long n0 = begin; n0 < end; n0 += chunk) {
      const long count = std::min(chunk, end - n0);
      const float* a = x + n0 * g.inC;
      if (!g.pointwise()) {
        cols.resize(static_cast<size_t>(count * depth));
        im2col(g, x, n0, count, cols.data());
        a = cols.data();
      }
      sgemm(true, false, depth, co, count, a, depth, dy + n0 * co, co, target, co, n0 > begin);
    }
  });
  if (!used[0]) std::memset(dw, 0, size * sizeof(float));
  for (size_t t = 1; t < partial.size(); t++) {
    if (!used[t]) continue;
    const float* p = partial[t].data();
    for (long i = 0; i < size; i++) dw[i] += p[i];
  }
}

// ---------------------------------------------------------------------------------------------
// N-API glue.

bool fail(napi_env env, const std::string& message) {
  napi_throw_type_error(env, "S2G_NATIVE_ARGS", message.c_str());
  return false;
}

bool floats(napi_env env, napi_value v, float** data, size_t* length, const char* name) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  if (!is) return fail(env, std::string(name) + " must be a Float32Array");
  napi_typedarray_type type;
  napi_value buffer;
  size_t offset;
  void* raw;
  napi_get_typedarray_info(env, v, &type, length, &raw, &buffer, &offset);
  if (type != napi_float32_array) return fail(env, std::string(name) + " must be a Float32Array");
  *data = static_cast<float*>(raw);
  return true;
}

bool ints(napi_env env, napi_value v, std::vector<long>* out, size_t expected, const char* name) {
  bool is = false;
  napi_is_typedarray(env, v, &is);
  napi_typedarray_type type = napi_int8_array;
  size_t length = 0;
  void* raw = nullptr;
  if (is) {
    napi_value buffer;
    size_t offset;
    napi_get_typedarray_info(env, v, &type, &length, &raw, &buffer, &offset);
  }
  if (!is || type != napi_int32_array || length != expected)
    return fail(env, std::string(name) + " must be an Int32Array of " + std::to_string(expected));
  const int32_t* p = static_cast<const int32_t*>(raw);
  out->assign(p, p + length);
  return true;
}

bool args(napi_env env, napi_callback_info info, size_t expected, napi_value* argv) {
  size_t argc = expected;
  napi_get_cb_info(env, info, &argc, argv, nullptr, nullptr);
  if (argc < expected) return fail(env, "expected " + std::to_string(expected) + " arguments");
  return true;
}

bool number(napi_env env, napi_value v, double* out, const char* name) {
  if (napi_get_value_double(env, v, out) != napi_ok) return fail(env, std::string(name) + " must be a number");
  return true;
}

bool boolean(napi_env env, napi_value v, bool* out, const char* name) {
  if (napi_get_value_bool(env, v, out) != napi_ok) return fail(env, std::string(name) + " must be a boolean");
  return true;
}

bool geometry(napi_env env, napi_value v, Geometry* g) {
  std::vector<long> d;
  if (!ints(env, v, &d, 15, "geometry")) return false;
  *g = Geometry{d[0], d[1], d[2], d[3], d[4], d[5], d[6], d[7], d[8], d[9], d[10], d[11], d[12], d[13], d[14]};
  for (long value : d)
    if (value < 0) return fail(env, "geometry values must not be negative");
  return true;
}

bool sized(napi_env env, size_t have, long want, const char* name) {
  if (static_cast<long>(have) < want)
    return fail(env, std::string(name) + " has " + std::to_string(have) + " values, needs " + std::to_string(want));
  return true;
}

napi_value undefinedValue(napi_env env) {
  napi_value u;
  napi_get_undefined(env, &u);
  return u;
}

// What a convolution operand holds: its input activation, its output activation, or its filter.
enum Operand { ACTIVATION_IN, ACTIVATION_OUT, FILTER };

long valuesOf(const Geometry& g, Operand o) {
  return o == ACTIVATION_IN ? g.batch * g.inH * g.inW * g.inC : o == ACTIVATION_OUT ? g.rows() * g.outC : g.depth() * g.outC;
}

// conv2d(x, filter, bias | null, out, geometry, activation, alpha)
napi_value Conv2d(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  if (!args(env, info, 7, argv)) return nullptr;
  float *x, *w, *out, *bias = nullptr;
  size_t nx, nw, nout, nbias = 0;
  Geometry g;
  if (!floats(env, argv[0], &x, &nx, "x") || !floats(env, argv[1], &w, &nw, "filter") ||
      !floats(env, argv[3], &out, &nout, "out") || !geometry(env, argv[4], &g))
    return nullptr;
  napi_valuetype biasType;
  napi_typeof(env, argv[2], &biasType);
  if (biasType != napi_null && biasType != napi_undefined && !floats(env, argv[2], &bias, &nbias, "bias")) return nullptr;
  if (bias && nbias != 1 && static_cast<long>(nbias) != g.outC) return fail(env, "bias must hold 1 or outC values"), nullptr;
  double act, alpha;
  if (!number(env, argv[5], &act, "activation") || !number(env, argv[6], &alpha, "alpha")) return nullptr;
  if (act != LINEAR && act != RELU && act != LEAKY_RELU) return fail(env, "activation must be 0 (linear), 1 (relu) or 2 (leaky relu)"), nullptr;
  if (!sized(env, nx, valuesOf(g, ACTIVATION_IN), "x") || !sized(env, nw, valuesOf(g, FILTER), "filter") ||
      !sized(env, nout, valuesOf(g, ACTIVATION_OUT), "out"))
    return nullptr;
  conv2d(g, x, w, bias, static_cast<long>(nbias), out, static_cast<int>(act), static_cast<float>(alpha));
  return undefinedValue(env);
}

// (a, b, c, geometry): three Float32Arrays, each at least as long as its operand needs.
bool convOperands(napi_env env, napi_callback_info info, const char* const names[3], const Operand roles[3], float* p[3],
                  Geometry* g) {
  napi_value argv[4];
  size_t n[3];
  if (!args(env, info, 4, argv) || !geometry(env, argv[3], g)) return false;
  for (int i = 0; i < 3; i++)
    if (!floats(env, argv[i], &p[i], &n[i], names[i]) || !sized(env, n[i], valuesOf(*g, roles[i]), names[i])) return false;
  return true;
}

// conv2dBackpropInput(dy, filter, dx, geometry)
napi_value Conv2dBackpropInput(napi_env env, napi_callback_info info) {
  static const char* const names[3] = {"dy", "filter", "dx"};
  static const Operand roles[3] = {ACTIVATION_OUT, FILTER, ACTIVATION_IN};
  float* p[3];
  Geometry g;
  if (!convOperands(env, info, names, roles, p, &g)) return nullptr;
  conv2dBackpropInput(g, p[0], p[1], p[2]);
  return undefinedValue(env);
}

// conv2dBackpropFilter(x, dy, dw, geometry)
napi_value Conv2dBackpropFilter(napi_env env, napi_callback_info info) {
  static const char* const names[3] = {"x", "dy", "dw"};
  static const Operand roles[3] = {ACTIVATION_IN, ACTIVATION_OUT, FILTER};
  float* p[3];
  Geometry g;
  if (!convOperands(env, info, names, roles, p, &g)) return nullptr;
  conv2dBackpropFilter(g, p[0], p[1], p[2]);
  return undefinedValue(env);
}

// matmul(a, b, out, dims): dims = batch, M, N, K, transA, transB, aBatchStride, bBatchStride.
napi_value Matmul(napi_env env, napi_callback_info info) {
  napi_value argv[4];
  if (!args(env, info, 4, argv)) return nullptr;
  float *a, *b, *out;
  size_t na, nb, nout;
  std::vector<long> d;
  if (!floats(env, argv[0], &a, &na, "a") || !floats(env, argv[1], &b, &nb, "b") ||
      !floats(env, argv[2], &out, &nout, "out") || !ints(env, argv[3], &d, 8, "dims"))
    return nullptr;
  const long batch = d[0], M = d[1], N = d[2], K = d[3], sa = d[6], sb = d[7];
  const bool ta = d[4] != 0, tb = d[5] != 0;
  if (batch < 0 || M < 0 || N < 0 || K < 0 || sa < 0 || sb < 0) return fail(env, "dims must not be negative"), nullptr;
  if (!sized(env, na, (batch - 1) * sa + M * K, "a") || !sized(env, nb, (batch - 1) * sb + K * N, "b") ||
      !sized(env, nout, batch * M * N, "out"))
    return nullptr;
  const long lda = ta ? M : K, ldb = tb ? K : N;
  // Work items are (matrix, row block) pairs so both one large product and many small ones spread.
  const long blocks = std::max(1L, std::min<long>(threadCount(), M / 32));
  parallelRanges(batch * blocks, 1, [&](long begin, long end, int) {
    for (long item = begin; item < end; item++) {
      const long m = item / blocks, blk = item % blocks;
      const long i0 = M * blk / blocks, i1 = M * (blk + 1) / blocks;
      const float* ab = a + m * sa + (ta ? i0 : i0 * lda);
      sgemm(ta, tb, i1 - i0, N, K, ab, lda, b + m * sb, ldb, out + m * M * N + i0 * N, N, false);
    }
  });
  return undefinedValue(env);
}

// channelSum(x, out): out[c] = sum of x[i * C + c] over i, accumulated in double; C = out.length.
napi_value ChannelSum(napi_env env, napi_callback_info info) {
  napi_value argv[2];
  if (!args(env, info, 2, argv)) return nullptr;
  float *x, *out;
  size_t nx, c;
  if (!floats(env, argv[0], &x, &nx, "x") || !floats(env, argv[1], &out, &c, "out")) return nullptr;
  if (c == 0 || nx % c != 0) return fail(env, "x.length must be a multiple of out.length"), nullptr;
  const long rows = static_cast<long>(nx / c);
  std::vector<std::vector<double>> partial(static_cast<size_t>(threadCount()), std::vector<double>(c, 0.0));
  parallelRanges(rows, 1024, [&](long begin, long end, int t) {
    double* acc = partial[t].data();
    for (long i = begin; i < end; i++) {
      const float* row = x + i * static_cast<long>(c);
      for (size_t k = 0; k < c; k++) acc[k] += row[k];
    }
  });
  for (size_t k = 0; k < c; k++) {
    double s = 0;
    for (auto& p : partial) s += p[k];
    out[k] = static_cast<float>(s);
  }
  return undefinedValue(env);
}

// Per-channel sums of `terms(row, c)` over rows [0, rows), accumulated in double per thread.
template <typename F>
void channelSums(long rows, long C, std::vector<double>& out, F terms) {
  std::vector<std::vector<double>> partial(static_cast<size_t>(threadCount()));
  parallelRanges(rows, 256, [&](long begin, long end, int t) {
    std::vector<double>& acc = partial[t];
    acc.assign(static_cast<size_t>(C), 0.0);
    for (long i = begin; i < end; i++) terms(i, acc.data());
  });
  out.assign(static_cast<size_t>(C), 0.0);
  for (auto& p : partial)
    if (!p.empty())
      for (long c = 0; c < C; c++) out[c] += p[c];
}

// BatchNorm with batch statistics, then LeakyReLU (or nothing), for training:
//   mean, variance (biased) per channel; rstd = 1 / sqrt(variance + epsilon);
//   xhat = (z - mean) * rstd;  pre = gamma * xhat + beta;  y = pre > 0 ? pre : alpha * pre (if leaky)
void batchNormForward(const float* z, const float* gamma, const float* beta, float* xhat, float* y, float* mean,
                      float* variance, float* rstd, long rows, long C, float epsilon, bool leaky, float alpha) {
  std::vector<double> sums;
  channelSums(rows, C, sums, [&](long i, double* acc) {
    const float* row = z + i * C;
    for (long c = 0; c < C; c++) acc[c] += row[c];
  });
  const float n = static_cast<float>(rows);
  for (long c = 0; c < C; c++) mean[c] = static_cast<float>(sums[c]) / n;
  channelSums(rows, C, sums, [&](long i, double* acc) {
    const float* row = z + i * C;
    for (long c = 0; c < C; c++) {
      const float d = row[c] - mean[c];
      acc[c] += d * d;
    }
  });
  for (long c = 0; c < C; c++) {
    variance[c] = static_cast<float>(sums[c]) / n;
    rstd[c] = 1.f / std::sqrt(variance[c] + epsilon);
  }
  parallelRanges(rows, 256, [&](long begin, long end, int) {
    for (long i = begin; i < end; i++) {
      const float* zr = z + i * C;
      float* xr = xhat + i * C;
      float* yr = y + i * C;
      for (long c = 0; c < C; c++) {
        const float xh = (zr[c] - mean[c]) * rstd[c];
        const float pre = xh * gamma[c] + beta[c];
        xr[c] = xh;
        yr[c] = leaky && !(pre > 0.f) ? alpha * pre : pre;
      }
    }
  });
}

// Its gradient: dpre = dy * (y > 0 ? 1 : alpha) (if leaky); dbeta = sum(dpre); dgamma = sum(dpre * xhat);
//   dz = gamma * rstd * (dpre - dbeta / n - xhat * dgamma / n);  dbias = sum(dz).
void batchNormBackward(const float* dy, const float* y, const float* xhat, const float* gamma, const float* rstd,
                       float* dz, float* dbias, float* dgamma, float* dbeta, long rows, long C, bool leaky,
                       float alpha) {
  auto slope = [&](float yv) { return leaky && !(yv > 0.f) ? alpha : 1.f; };
  std::vector<double> sums;
  // dbeta and dgamma in one pass: columns [0, C) and [C, 2C).
  channelSums(rows, 2 * C, sums, [&](long i, double* acc) {
    const float* dyr = dy + i * C;
    const float* yr = y + i * C;
    const float* xr = xhat + i * C;
    for (long c = 0; c < C; c++) {
      const float d = dyr[c] * slope(yr[c]);
      acc[c] += d;
      acc[C + c] += d * xr[c];
    }
  });
  const float n = static_cast<float>(rows);
  std::vector<float> meanDpre(static_cast<size_t>(C)), meanDgamma(static_cast<size_t>(C)), scale(static_cast<size_t>(C));
  for (long c = 0; c < C; c++) {
    dbeta[c] = static_cast<float>(sums[c]);
    dgamma[c] = static_cast<float>(sums[C + c]);
    meanDpre[c] = dbeta[c] / n;
    meanDgamma[c] = dgamma[c] / n;
    scale[c] = rstd[c] * gamma[c];
  }
  channelSums(rows, C, sums, [&](long i, double* acc) {
    const float* dyr = dy + i * C;
    const float* yr = y + i * C;
    const float* xr = xhat + i * C;
    float* dr = dz + i * C;
    for (long c = 0; c < C; c++) {
      const float d = dyr[c] * slope(yr[c]);
      const float v = (d - meanDpre[c] - xr[c] * meanDgamma[c]) * scale[c];
      dr[c] = v;
      acc[c] += v;
    }
  });
  for (long c = 0; c < C; c++) dbias[c] = static_cast<float>(sums[c]);
}

bool floatArgs(napi_env env, napi_value* argv, const char* const* names, int count, float** data, size_t* lengths) {
  for (int i = 0; i < count; i++)
    if (!floats(env, argv[i], &data[i], &lengths[i], names[i])) return false;
  return true;
}

// batchNormForward(z, gamma, beta, xhat, y, mean, variance, rstd, epsilon, leaky, alpha); C = gamma.length.
napi_value BatchNormForward(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (!args(env, info, 11, argv)) return nullptr;
  static const char* const names[] = {"z", "gamma", "beta", "xhat", "y", "mean", "variance", "rstd"};
  float* p[8];
  size_t n[8];
  if (!floatArgs(env, argv, names, 8, p, n)) return nullptr;
  const size_t C = n[1];
  if (C == 0 || n[0] % C != 0) return fail(env, "z.length must be a multiple of gamma.length"), nullptr;
  for (int i : {2, 5, 6, 7})
    if (n[i] != C) return fail(env, std::string(names[i]) + " must hold one value per channel"), nullptr;
  for (int i : {3, 4})
    if (n[i] != n[0]) return fail(env, std::string(names[i]) + " must be as long as z"), nullptr;
  double epsilon, alpha;
  bool leaky;
  if (!number(env, argv[8], &epsilon, "epsilon") || !boolean(env, argv[9], &leaky, "leaky") || !number(env, argv[10], &alpha, "alpha"))
    return nullptr;
  batchNormForward(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], static_cast<long>(n[0] / C), static_cast<long>(C),
                   static_cast<float>(epsilon), leaky, static_cast<float>(alpha));
  return undefinedValue(env);
}

// batchNormBackward(dy, y, xhat, gamma, rstd, dz, dbias, dgamma, dbeta, leaky, alpha); C = gamma.length.
napi_value BatchNormBackward(napi_env env, napi_callback_info info) {
  napi_value argv[11];
  if (!args(env, info, 11, argv)) return nullptr;
  static const char* const names[] = {"dy", "y", "xhat", "gamma", "rstd", "dz", "dbias", "dgamma", "dbeta"};
  float* p[9];
  size_t n[9];
  if (!floatArgs(env, argv, names, 9, p, n)) return nullptr;
  const size_t C = n[3];
  if (C == 0 || n[0] % C != 0) return fail(env, "dy.length must be a multiple of gamma.length"), nullptr;
  for (int i : {4, 6, 7, 8})
    if (n[i] != C) return fail(env, std::string(names[i]) + " must hold one value per channel"), nullptr;
  for (int i : {1, 2, 5})
    if (n[i] != n[0]) return fail(env, std::string(names[i]) + " must be as long as dy"), nullptr;
  bool leaky;
  double alpha;
  if (!boolean(env, argv[9], &leaky, "leaky") || !number(env, argv[10], &alpha, "alpha")) return nullptr;
  batchNormBackward(p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7], p[8], static_cast<long>(n[0] / C),
                    static_cast<long>(C), leaky, static_cast<float>(alpha));
  return undefinedValue(env);
}

// setThreads(n): restarts the pool with n threads (n >= 1).
napi_value SetThreads(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args(env, info, 1, argv)) return nullptr;
  double requested = 0;
  if (!number(env, argv[0], &requested, "threads")) return nullptr;
  const int n = requested >= 1 && requested <= 256 ? static_cast<int>(requested) : 0;
  if (n != requested || n < 1 || n > 256) return fail(env, "threads must be between 1 and 256"), nullptr;
  std::lock_guard<std::mutex> lock(poolMutex);
  if (threadCount() == n && pool) return undefinedValue(env);
  delete pool;
  pool = new Pool(n);
  return undefinedValue(env);
}

// setIsa(name): 'avx512', 'avx2' or 'generic'; false when this CPU lacks it.
napi_value SetIsa(napi_env env, napi_callback_info info) {
  napi_value argv[1];
  if (!args(env, info, 1, argv)) return nullptr;
  char name[32] = {0};
  size_t len = 0;
  napi_get_value_string_utf8(env, argv[0], name, sizeof name, &len);
  const std::string want(name, len);
  bool ok = true;
#if defined(__x86_64__)
  __builtin_cpu_init();
  const bool hasAvx2 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  const bool hasAvx512 = __builtin_cpu_supports("avx512f");
#else
  const bool hasAvx2 = false, hasAvx512 = false;
#endif
  if (want == "generic") {
    sgemm = sgemm_generic;
#if defined(__x86_64__)
  } else if (want == "avx512" && hasAvx512) {
    sgemm = sgemm_avx512;
  } else if (want == "avx2" && hasAvx2) {
    sgemm = sgemm_avx2;
#else
    (void)hasAvx2;
    (void)hasAvx512;
#endif
  } else {
    ok = false;
  }
  if (ok) isa = want;
  napi_value result;
  napi_get_boolean(env, ok, &result);
  return result;
}

// info(): { isa, threads }
napi_value Info(napi_env env, napi_callback_info) {
  napi_value obj, isaValue, threads;
  napi_create_object(env, &obj);
  napi_create_string_utf8(env, isa.c_str(), isa.size(), &isaValue);
  napi_create_int32(env, threadCount(), &threads);
  napi_set_named_property(env, obj, "isa", isaValue);
  napi_set_named_property(env, obj, "threads", threads);
  return obj;
}

// Measured on AMD EPYC (Zen 4): avx512 about 1.25x avx2, avx2 about 2.7x generic.
void selectBestIsa() {
#if defined(__x86_64__)
  __builtin_cpu_init();
  if (__builtin_cpu_supports("avx512f")) {
    sgemm = sgemm_avx512;
    isa = "avx512";
  } else if (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) {
    sgemm = sgemm_avx2;
    isa = "avx2";
  }
#endif
}

}  // namespace
}  // namespace s2g

NAPI_MODULE_INIT() {
  static bool initialised = false;
  if (!initialised) {
    s2g::selectBestIsa();
    initialised = true;
  }
  {
    std::lock_guard<std::mutex> lock(s2g::poolMutex);
    s2g::environments++;
  }
  // The pool's threads are joined when the last environment using the addon shuts down.
  napi_add_env_cleanup_hook(
      env,
      [](void*) {
        std::lock_guard<std::mutex> lock(s2g::poolMutex);
        if (--s2g::environments == 0) {
          delete s2g::pool;
          s2g::pool = nullptr;
        }
      },
      nullptr);
  const napi_property_descriptor props[] = {
      {"conv2d", nullptr, s2g::Conv2d, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropInput", nullptr, s2g::Conv2dBackpropInput, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"conv2dBackpropFilter", nullptr, s2g::Conv2dBackpropFilter, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"matmul", nullptr, s2g::Matmul, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"channelSum", nullptr, s2g::ChannelSum, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormForward", nullptr, s2g::BatchNormForward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"batchNormBackward", nullptr, s2g::BatchNormBackward, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setThreads", nullptr, s2g::SetThreads, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"setIsa", nullptr, s2g::SetIsa, nullptr, nullptr, nullptr, napi_default, nullptr},
      {"info", nullptr, s2g::Info, nullptr, nullptr, nullptr, napi_default, nullptr},
  };
  napi_define_properties(env, exports, sizeof props / sizeof props[0], props);
  return exports;
}
