// CStrataThreads: what the thread pool needs from the kernel's scheduler that Swift cannot call
// directly (the CPU_* affinity macros). See ThreadPool.swift.
#ifndef CSTRATA_THREADS_H
#define CSTRATA_THREADS_H

/// The CPU the calling thread is running on (sched_getcpu), or -1 when the kernel cannot say.
int strataimpl_current_cpu(void);

/// Moves the calling thread off CPU `cpu` when its allowed set (its affinity: taskset, cgroup
/// cpusets) has another CPU: the affinity is narrowed to the set without `cpu`, which migrates
/// the thread at once, then restored, which leaves it where it now is. Returns 1 when the thread
/// moved, 0 when it could not (`cpu` is its only CPU, or the calls failed).
int strataimpl_leave_cpu(int cpu);

#endif
