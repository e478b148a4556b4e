// Runs work on a pool with tracing on (MICROTASK_TRACE set by the test), then prints what
// the pool's statistics counted, for tests/check_trace.py to compare with the trace file
// written at exit: "tasks <sum of tasks_run over the workers> labelled <trace_scope spans>".
#include <microtask/microtask.hpp>

#include <cstdint>
#include <cstdio>
#include <thread>

namespace mt = microtask;

namespace {
long fib(mt::thread_pool& pool, int n) {
    if (n < 2) return n;
    auto [a, b] = mt::join(
        pool, [&] { return fib(pool, n - 1); }, [&] { return fib(pool, n - 2); });
    return a + b;
}
}  // namespace

int main() {
    mt::thread_pool pool(2);
    long checksum = 0;
    // Run from a worker, so that the outside thread runs no task: every task span is then
    // on a worker's lane, and counted by the statistics.
    // Waits with is_ready(), not get(): get() would run a task nobody has started yet on
    // this thread (on a loaded machine the workers may not have started it), and then
    // the statistics would count no task at all.
    auto on_worker = pool.submit([&] { return fib(pool, 27); });
    while (!on_worker.is_ready()) std::this_thread::yield();
    checksum += on_worker.get();
    constexpr int k_labelled = 64;
    mt::task_group group(pool);
    for (int i = 0; i < k_labelled; ++i) {
        group.run([] {
            mt::trace_scope span("labelled subtask");
            volatile long sink = 0;
            for (int k = 0; k < 20000; ++k) sink = sink + k;
        });
    }
    group.wait();
    std::uint64_t tasks = 0;
    for (const mt::worker_stats& w : pool.stats()) tasks += w.tasks_run;
    std::printf("tasks %llu labelled %d checksum %ld\n", static_cast<unsigned long long>(tasks), k_labelled, checksum);
    return 0;
}
