// Mamba-1 selective scan CPU kernels, plain C++ (no torch headers) -> fast to compile.
#include <cstring>
#include <cstdint>
#include <algorithm>
#include <vector>
#ifdef __SSE__
#include <xmmintrin.h>
#endif
#include <omp.h>
// GCC/Clang vector extensions: 8 x fp32 (one AVX2 register; two SSE registers elsewhere)
typedef float v8 __attribute__((vector_size(32)));
typedef int32_t v8i __attribute__((vector_size(32)));
constexpr int NMAX = 64;

struct FTZGuard {   // flush-to-zero / denormals-are-zero inside the kernel threads only
#ifdef __SSE__
  unsigned int csr;
  FTZGuard() { csr = _mm_getcsr(); _mm_setcsr(csr | 0x8040); }
  ~FTZGuard() { _mm_setcsr(csr); }
#endif
};

static inline v8 splat(float a) { return v8{a, a, a, a, a, a, a, a}; }

static inline v8 vexp(v8 x) {   // Cephes-style expf, ~2 ulp, inputs clamped to [-87, 88]
  x = x < splat(-87.0f) ? splat(-87.0f) : x;
  x = x > splat(88.0f) ? splat(88.0f) : x;
  const v8 magic = splat(12582912.0f);                      // 1.5*2^23: round-to-nearest via bits
  v8 t = x * 1.44269504088896341f + magic;
  v8i i = (v8i)t - (v8i)magic;
  v8 fi = __builtin_convertvector(i, v8);
  v8 r = x - fi * 0.693359375f + fi * 2.12194440e-4f;
  v8 r2 = r * r;
  v8 p = splat(1.9875691500E-4f);
  p = p * r + 1.3981999507E-3f;
  p = p * r + 8.3334519073E-3f;
  p = p * r + 4.1665795894E-2f;
  p = p * r + 1.6666665459E-1f;
  p = p * r + 5.0000001201E-1f;
  p = p * r2 + r + 1.0f;
  v8i e = (i + 127) << 23;
  return p * (v8)e;
}

// load / store 8 consecutive channels; tail blocks (w < 8) are zero padded
template <bool FULL> static inline v8 ld(const float* p, int w) {
  v8 v;
  if (FULL) std::memcpy(&v, p, sizeof(v8));
  else { v = splat(0.f); for (int k = 0; k < w; k++) v[k] = p[k]; }
  return v;
}
template <bool FULL> static inline void st(float* p, v8 v, int w) {
  if (FULL) std::memcpy(p, &v, sizeof(v8));
  else for (int k = 0; k < w; k++) p[k] = v[k];
}
static inline float hsum(v8 v) {
  return ((v[0] + v[4]) + (v[1] + v[5])) + ((v[2] + v[6]) + (v[3] + v[7]));
}

// ---------------------------------------------------------------- forward
template <bool FULL>
static void fwd_block(const float* __restrict x, const float* __restrict dl, const float* __restrict AT,
                      const float* __restrict Bm, const float* __restrict Cm, const float* __restrict D,
                      float* __restrict y, float* __restrict ck, int64_t b, int64_t e0, int w,
                      int64_t L, int64_t E, int64_t N, int64_t chunk) {
  v8 h[NMAX], Al[NMAX];
  for (int64_t n = 0; n < N; n++) { h[n] = splat(0.f); Al[n] = ld<FULL>(AT + n * E + e0, w); }
  const v8 Dl = ld<FULL>(D + e0, w);
  const int64_t nck = (L + chunk - 1) / chunk;
  for (int64_t t = 0; t < L; t++) {
    const int64_t off = (b * L + t) * E + e0;
    const float* Bt = Bm + (b * L + t) * N;
    const float* Ct = Cm + (b * L + t) * N;
    if (ck && (t % chunk) == 0) {
      float* c = ck + ((b * nck + t / chunk) * N) * E + e0;
      for (int64_t n = 0; n < N; n++) st<FULL>(c + n * E, h[n], w);
    }
    const v8 d = ld<FULL>(dl + off, w), xv = ld<FULL>(x + off, w);
    const v8 dx = d * xv;
    v8 acc = Dl * xv;
    for (int64_t n = 0; n < N; n++) {
      h[n] = vexp(d * Al[n]) * h[n] + dx * Bt[n];
      acc += h[n] * Ct[n];
    }
    st<FULL>(y + off, acc, w);
  }
}

// ---------------------------------------------------------------- backward
template <bool FULL>
static void bwd_block(const float* __restrict x, const float* __restrict dl, const float* __restrict AT,
                      const float* __restrict Bm, const float* __restrict Cm, const float* __restrict D,
                      const float* __restrict ck, const float* __restrict gy,
                      float* __restrict gx, float* __restrict gd, float* __restrict gAT, float* __restrict gD,
                      float* __restrict gBt, float* __restrict gCt, v8* __restrict abuf, v8* __restrict hbuf,
                      int64_t Bsz, int64_t e0, int w, int64_t L, int64_t E, int64_t N, int64_t chunk) {
  v8 Al[NMAX], gA[NMAX], carry[NMAX], h0[NMAX + 0];
  for (int64_t n = 0; n < N; n++) { Al[n] = ld<FULL>(AT + n * E + e0, w); gA[n] = splat(0.f); }
  const v8 Dl = ld<FULL>(D + e0, w);
  v8 gDl = splat(0.f);
  const int64_t nck = (L + chunk - 1) / chunk;
  for (int64_t b = 0; b < Bsz; b++) {
    for (int64_t n = 0; n < N; n++) carry[n] = splat(0.f);
    float* gBb = gBt + b * L * N;
    float* gCb = gCt + b * L * N;
    for (int64_t c = nck - 1; c >= 0; c--) {
      const int64_t s = c * chunk, T = std::min(chunk, L - s);
      const float* cb = ck + ((b * nck + c) * N) * E + e0;
      for (int64_t n = 0; n < N; n++) h0[n] = ld<FULL>(cb + n * E, w);
      // recompute decays a_t and states h_t of this chunk into the per-thread buffers
      for (int64_t tt = 0; tt < T; tt++) {
        const int64_t off = (b * L + s + tt) * E + e0;
        const float* Bt = Bm + (b * L + s + tt) * N;
        v8* ab = abuf + tt * N;
        v8* hb = hbuf + tt * N;
        const v8* hp = tt ? hbuf + (tt - 1) * N : h0;
        const v8 d = ld<FULL>(dl + off, w);
        const v8 dx = d * ld<FULL>(x + off, w);
        for (int64_t n = 0; n < N; n++) {
          const v8 a = vexp(d * Al[n]);
          ab[n] = a;
          hb[n] = a * hp[n] + dx * Bt[n];
        }
      }
      // reverse-time scan over the chunk
      for (int64_t tt = T - 1; tt >= 0; tt--) {
        const int64_t t = s + tt;
        const int64_t off = (b * L + t) * E + e0;
        const float* Bt = Bm + (b * L + t) * N;
        const float* Ct = Cm + (b * L + t) * N;
        const v8* ab = abuf + tt * N;
        const v8* hb = hbuf + tt * N;
        const v8* hp = tt ? hbuf + (tt - 1) * N : h0;
        const v8 g = ld<FULL>(gy + off, w), d = ld<FULL>(dl + off, w), xv = ld<FULL>(x + off, w);
        const v8 dx = d * xv;
        v8 gdk = splat(0.f), sB = splat(0.f);
        for (int64_t n = 0; n < N; n++) {
          const v8 gh = g * Ct[n] + carry[n];        // dL/dh_t
          const v8 a = ab[n];
          const v8 gaa = gh * hp[n] * a;             // dL/d(dt*A) = gh * h_{t-1} * a_t
          gdk += gaa * Al[n];
          gA[n] += gaa * d;
          sB += gh * Bt[n];
          carry[n] = a * gh;
          gBb[t * N + n] += hsum(gh * dx);
          gCb[t * N + n] += hsum(g * hb[n]);
        }
        st<FULL>(gd + off, gdk + sB * xv, w);
        st<FULL>(gx + off, sB * d + g * Dl, w);
        gDl += g * xv;
      }
    }
  }
  for (int64_t n = 0; n < N; n++) st<FULL>(gAT + n * E + e0, gA[n], w);
  st<FULL>(gD + e0, gDl, w);
}


extern "C" void scan_fwd(const float* x, const float* dl, const float* AT, const float* Bm, const float* Cm,
                         const float* D, float* y, float* ck, int64_t Bsz, int64_t L, int64_t E, int64_t N,
                         int64_t chunk, int nth) {
  const int64_t nblk = (E + 7) / 8;
  #pragma omp parallel num_threads(nth)
  {
    FTZGuard g;
    #pragma omp for schedule(static)
    for (int64_t i = 0; i < Bsz * nblk; i++) {
      const int64_t b = i / nblk, e0 = (i % nblk) * 8;
      const int w = (int)std::min<int64_t>(8, E - e0);
      if (w == 8) fwd_block<true>(x, dl, AT, Bm, Cm, D, y, ck, b, e0, w, L, E, N, chunk);
      else fwd_block<false>(x, dl, AT, Bm, Cm, D, y, ck, b, e0, w, L, E, N, chunk);
    }
  }
}

// gBt, gCt: [nth, B, L, N] zero-initialised per-thread partial sums (caller reduces over dim 0)
extern "C" void scan_bwd(const float* gy, const float* x, const float* dl, const float* AT, const float* Bm,
                         const float* Cm, const float* D, const float* ck, float* gx, float* gd, float* gAT,
                         float* gD, float* gBt, float* gCt, int64_t Bsz, int64_t L, int64_t E, int64_t N,
                         int64_t chunk, int nth) {
  const int64_t nblk = (E + 7) / 8;
  #pragma omp parallel num_threads(nth)
  {
    FTZGuard g;
    const int tid = omp_get_thread_num();
    std::vector<v8> scratch((size_t)2 * chunk * N + 1);
    v8* ab = scratch.data();
    v8* hb = ab + chunk * N;
    float* myB = gBt + (int64_t)tid * Bsz * L * N;
    float* myC = gCt + (int64_t)tid * Bsz * L * N;
    #pragma omp for schedule(static)
    for (int64_t j = 0; j < nblk; j++) {
      const int64_t e0 = j * 8;
      const int w = (int)std::min<int64_t>(8, E - e0);
      if (w == 8) bwd_block<true>(x, dl, AT, Bm, Cm, D, ck, gy, gx, gd, gAT, gD, myB, myC, ab, hb, Bsz, e0, w, L, E, N, chunk);
      else bwd_block<false>(x, dl, AT, Bm, Cm, D, ck, gy, gx, gd, gAT, gD, myB, myC, ab, hb, Bsz, e0, w, L, E, N, chunk);
    }
  }
}
