#ifndef VLSAE_TEMPFILES_H
#define VLSAE_TEMPFILES_H

/* Temporary files of atomic writes that a SIGINT, SIGTERM or SIGHUP must not leave behind.
 * The signal handler only calls async-signal-safe functions (unlink, sigaction, raise) on a
 * fixed table, so it can run at any point of a write; see Sources/VLSAECore/Files.swift. */

/* Installs the handlers once (a signal whose disposition is not the default, e.g. ignored under
 * nohup, is left alone) and ignores SIGXFSZ, so that a write past RLIMIT_FSIZE fails with EFBIG
 * instead of killing the process. Returns 0. */
int vlsae_tempfiles_install(void);

/* Records `path` (copied) for removal on a signal; returns its slot, or -1 when the table is full
 * or the path too long (the write then goes ahead unprotected). */
int vlsae_tempfiles_register(const char *path);

/* Forgets the path in `slot` (a value returned by vlsae_tempfiles_register; -1 does nothing). */
void vlsae_tempfiles_unregister(int slot);

/* The number of paths currently registered (for tests). */
int vlsae_tempfiles_count(void);

#endif
