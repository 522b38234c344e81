// The thread pool's view of CPUs (include/CStrataThreads.h). A worker woken by the pool can be
// queued by the scheduler on the core of the thread that woke it, and stay there behind it for
// milliseconds while another core idles (seen on Linux 6.18 under KVM: 2-thread runs after a pause
// ran at one core's speed for whole samples). The worker then moves itself with these.
#define _GNU_SOURCE
#include <sched.h>

#include "CStrataThreads.h"

int strataimpl_current_cpu(void) { return sched_getcpu(); }

int strataimpl_leave_cpu(int cpu) {
    if (cpu < 0 || cpu >= CPU_SETSIZE) return 0;
    cpu_set_t allowed, others;
    if (sched_getaffinity(0, sizeof allowed, &allowed) != 0) return 0;
    others = allowed;
    CPU_CLR(cpu, &others);
    if (CPU_COUNT(&others) == 0) return 0;
    if (sched_setaffinity(0, sizeof others, &others) != 0) return 0;
    (void)sched_setaffinity(0, sizeof allowed, &allowed);
    return 1;
}
