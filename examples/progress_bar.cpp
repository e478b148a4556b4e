// progress_bar: counts the primes below --size by trial division — a job whose elements
// get slower as they grow — with a live progress bar on the terminal, drawn by an
// mt::progress passed to map_reduce.
//
// The bar's function is called from whichever worker just finished a leaf, one thread at
// a time and at most every 100 ms, plus a last call with (total, total) before
// map_reduce returns: it needs no lock of its own. When standard error is not a terminal
// (the test suite, a pipe) the bar is not drawn; the reports are still counted and
// checked: never decreasing, the last one complete.
//
//   progress_bar [--size N] [--threads N] [--seed N] [--quick]
#include "example_support.hpp"

#include <microtask/microtask.hpp>

#include <chrono>
#include <cstddef>
#include <cstdio>
#include <future>
#include <vector>

#include <unistd.h>

namespace mt = microtask;

namespace {

bool is_prime(long n) {
    if (n < 2) return false;
    for (long d = 2; d * d <= n; ++d) {
        if (n % d == 0) return false;
    }
    return true;
}

long count_primes_async(long size, long tasks) {
    std::vector<std::future<long>> futures;
    for (long t = 0; t < tasks; ++t) {
        // Interleaved, so that every task gets small and large numbers alike.
        futures.push_back(std::async(std::launch::async, [=] {
            long count = 0;
            for (long n = t; n < size; n += tasks) count += is_prime(n) ? 1 : 0;
            return count;
        }));
    }
    long total = 0;
    for (auto& f : futures) total += f.get();
    return total;
}

void draw(std::size_t done, std::size_t total) {
    constexpr int width = 40;
    const double fraction = total == 0 ? 1.0 : static_cast<double>(done) / static_cast<double>(total);
    const int filled = static_cast<int>(fraction * width);
    std::fprintf(stderr, "\r  [%.*s%*s] %5.1f%%", filled, "########################################", width - filled,
                 "", fraction * 100.0);
    if (done == total) std::fprintf(stderr, "\n");
    std::fflush(stderr);
}

}  // namespace

int main(int argc, char** argv) {
    const example::options opts =
        example::parse(argc, argv, "count the primes below --size, with a live progress bar", 5'000'000, 200'000);
    mt::thread_pool pool = example::make_pool(opts);
    const long size = opts.size;
    const bool terminal = isatty(STDERR_FILENO) == 1;

    long serial = 0;
    const double serial_s = example::seconds([&] {
        for (long n = 0; n < size; ++n) serial += is_prime(n) ? 1 : 0;
    });
    long async_count = 0;
    const double async_s =
        example::seconds([&] { async_count = count_primes_async(size, 4 * static_cast<long>(pool.size())); });

    // The reports, checked after the call: called one at a time, so plain variables do.
    std::size_t reports = 0;
    std::size_t last_done = 0;
    std::size_t last_total = 0;
    bool monotonic = true;
    mt::progress bar(
        [&](std::size_t done, std::size_t total) {
            monotonic = monotonic && done >= last_done;
            last_done = done;
            last_total = total;
            ++reports;
            if (terminal) draw(done, total);
        },
        std::chrono::milliseconds(100));

    long primes = 0;
    const double micro_s = example::seconds([&] {
        primes = mt::map_reduce(
            pool, mt::iota(0L, size), [](long n) { return is_prime(n) ? 1L : 0L; }, mt::sum<long>{}, bar);
    });

    std::printf("progress_bar: %ld primes below %ld, threads: %zu; %zu progress reports, the last %zu of %zu\n", primes,
                size, pool.size(), reports, last_done, last_total);
    const bool complete = monotonic && reports >= 1 && last_done == static_cast<std::size_t>(size) &&
                          last_total == static_cast<std::size_t>(size);
    const bool ok = primes == serial && async_count == serial && complete;
    return example::finish("progress_bar", ok, serial_s, async_s, micro_s);
}
