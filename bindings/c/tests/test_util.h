/*
 * test_util.h — small helpers shared by the C test programs (leak_cycles.c, soak.c,
 * count_allocations.c):
 * resident memory (the guest heap under an emulator), whole-file reads, per-sample element counts.
 */
#ifndef STRATA_TEST_UTIL_H
#define STRATA_TEST_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "strata.h"

#if defined(STRATA_TEST_GUEST_HEAP)
#include <malloc.h>
/* Under an emulator (qemu-user: make test-aarch64) /proc/self is the emulator's, so "resident
 * memory" is the guest heap in use instead: mallinfo2's allocated arena bytes plus mmapped blocks. */
static inline long rss_kib(void) {
    struct mallinfo2 m = mallinfo2();
    return (long)((m.uordblks + m.hblkhd) / 1024);
}
#else
/* Resident set size in KiB, from /proc/self/statm (second field, in pages); -1 if unreadable. */
static inline long rss_kib(void) {
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f) return -1;
    long size = 0, resident = -1;
    if (fscanf(f, "%ld %ld", &size, &resident) != 2) resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * (sysconf(_SC_PAGESIZE) / 1024);
}
#endif

/* Number of threads of this process (entries of /proc/self/task); -1 if unreadable. */
static inline long thread_count(void) {
    DIR *d = opendir("/proc/self/task");
    if (!d) return -1;
    long n = 0;
    for (struct dirent *e; (e = readdir(d));) n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* thread_count(), re-read every 10 ms for up to a second while it exceeds `at_most`: an exiting
 * thread leaves /proc/self/task a moment after it is joined (under qemu-user, later still), so a
 * check for leftover threads waits for the count to settle before failing. */
static inline long settled_thread_count(long at_most) {
    long n = thread_count();
    for (int wait = 0; wait < 100 && n > at_most; wait++) {
        struct timespec pause = {0, 10 * 1000 * 1000};
        nanosleep(&pause, NULL);
        n = thread_count();
    }
    return n;
}

/* The whole file in a malloc'd buffer (*out_size bytes); NULL on failure. */
static inline unsigned char *read_file(const char *path, size_t *out_size) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    unsigned char *data = malloc(n > 0 ? (size_t)n : 1);
    if (data && n > 0 && fread(data, 1, (size_t)n, f) != (size_t)n) { free(data); data = NULL; }
    fclose(f);
    *out_size = n > 0 ? (size_t)n : 0;
    return data;
}

/* Elements per sample of input 0 (output = 0) or output 0 (output = 1); -1 on error. */
static inline int64_t sample_count(const strata_model *model, int output) {
    int64_t dims[8];
    size_t rank = 0;
    if ((output ? strata_model_output_shape(model, 0, dims, 8, &rank)
                : strata_model_input_shape(model, 0, dims, 8, &rank)) != STRATA_STATUS_OK) return -1;
    int64_t n = 1;
    for (size_t i = 1; i < rank; i++) n *= dims[i];
    return n;
}

/* An abort callback that always cancels. */
static inline int32_t always_abort(void *user_data) { (void)user_data; return 1; }

#endif
