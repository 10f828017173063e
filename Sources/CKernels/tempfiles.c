// Removal of registered temporary files on SIGINT, SIGTERM and SIGHUP (vlsae_tempfiles.h).
#include "vlsae_tempfiles.h"

#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <unistd.h>

#define SLOTS 64
#define PATH_BYTES 4096

// A slot is free (0), being filled or emptied (1), or holds a path the handler removes (2).
static atomic_int state[SLOTS];
static char paths[SLOTS][PATH_BYTES];
static atomic_int installed;

static void on_signal(int sig) {
    for (int i = 0; i < SLOTS; i++) {
        if (atomic_load(&state[i]) == 2) unlink(paths[i]);
    }
    // Die of the same signal, so the parent sees how the process ended.
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigemptyset(&dfl.sa_mask);
    sigaction(sig, &dfl, 0);
    raise(sig);
}

static void install_one(int sig) {
    struct sigaction old;
    if (sigaction(sig, 0, &old) != 0) return;
    if (old.sa_handler != SIG_DFL || (old.sa_flags & SA_SIGINFO)) return;
    struct sigaction act;
    memset(&act, 0, sizeof act);
    act.sa_handler = on_signal;
    sigemptyset(&act.sa_mask);
    sigaddset(&act.sa_mask, SIGINT);
    sigaddset(&act.sa_mask, SIGTERM);
    sigaddset(&act.sa_mask, SIGHUP);
    sigaction(sig, &act, 0);
}

int vlsae_tempfiles_install(void) {
    int expected = 0;
    if (!atomic_compare_exchange_strong(&installed, &expected, 1)) return 0;
    install_one(SIGINT);
    install_one(SIGTERM);
    install_one(SIGHUP);
    signal(SIGXFSZ, SIG_IGN);
    return 0;
}

int vlsae_tempfiles_register(const char *path) {
    size_t n = strlen(path);
    if (n >= PATH_BYTES) return -1;
    for (int i = 0; i < SLOTS; i++) {
        int expected = 0;
        if (atomic_compare_exchange_strong(&state[i], &expected, 1)) {
            memcpy(paths[i], path, n + 1);
            atomic_store(&state[i], 2);
            return i;
        }
    }
    return -1;
}

void vlsae_tempfiles_unregister(int slot) {
    if (slot < 0 || slot >= SLOTS) return;
    atomic_store(&state[slot], 0);
}

int vlsae_tempfiles_count(void) {
    int n = 0;
    for (int i = 0; i < SLOTS; i++) n += atomic_load(&state[i]) == 2;
    return n;
}
