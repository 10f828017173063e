#include "vlsae_dispatch.h"
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const path_names[VLSAE_PATH_COUNT] = {"portable", "avx2", "avx512"};

/// What the CPU offers, detected once.
static struct {
    int supported[VLSAE_PATH_COUNT];
    int f16c;
    int sha;
} cpu;

static _Atomic int active_path = -1;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static pthread_mutex_t configure_lock = PTHREAD_MUTEX_INITIALIZER;
static char error_text[512];
static _Atomic int has_error = 0;

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>

static uint64_t xgetbv0(void) {
    unsigned lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    return ((uint64_t)hi << 32) | lo;
}

static void detect(void) {
    unsigned a, b, c, d;
    cpu.supported[VLSAE_PATH_PORTABLE] = 1;
    if (!__get_cpuid(1, &a, &b, &c, &d)) return;
    const int fma = (c >> 12) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1, f16c = (c >> 29) & 1;
    const int sse41 = (c >> 19) & 1, ssse3 = (c >> 9) & 1;
    uint64_t xcr0 = 0;
    if (osxsave) xcr0 = xgetbv0();
    // The OS saves the SSE and AVX state (XCR0 bits 1, 2), and for AVX-512 also the opmask and the
    // upper halves and upper sixteen of the vector registers (bits 5, 6, 7).
    const int os_avx = (xcr0 & 0x6) == 0x6, os_avx512 = (xcr0 & 0xE6) == 0xE6;
    unsigned b7 = 0;
    if (__get_cpuid_count(7, 0, &a, &b7, &c, &d) == 0) b7 = 0;
    const int avx2 = (b7 >> 5) & 1, sha = (b7 >> 29) & 1;
    const int avx512f = (b7 >> 16) & 1, avx512dq = (b7 >> 17) & 1, avx512bw = (b7 >> 30) & 1, avx512vl = (b7 >> 31) & 1;
    cpu.f16c = f16c && avx && os_avx;
    cpu.sha = sha && sse41 && ssse3;
    cpu.supported[VLSAE_PATH_AVX2] = avx && avx2 && fma && os_avx;
    cpu.supported[VLSAE_PATH_AVX512] =
        cpu.supported[VLSAE_PATH_AVX2] && avx512f && avx512dq && avx512bw && avx512vl && os_avx512;
}
#else
static void detect(void) { cpu.supported[VLSAE_PATH_PORTABLE] = 1; }
#endif

static int best(void) {
    for (int p = VLSAE_PATH_COUNT - 1; p > 0; p--)
        if (cpu.supported[p]) return p;
    return VLSAE_PATH_PORTABLE;
}

static void supported_list(char *out, size_t size) {
    out[0] = 0;
    for (int p = 0; p < VLSAE_PATH_COUNT; p++) {
        if (!cpu.supported[p]) continue;
        if (out[0]) strncat(out, ", ", size - strlen(out) - 1);
        strncat(out, path_names[p], size - strlen(out) - 1);
    }
}

/// The path a VLSAE_ISA value asks for; the error text is written when it cannot be honoured.
static int choose(const char *isa) {
    if (isa == NULL || isa[0] == 0) {
        atomic_store(&has_error, 0);
        return best();
    }
    int wanted = -1;
    for (int p = 0; p < VLSAE_PATH_COUNT; p++)
        if (strcasecmp(isa, path_names[p]) == 0) wanted = p;
    char list[64];
    supported_list(list, sizeof list);
    if (wanted < 0) {
        snprintf(error_text, sizeof error_text,
                 "VLSAE_ISA=%.64s is not a kernel path (portable, avx2 or avx512; this CPU runs: %s)", isa, list);
        atomic_store(&has_error, 1);
        return best();
    }
    if (!cpu.supported[wanted]) {
        snprintf(error_text, sizeof error_text,
                 "VLSAE_ISA=%.64s: this CPU cannot run the %s path (it runs: %s)", isa, path_names[wanted], list);
        atomic_store(&has_error, 1);
        return best();
    }
    atomic_store(&has_error, 0);
    return wanted;
}

static void initialise(void) {
    detect();
    atomic_store(&active_path, choose(getenv("VLSAE_ISA")));
}

int vlsae_path_active(void) {
    const int p = atomic_load_explicit(&active_path, memory_order_relaxed);
    if (p >= 0) return p;
    pthread_once(&once, initialise);
    return atomic_load(&active_path);
}

int vlsae_path_supported(int path) {
    pthread_once(&once, initialise);
    return path >= 0 && path < VLSAE_PATH_COUNT && cpu.supported[path];
}

int vlsae_path_best(void) {
    pthread_once(&once, initialise);
    return best();
}

int vlsae_path_set(int path) {
    if (!vlsae_path_supported(path)) return -1;
    atomic_store(&active_path, path);
    return 0;
}

const char *vlsae_path_name(int path) {
    return path >= 0 && path < VLSAE_PATH_COUNT ? path_names[path] : NULL;
}

int vlsae_path_configure(const char *isa) {
    pthread_once(&once, initialise);
    pthread_mutex_lock(&configure_lock);
    const int p = choose(isa);
    atomic_store(&active_path, p);
    pthread_mutex_unlock(&configure_lock);
    return p;
}

const char *vlsae_path_environment_error(void) {
    pthread_once(&once, initialise);
    return atomic_load(&has_error) ? error_text : NULL;
}

int vlsae_cpu_has_f16c(void) {
    pthread_once(&once, initialise);
    return cpu.f16c;
}

int vlsae_cpu_has_sha(void) {
    pthread_once(&once, initialise);
    return cpu.sha;
}
