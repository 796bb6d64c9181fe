"""Fixed C++ that every generated model starts with: types, RNG, helpers."""

PRELUDE = r"""
#include <cmath>
#include <cfloat>
#include <climits>
#include <cstdint>
#include <cstring>
#include <cstdio>
#include <ctime>
#include <algorithm>
#ifdef _OPENMP
#include <omp.h>
#endif

typedef @SCALAR@ scalar;
typedef @SCALAR@ timepoint;
#define SCALAR_MAX @SCALAR_MAX@
#define SCALAR_MIN @SCALAR_MIN@
#define TIME_MAX @SCALAR_MAX@
using std::min;
using std::max;
// GeNN 5 picks a maths function by its arguments' type (exp of a float is expf);
// <cmath> alone puts only the double versions in the global namespace.
using std::cos; using std::sin; using std::tan; using std::acos; using std::asin;
using std::atan; using std::atan2; using std::cosh; using std::sinh; using std::tanh;
using std::acosh; using std::asinh; using std::atanh; using std::exp; using std::expm1;
using std::exp2; using std::pow; using std::scalbn; using std::log; using std::log1p;
using std::log2; using std::log10; using std::ldexp; using std::ilogb; using std::sqrt;
using std::cbrt; using std::hypot; using std::ceil; using std::floor; using std::fmod;
using std::round; using std::rint; using std::trunc; using std::nearbyint;
using std::nextafter; using std::remainder; using std::fabs; using std::fdim;
using std::fmax; using std::fmin; using std::erf; using std::erfc; using std::tgamma;
using std::lgamma; using std::copysign; using std::fma; using std::lrint; using std::frexp;
using std::modf;

// Philox4x32-10 counter-based generator (Salmon et al. 2011): each element owns
// a stream keyed by the model seed and a per-purpose tag, so draws do not depend
// on how elements are shared among threads.
struct Rng {
    uint32_t k0, k1, c0, c1, c2, c3;
    uint32_t buf[4];
    int pos;
    Rng(uint64_t seed, uint32_t tag, uint32_t a, uint32_t b, uint32_t c)
        : k0((uint32_t)seed), k1((uint32_t)(seed >> 32) ^ tag), c0(0), c1(a), c2(b), c3(c), pos(4) {}
    void block() {
        uint32_t x0 = c0, x1 = c1, x2 = c2, x3 = c3, ka = k0, kb = k1;
        for (int r = 0; r < 10; r++) {
            const uint64_t p0 = (uint64_t)0xD2511F53u * x0;
            const uint64_t p1 = (uint64_t)0xCD9E8D57u * x2;
            const uint32_t y0 = (uint32_t)(p1 >> 32) ^ x1 ^ ka;
            const uint32_t y1 = (uint32_t)p1;
            const uint32_t y2 = (uint32_t)(p0 >> 32) ^ x3 ^ kb;
            const uint32_t y3 = (uint32_t)p0;
            x0 = y0; x1 = y1; x2 = y2; x3 = y3;
            ka += 0x9E3779B9u; kb += 0xBB67AE85u;
        }
        buf[0] = x0; buf[1] = x1; buf[2] = x2; buf[3] = x3;
        c0++;
        pos = 0;
    }
    uint32_t next_u32() { if (pos == 4) { block(); } return buf[pos++]; }
    // Uniform on the open interval (0, 1).
    scalar uniform() {
        if (sizeof(scalar) == sizeof(float)) {
            return (scalar)(((next_u32() >> 8) + 0.5f) * (1.0f / 16777216.0f));
        }
        const uint64_t hi = next_u32() >> 5, lo = next_u32() >> 6;
        return (scalar)(((double)((hi << 26) + lo) + 0.5) * (1.0 / 9007199254740992.0));
    }
    scalar normal() {
        const scalar u1 = uniform(), u2 = uniform();
        return std::sqrt((scalar)-2.0 * std::log(u1)) * std::cos((scalar)6.283185307179586 * u2);
    }
    scalar exponential() { return -std::log(uniform()); }
    scalar log_normal(scalar mean, scalar sd) { return std::exp(mean + sd * normal()); }
    scalar gamma(scalar a) {
        if (a < (scalar)1.0) {
            const scalar u = uniform();
            return gamma(a + (scalar)1.0) * std::pow(u, (scalar)1.0 / a);
        }
        const scalar d = a - (scalar)1.0 / (scalar)3.0, c = (scalar)1.0 / std::sqrt((scalar)9.0 * d);
        while (true) {
            scalar x, v;
            do { x = normal(); v = (scalar)1.0 + c * x; } while (v <= (scalar)0.0);
            v = v * v * v;
            const scalar u = uniform();
            if (u < (scalar)1.0 - (scalar)0.0331 * x * x * x * x) { return d * v; }
            if (std::log(u) < (scalar)0.5 * x * x + d * ((scalar)1.0 - v + std::log(v))) { return d * v; }
        }
    }
    unsigned int binomial(unsigned int n, scalar p) {
        if (p <= (scalar)0.0) { return 0; }
        if (p >= (scalar)1.0) { return n; }
        const double q = 1.0 - p, s = p / q, a = (n + 1) * s;
        double r = std::pow(q, (double)n), u = uniform();
        unsigned int x = 0;
        while (u > r && x < n) { u -= r; x++; r *= (a / x - s); }
        return x;
    }
};

#define gennrand() (_rng.next_u32())
#define gennrand_uniform() (_rng.uniform())
#define gennrand_normal() (_rng.normal())
#define gennrand_exponential() (_rng.exponential())
#define gennrand_log_normal(M, S) (_rng.log_normal((M), (S)))
#define gennrand_gamma(A) (_rng.gamma((A)))
#define gennrand_binomial(N, P) (_rng.binomial((N), (P)))

static inline uint32_t compact_flags(const uint8_t* flag, uint32_t n, uint32_t* out, uint32_t* rec) {
    uint32_t cnt = 0;
    for (uint32_t i = 0; i < n; i++) {
        if (flag[i]) {
            out[cnt++] = i;
            if (rec) { rec[i / 32] |= (1u << (i % 32)); }
        }
    }
    return cnt;
}

#if defined(__GNUC__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE
#endif

// Subnormal numbers (below FLT_MIN / DBL_MIN) make arithmetic 10-100x slower on x86
// and ARM, and long trainings pass through them by the million (Adam moments of
// rarely active weights decay into them, with beta1 = 0.99 after ~9,000 steps).
// Every entry point therefore runs with them flushed to zero (x86 FTZ and DAZ,
// ARM FZ): the calling thread's mode is restored on return; the OpenMP worker
// threads, which run only kernels, are switched once per team size and stay so.
#if defined(__SSE2__) || defined(_M_X64)
#include <xmmintrin.h>
typedef unsigned int fp_mode_t;
static inline fp_mode_t fp_mode() { return _mm_getcsr(); }
static inline void set_fp_mode(fp_mode_t m) { _mm_setcsr(m); }
static const fp_mode_t FLUSH_SUBNORMALS = 0x8040u;
#elif defined(__aarch64__)
typedef uint64_t fp_mode_t;
static inline fp_mode_t fp_mode() { uint64_t r; __asm__ volatile("mrs %0, fpcr" : "=r"(r)); return r; }
static inline void set_fp_mode(fp_mode_t m) { __asm__ volatile("msr fpcr, %0" : : "r"(m)); }
static const fp_mode_t FLUSH_SUBNORMALS = (fp_mode_t)1 << 24;
#else
typedef unsigned int fp_mode_t;
static inline fp_mode_t fp_mode() { return 0; }
static inline void set_fp_mode(fp_mode_t) {}
static const fp_mode_t FLUSH_SUBNORMALS = 0;
#endif

struct SubnormalsFlushed {
    const fp_mode_t saved;
    SubnormalsFlushed() : saved(fp_mode()) {
        set_fp_mode(saved | FLUSH_SUBNORMALS);
#ifdef _OPENMP
        static int flushed_team = 0;
        const int team = omp_get_max_threads();
        if (team != flushed_team) {
            #pragma omp parallel
            { set_fp_mode(fp_mode() | FLUSH_SUBNORMALS); }
            flushed_team = team;
        }
#endif
    }
    ~SubnormalsFlushed() { set_fp_mode(saved); }
};

static inline double wall_time() {
#ifdef _OPENMP
    return omp_get_wtime();
#else
    return (double)std::clock() / CLOCKS_PER_SEC;
#endif
}

extern "C" {
double neuronUpdateTime = 0.0, synapseUpdateTime = 0.0, initTime = 0.0;
uint64_t iT = 0;
uint64_t seed = 0;
uint32_t numRecordingTimesteps = 0;
int set_num_threads(int n) {
#ifdef _OPENMP
    if (n > 0) { omp_set_num_threads(n); }
    return omp_get_max_threads();
#else
    (void)n;
    return 1;
#endif
}
}
"""


def prelude(precision: str) -> str:
    scalar_max = "FLT_MAX" if precision == "float" else "DBL_MAX"
    scalar_min = "FLT_MIN" if precision == "float" else "DBL_MIN"
    return (PRELUDE.replace("@SCALAR@", precision).replace("@SCALAR_MAX@", scalar_max)
            .replace("@SCALAR_MIN@", scalar_min))
