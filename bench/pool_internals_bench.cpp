// Workloads `deque` and `wake`: the two mechanisms under every microtask operation,
// measured alone. There are no peers to compare against, so the peer names start with
// "microtask" and say what is measured.
//
//   deque/microtask_push_pop/N  the owner pushes N items, then pops them back (items/s):
//                               the fork path when nobody steals.
//   deque/microtask_steal/N     the owner pushes N items while one thief thread steals
//                               them all (items/s): the cost of moving work by stealing.
//   wake/microtask/1            a 1-worker pool whose worker has been idle long enough to
//                               park; time from pool.submit() to the task's first
//                               instruction (manual time, µs): the wake-up latency.
#include "bench_common.hpp"

#include <atomic>
#include <chrono>
#include <cstdint>
#include <thread>

namespace {

namespace mt = microtask;
using deque = mt::detail::work_stealing_deque<std::uintptr_t>;

inline void cpu_relax() noexcept {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#endif
}

std::uintptr_t triangle(std::uintptr_t n) { return n * (n + 1) / 2; }

void bm_push_pop(benchmark::State& state) {
    const auto n = static_cast<std::uintptr_t>(state.range(0));
    deque dq;
    // Grow the ring to n once before timing: growth is a one-off, not steady state.
    for (std::uintptr_t i = 1; i <= n; ++i) dq.push(i);
    while (dq.pop(0) != 0) {
    }
    std::uintptr_t sum = 0;
    for (auto _ : state) {
        for (std::uintptr_t i = 1; i <= n; ++i) dq.push(i);
        sum = 0;
        for (std::uintptr_t i = 0; i < n; ++i) sum += dq.pop(0);
        if (sum != triangle(n)) {
            state.SkipWithError("deque push_pop: popped items differ from pushed ones");
            break;
        }
    }
    bench::finish(state, static_cast<std::int64_t>(n), sum);
}

void bm_steal(benchmark::State& state) {
    const auto n = static_cast<std::uintptr_t>(state.range(0));
    deque dq;
    // The owner raises `target` by n per iteration; the thief stores `taken` only when it
    // reaches the target, so that no counter line bounces per item: the only shared
    // traffic per item is the deque's own.
    alignas(mt::detail::k_cache_line) std::atomic<std::uint64_t> target{0};
    alignas(mt::detail::k_cache_line) std::atomic<std::uint64_t> taken{0};
    alignas(mt::detail::k_cache_line) std::atomic<bool> stop{false};
    std::uintptr_t stolen_sum = 0;
    std::thread thief([&] {
        std::uint64_t count = 0;
        std::uintptr_t sum = 0;
        while (!stop.load(std::memory_order_relaxed)) {
            auto [status, item, label] = dq.steal();
            if (status != deque::steal_status::success) {
                cpu_relax();
                continue;
            }
            sum += item;
            if (++count == target.load(std::memory_order_relaxed)) {
                taken.store(count, std::memory_order_release);
            }
        }
        stolen_sum = sum;  // read after join()
    });

    std::uint64_t goal = 0;
    for (auto _ : state) {
        goal += n;
        // Published before the pushes: the thief cannot reach `goal` before it sees it.
        target.store(goal, std::memory_order_relaxed);
        for (std::uintptr_t i = 1; i <= n; ++i) dq.push(i);
        // The iteration ends when the thief has taken everything pushed.
        while (taken.load(std::memory_order_acquire) < goal) cpu_relax();
    }
    stop.store(true, std::memory_order_relaxed);
    thief.join();
    if (stolen_sum != triangle(n) * state.iterations()) {
        state.SkipWithError("deque steal: stolen items differ from pushed ones");
    }
    bench::finish(state, static_cast<std::int64_t>(n), stolen_sum);
}

void bm_wake(benchmark::State& state) {
    mt::thread_pool pool{static_cast<std::size_t>(state.range(0))};
    for (auto _ : state) {
        // Long enough for the worker to finish spinning and park on its sleep word.
        std::this_thread::sleep_for(std::chrono::milliseconds(5));

        std::chrono::steady_clock::time_point started;
        bool on_worker = false;
        std::atomic<int> ran{0};
        const auto submitted = std::chrono::steady_clock::now();
        auto done = pool.submit([&] {
            started = std::chrono::steady_clock::now();
            on_worker = pool.this_worker_index().has_value();
            ran.store(1, std::memory_order_release);
            ran.notify_one();
        });
        // Block without helping: future::get() would let this thread take the task
        // from the injection queue itself, long before the worker wakes up.
        ran.wait(0, std::memory_order_acquire);
        done.get();

        if (!on_worker) {
            state.SkipWithError("wake: the task did not run on the pool's worker");
            break;
        }
        state.SetIterationTime(std::chrono::duration<double>(started - submitted).count());
    }
}

BENCHMARK(bm_push_pop)->Name("deque/microtask_push_pop")->Arg(4096)->Unit(benchmark::kMicrosecond);
BENCHMARK(bm_steal)->Name("deque/microtask_steal")->Arg(4096)->UseRealTime()->Unit(benchmark::kMicrosecond);
// Iterations fixed: with manual time, min_time would count only the µs of latency and
// run tens of thousands of 5 ms sleeps. 200 iterations take about 1 s.
BENCHMARK(bm_wake)->Name("wake/microtask")->Arg(1)->Iterations(200)->UseManualTime()->Unit(benchmark::kMicrosecond);

}  // namespace
