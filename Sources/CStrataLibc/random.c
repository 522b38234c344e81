// arc4random_buf for the Embedded Swift standard library, which seeds Set/Dictionary hashing with
// it. glibc has it only from 2.36; this definition (hidden: it stays inside libstrata) uses
// getrandom (glibc 2.25), so the library still loads on glibc 2.35 (Ubuntu 22.04). A hashing seed
// needs no cryptographic quality: when getrandom fails, the clock and an address stand in.
#define _GNU_SOURCE
#include <errno.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/random.h>
#include <time.h>

__attribute__((visibility("hidden"))) void arc4random_buf(void *buffer, size_t count) {
    unsigned char *p = buffer;
    while (count > 0) {
        ssize_t got = getrandom(p, count, 0);
        if (got > 0) {
            p += got;
            count -= (size_t)got;
        } else if (got < 0 && errno == EINTR) {
            continue;
        } else {
            struct timespec t;
            clock_gettime(CLOCK_MONOTONIC, &t);
            uint64_t x = (uint64_t)t.tv_nsec ^ ((uint64_t)t.tv_sec << 30) ^ (uint64_t)(uintptr_t)buffer;
            for (; count > 0; count--, p++) {
                x = x * 6364136223846793005u + 1442695040888963407u;
                *p = (unsigned char)(x >> 56);
            }
        }
    }
}
