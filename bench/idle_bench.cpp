// Workload `idle`: how much CPU an idle pool burns. A pool of 2 workers runs ~50 ms of
// work, then the main thread sleeps 1 s and we count the CPU time consumed meanwhile.
// A pool whose idle workers spin would show up to 2000 ms; one that parks them, ~0.
//
// Counters:
//   idle_cpu_ms         process CPU (getrusage RUSAGE_SELF, user + sys) over the 1 s.
//                       It includes every thread of the process: bench::pool()'s workers,
//                       oneTBB's and OpenMP's, if earlier benchmarks started them. Those
//                       should be idle by then (microtask's and oneTBB's workers park;
//                       libgomp spins only briefly by default, and not at all with
//                       OMP_WAIT_POLICY=passive; set that for this workload only, since
//                       it makes every other OpenMP region pay a futex wake-up). Run
//                       alone (--benchmark_filter='^idle/'), no other pool exists.
//   pool_workers_cpu_ms the same 1 s measured on this pool's 2 worker threads only
//                       (/proc/self/task/<tid>/schedstat, ns resolution); left out when
//                       /proc does not provide it.
#include "bench_common.hpp"

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

namespace {

namespace mt = microtask;

double process_cpu_ms() {
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    auto ms = [](const timeval& t) {
        return static_cast<double>(t.tv_sec) * 1e3 + static_cast<double>(t.tv_usec) * 1e-3;
    };
    return ms(usage.ru_utime) + ms(usage.ru_stime);
}

/// The ids of the process's threads (Linux: the entries of /proc/self/task), sorted.
std::vector<long> thread_ids() {
    std::vector<long> ids;
    std::error_code ec;
    for (const auto& entry : std::filesystem::directory_iterator("/proc/self/task", ec)) {
        ids.push_back(std::stol(entry.path().filename().string()));
    }
    std::sort(ids.begin(), ids.end());
    return ids;
}

/// CPU time of the given threads in ms (first field of schedstat: ns on a CPU), or a
/// negative value if any of them cannot be read.
double threads_cpu_ms(const std::vector<long>& ids) {
    double total = 0;
    for (long id : ids) {
        std::ifstream file("/proc/self/task/" + std::to_string(id) + "/schedstat");
        long long ns = 0;
        if (!(file >> ns)) return -1;
        total += static_cast<double>(ns) * 1e-6;
    }
    return total;
}

constexpr std::int64_t k_work_size = std::int64_t{1} << 16;

void bm_microtask(benchmark::State& state) {
    const auto workers = static_cast<std::size_t>(state.range(0));
    std::int64_t expected = 0;
    for (std::int64_t i = 0; i < k_work_size; ++i) expected += bench::work(i);
    double idle_ms = 0;
    double workers_ms = -1;
    for (auto _ : state) {
        state.PauseTiming();
        // The pool's workers are the threads that appear while it is constructed (nothing
        // else in the process starts threads meanwhile).
        const std::vector<long> before = thread_ids();
        mt::thread_pool pool{workers};
        const std::vector<long> after = thread_ids();
        std::vector<long> pool_threads;
        std::set_difference(after.begin(), after.end(), before.begin(), before.end(), std::back_inserter(pool_threads));

        // ~50 ms of real work: map_reduce calls long enough to split, so both workers
        // take part and then go idle the way they do after a burst of work.
        // Every call's result is checked against the serial sum (untimed).
        bool wrong = false;
        const auto work_end = std::chrono::steady_clock::now() + std::chrono::milliseconds(50);
        while (std::chrono::steady_clock::now() < work_end) {
            const std::int64_t sum = mt::map_reduce(
                pool, mt::iota(std::int64_t{0}, k_work_size), [](std::int64_t i) { return bench::work(i); },
                mt::sum<std::int64_t>{});
            wrong = wrong || sum != expected;
        }
        if (wrong) {
            state.SkipWithError("idle: a map_reduce result differs from the serial sum");
            break;
        }
        state.ResumeTiming();

        const double process_start = process_cpu_ms();
        const double workers_start = threads_cpu_ms(pool_threads);
        std::this_thread::sleep_for(std::chrono::seconds(1));
        const double process_end = process_cpu_ms();
        const double workers_end = threads_cpu_ms(pool_threads);

        idle_ms = process_end - process_start;
        if (pool_threads.size() == workers && workers_start >= 0 && workers_end >= 0) {
            workers_ms = workers_end - workers_start;
        }
    }
    state.counters["idle_cpu_ms"] = idle_ms;
    if (workers_ms >= 0) state.counters["pool_workers_cpu_ms"] = workers_ms;
}

// One iteration is one 1 s observation; the argument is the pool size.
BENCHMARK(bm_microtask)->Name("idle/microtask")->Arg(2)->Iterations(1)->UseRealTime()->Unit(benchmark::kMillisecond);

}  // namespace
