// power_of_two: the classic micro-task illustration, then the same idea where it pays off.
//
// Part 1 computes 2^10 the textbook way: a user decomposer cuts the job "2^10" into ten
// subtasks "2^1", mt::distribute runs them on the pool and mt::reduce multiplies the ten
// results. Ten multiplications are far too little work to be worth a thread; part 1 only
// shows the three steps one at a time.
//
// Part 2 applies the same pattern at a scale that pays: b^e mod p for many (b, e) pairs,
// with p = 2^61 - 1, a Mersenne prime, so reducing mod p takes a shift and an add. One
// power is cut into per-bit subtasks (b^e = the product of b^(2^k) over the set bits k
// of e), and the powers of all bases are summed mod p with mt::map_reduce and a custom
// modular-sum reducer declared exactly associative. Both are checked against plain loops.
//
//   power_of_two [--size BASES] [--threads N] [--seed N] [--quick]
#include "example_support.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <future>
#include <vector>

namespace mt = microtask;

namespace {

__extension__ typedef unsigned __int128 u128;  // GCC/Clang extension; silences -Wpedantic

constexpr std::uint64_t prime = (std::uint64_t{1} << 61) - 1;  // 2^61 - 1

// a * b mod p for a, b < p. The 122-bit product is hi * 2^61 + lo, and 2^61 = 1 (mod p),
// so it is congruent to hi + lo, which is below 2p: one conditional subtraction finishes.
std::uint64_t mul_mod(std::uint64_t a, std::uint64_t b) {
    const u128 z = static_cast<u128>(a) * b;
    const std::uint64_t r = (static_cast<std::uint64_t>(z) & prime) + static_cast<std::uint64_t>(z >> 61);
    return r >= prime ? r - prime : r;
}

std::uint64_t add_mod(std::uint64_t a, std::uint64_t b) {
    const std::uint64_t r = a + b;  // both < 2^61: cannot overflow
    return r >= prime ? r - prime : r;
}

// Square-and-multiply: about 64 squarings and 32 multiplications for a random exponent.
std::uint64_t pow_mod(std::uint64_t base, std::uint64_t exponent) {
    std::uint64_t result = 1;
    for (; exponent != 0; exponent >>= 1) {
        if (exponent & 1) result = mul_mod(result, base);
        base = mul_mod(base, base);
    }
    return result;
}

// ---- Part 1: 2^10 as ten subtasks 2^1 -----------------------------------------------

struct power {
    std::uint64_t base;
    int exponent;
};

// The user decomposer: base^n becomes n subtasks base^1.
std::vector<power> split_into_factors(const power& job) {
    return std::vector<power>(static_cast<std::size_t>(job.exponent), power{job.base, 1});
}

std::uint64_t evaluate(const power& p) {
    std::uint64_t result = 1;
    for (int i = 0; i < p.exponent; ++i) result *= p.base;
    return result;
}

bool classic_illustration(mt::thread_pool& pool) {
    const power job{2, 10};
    std::printf("Part 1: 2^10 as micro-tasks\n");

    const std::vector<power> subtasks = mt::decompose(job, split_into_factors);
    std::printf("  decompose : 2^10 -> %zu subtasks:", subtasks.size());
    for (const power& p : subtasks) std::printf(" %llu^%d", static_cast<unsigned long long>(p.base), p.exponent);
    std::printf("\n");

    const std::vector<std::uint64_t> results = mt::distribute(pool, subtasks, evaluate);
    std::printf("  distribute: results in subtask order:");
    for (std::uint64_t r : results) std::printf(" %llu", static_cast<unsigned long long>(r));
    std::printf("\n");

    // The left fold reduce performs, spelled out: 1*2 = 2, 2*2 = 4, ...
    std::printf("  reduce    : product, folded left to right:");
    std::uint64_t running = mt::product<std::uint64_t>{}.identity();
    for (std::uint64_t r : results) std::printf(" %llu", static_cast<unsigned long long>(running *= r));
    std::printf("\n");

    const std::uint64_t total = mt::reduce(results, mt::product<std::uint64_t>{});
    std::printf("  2^10 = %llu (expected %llu)\n\n", static_cast<unsigned long long>(total),
                static_cast<unsigned long long>(std::uint64_t{1} << 10));
    return total == (std::uint64_t{1} << 10) && running == total;
}

// ---- Part 2: many modular powers --------------------------------------------------

// One base and exponent per index, drawn from (seed, index) only, so that every index
// gets the same pair whichever thread computes it.
struct modular_power {
    std::uint64_t base;      // in [2, p - 1]
    std::uint64_t exponent;  // any 64-bit value
};

modular_power job_for(std::uint64_t seed, long index) {
    std::uint64_t state = seed * 0xD1B54A32D192ED03ull + static_cast<std::uint64_t>(index);
    const std::uint64_t base = 2 + example::splitmix64(state) % (prime - 2);
    return {base, example::splitmix64(state)};
}

// The per-bit decomposition of one power: b^e = product over set bits k of b^(2^k).
struct bit_term {
    std::uint64_t base;
    int bit;  // stands for base^(2^bit)
};

std::vector<bit_term> split_into_bits(const modular_power& job) {
    std::vector<bit_term> terms;
    for (int k = 0; k < 64; ++k) {
        if ((job.exponent >> k) & 1) terms.push_back({job.base, k});
    }
    return terms;
}

std::uint64_t evaluate_term(const bit_term& t) {
    std::uint64_t x = t.base;
    for (int k = 0; k < t.bit; ++k) x = mul_mod(x, x);  // k squarings: base^(2^k)
    return x;
}

}  // namespace

int main(int argc, char** argv) {
    const example::options opts = example::parse(
        argc, argv,
        "2^10 as ten micro-tasks, then the sum mod 2^61-1 of b^e mod 2^61-1 over --size random (b, e) pairs", 6'000'000,
        20'000);
    mt::thread_pool pool = example::make_pool(opts);
    const long n = opts.size;
    const std::uint64_t seed = opts.seed;

    bool ok = classic_illustration(pool);

    // Integer arithmetic mod p is associative bit for bit, so the tag is a true promise:
    // map_reduce may then fold leaves in whatever order is fastest.
    const auto mod_product = mt::make_reducer(
        std::uint64_t{1}, [](std::uint64_t a, std::uint64_t b) { return mul_mod(a, b); }, mt::exactly_associative);
    const auto mod_sum = mt::make_reducer(
        std::uint64_t{0}, [](std::uint64_t a, std::uint64_t b) { return add_mod(a, b); }, mt::exactly_associative);

    std::printf("Part 2: b^e mod p, p = 2^61 - 1, for %ld random (b, e) pairs (seed %lu)\n", n, opts.seed);

    // One power, cut into its bits exactly as 2^10 was cut into its factors.
    const modular_power first = job_for(seed, 0);
    const std::vector<bit_term> terms = mt::decompose(first, split_into_bits);
    const std::uint64_t by_bits = mt::reduce(mt::distribute(pool, terms, evaluate_term), mod_product);
    const std::uint64_t direct = pow_mod(first.base, first.exponent);
    std::printf("  b_0 = %llu, e_0 = %llu\n", static_cast<unsigned long long>(first.base),
                static_cast<unsigned long long>(first.exponent));
    std::printf("  b_0^e_0 mod p = %llu as the product of %zu per-bit subtasks; %llu by square-and-multiply\n",
                static_cast<unsigned long long>(by_bits), terms.size(), static_cast<unsigned long long>(direct));
    // Fermat's little theorem, a cheap independent check of mul_mod: b^(p-1) = 1 (mod p).
    const bool fermat = pow_mod(first.base, prime - 1) == 1;
    std::printf("  Fermat check b_0^(p-1) mod p == 1: %s\n", fermat ? "yes" : "NO");
    ok = ok && by_bits == direct && fermat;

    auto power_at = [seed](long i) {
        const modular_power job = job_for(seed, i);
        return pow_mod(job.base, job.exponent);
    };

    std::uint64_t serial_sum = 0;
    const double serial_s = example::seconds([&] {
        for (long i = 0; i < n; ++i) serial_sum = add_mod(serial_sum, power_at(i));
    });

    // std::async: four chunks per pool thread, one future each, partials summed in order.
    std::uint64_t async_sum = 0;
    const double async_s = example::seconds([&] {
        const long tasks = std::min<long>(n, 4 * static_cast<long>(pool.size()));
        std::vector<std::future<std::uint64_t>> futures;
        for (long t = 0; t < tasks; ++t) {
            const long lo = n * t / tasks;
            const long hi = n * (t + 1) / tasks;
            futures.push_back(std::async(std::launch::async, [&power_at, lo, hi] {
                std::uint64_t s = 0;
                for (long i = lo; i < hi; ++i) s = add_mod(s, power_at(i));
                return s;
            }));
        }
        for (auto& f : futures) async_sum = add_mod(async_sum, f.get());
    });

    std::uint64_t micro_sum = 0;
    const double micro_s =
        example::seconds([&] { micro_sum = mt::map_reduce(pool, mt::iota(0L, n), power_at, mod_sum); });

    std::printf("  sum of b_i^e_i mod p over %ld pairs: microtask %llu, std::async %llu, serial %llu\n\n", n,
                static_cast<unsigned long long>(micro_sum), static_cast<unsigned long long>(async_sum),
                static_cast<unsigned long long>(serial_sum));
    ok = ok && micro_sum == serial_sum && async_sum == serial_sum;
    return example::finish("power_of_two", ok, serial_s, async_s, micro_s);
}
