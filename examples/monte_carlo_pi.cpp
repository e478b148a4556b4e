// monte_carlo_pi: estimate pi from random points in the unit square, in parallel, with
// an answer that does not depend on the number of threads.
//
// The --size samples are cut into fixed blocks of 2^16. Each block has its own generator,
// seeded from (seed, block index) alone, so block b draws the same points whichever
// thread runs it and whenever. mt::map_reduce over the block indices counts the hits
// with mt::sum<std::uint64_t>, an integer (exactly associative) sum: the count, and so
// the estimate, is identical for every --threads and equal to the sequential count.
//
//   monte_carlo_pi [--size SAMPLES] [--threads N] [--seed N] [--quick]
#include "example_support.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <future>
#include <numbers>
#include <vector>

namespace mt = microtask;

namespace {

constexpr long block_samples = 1L << 16;

// A splitmix64 generator (example::splitmix64). Small and fast, and good enough for
// Monte Carlo integration.
struct generator {
    std::uint64_t state;
    std::uint64_t operator()() { return example::splitmix64(state); }
};

// The generator of block `block`: a function of (seed, block) only, never of the thread.
generator generator_for(std::uint64_t seed, long block) {
    return generator{example::mix64(example::mix64(seed) + static_cast<std::uint64_t>(block))};
}

// Points of the grid [0, 2^31)^2 that fall inside the quarter circle of radius 2^31.
// The test is done in integers so that it is exact: no floating-point rounding or
// contraction can make two builds or two threads disagree about a point.
std::uint64_t hits_in_block(std::uint64_t seed, long block, long samples) {
    generator next = generator_for(seed, block);
    constexpr std::uint64_t low31 = (std::uint64_t{1} << 31) - 1;
    constexpr std::uint64_t radius_squared = std::uint64_t{1} << 62;
    std::uint64_t hits = 0;
    for (long s = 0; s < samples; ++s) {
        const std::uint64_t r = next();
        const std::uint64_t x = r >> 33;           // bits 33..63
        const std::uint64_t y = (r >> 2) & low31;  // bits 2..32
        hits += x * x + y * y < radius_squared;    // < 2^63: no overflow
    }
    return hits;
}

}  // namespace

int main(int argc, char** argv) {
    const example::options opts = example::parse(
        argc, argv, "estimate pi by Monte Carlo from --size random points, in blocks of 65536 seeded per block",
        600'000'000, 1L << 21);
    mt::thread_pool pool = example::make_pool(opts);
    const long n = opts.size;
    const std::uint64_t seed = opts.seed;
    const long blocks = (n + block_samples - 1) / block_samples;  // the last one may be short

    auto count_block = [seed, n](long block) {
        const long samples = std::min(block_samples, n - block * block_samples);
        return hits_in_block(seed, block, samples);
    };

    std::uint64_t serial_hits = 0;
    const double serial_s = example::seconds([&] {
        for (long b = 0; b < blocks; ++b) serial_hits += count_block(b);
    });

    // std::async: four futures per pool thread, each counting a contiguous run of blocks.
    std::uint64_t async_hits = 0;
    const double async_s = example::seconds([&] {
        const long tasks = std::min<long>(blocks, 4 * static_cast<long>(pool.size()));
        std::vector<std::future<std::uint64_t>> futures;
        for (long t = 0; t < tasks; ++t) {
            const long lo = blocks * t / tasks;
            const long hi = blocks * (t + 1) / tasks;
            futures.push_back(std::async(std::launch::async, [&count_block, lo, hi] {
                std::uint64_t h = 0;
                for (long b = lo; b < hi; ++b) h += count_block(b);
                return h;
            }));
        }
        for (auto& f : futures) async_hits += f.get();
    });

    std::uint64_t micro_hits = 0;
    const double micro_s = example::seconds(
        [&] { micro_hits = mt::map_reduce(pool, mt::iota(0L, blocks), count_block, mt::sum<std::uint64_t>{}); });

    const auto estimate = [n](std::uint64_t hits) { return 4.0 * static_cast<double>(hits) / static_cast<double>(n); };
    const double pi_hat = estimate(micro_hits);
    // The estimate is 4 * (a binomial proportion): its standard error is sqrt(pi (4 - pi) / n).
    const double sigma = std::sqrt(std::numbers::pi * (4.0 - std::numbers::pi) / static_cast<double>(n));
    const double error = pi_hat - std::numbers::pi;
    // Monte Carlo is approximate: a 6-sigma miss has probability about 2e-9.
    const bool plausible = std::abs(error) <= 6.0 * sigma;

    std::printf("Monte Carlo pi: %ld samples in %ld blocks of %ld, seed %lu, threads: %zu\n", n, blocks, block_samples,
                opts.seed, pool.size());
    std::printf("  hits inside the quarter circle: microtask %llu, std::async %llu, serial %llu\n",
                static_cast<unsigned long long>(micro_hits), static_cast<unsigned long long>(async_hits),
                static_cast<unsigned long long>(serial_hits));
    std::printf("  pi ~ %.12f (error %+.3e, standard error %.3e: %.2f sigma)\n", pi_hat, error, sigma,
                sigma > 0 ? std::abs(error) / sigma : 0.0);
    std::printf("  identical for every --threads: the count is keyed by (seed, block), summed in integers\n\n");

    const bool ok = micro_hits == serial_hits && async_hits == serial_hits && plausible;
    return example::finish("monte_carlo_pi", ok, serial_s, async_s, micro_s);
}
