// CStrataLibc: the C library as a Clang module, for the Embedded Swift build of libstrata
// (`make lib`). Embedded Swift has no Glibc module, so the runtime modules import this one
// instead (`#if hasFeature(Embedded)`); the SwiftPM build (normal Swift) keeps `import Glibc` and
// does not know this target. random.c supplies what the Embedded standard library needs from libc
// beyond glibc 2.35.
#ifndef CSTRATA_LIBC_H
#define CSTRATA_LIBC_H

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

/// `errno` is a macro (a thread-local lvalue behind a function call), which Swift cannot import.
static inline int cstrata_errno(void) { return errno; }

/// `open` is variadic in C, which Swift cannot call.
static inline int cstrata_open(const char *path, int flags, mode_t mode) { return open(path, flags, mode); }

#endif
