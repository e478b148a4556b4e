// Workload "ordered_concat": the indices i in [0, n) that pass a cheap filter (about one
// in eight), as a std::vector in increasing order. The result's size is not known in
// advance and the order must be kept, so the partial results are vectors that have to
// be concatenated in input order: it measures the cost of a non-trivial, ordered reducer
// (allocation and moving), not of arithmetic.
#include "bench_common.hpp"

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/blocked_range.h>
#include <tbb/parallel_reduce.h>
#endif

namespace {

namespace mt = microtask;
using std::int64_t;
using index_vector = std::vector<int64_t>;

constexpr int64_t k_size = 10'000'000;

// The low 3 bits of the well-mixed work(i) are zero for ~1/8 of the indices, in no
// regular pattern (so no peer can predict the output size or positions).
bool keep(int64_t i) { return (bench::work(i) & 7) == 0; }

void append_kept(index_vector& out, int64_t begin, int64_t end) {
    for (int64_t i = begin; i < end; ++i)
        if (keep(i)) out.push_back(i);
}

// The serial result for each size, computed once (untimed) for every peer's check.
const index_vector& expected(int64_t n) {
    return bench::computed_once(n, [](int64_t size) {
        index_vector out;
        append_kept(out, 0, size);
        return out;
    });
}

// Checks one result against the serial vector before timing, then times `compute(n)`.
// Every timed result is checked in the loop cheaply (its size and 1024 evenly spaced
// elements: a lost, extra or misplaced element shifts every later one), and the last
// timed result in full after the loop, untimed: comparing ~1.25M elements in every
// iteration would add to the time. Freeing each result is part of every iteration (the previous
// result is freed when the next one is assigned), for every peer alike.
bool same_samples(const index_vector& got, const index_vector& want) {
    constexpr std::size_t k_samples = 1024;
    if (got.size() != want.size()) return false;
    if (want.empty()) return true;
    const std::size_t step = want.size() / k_samples + 1;
    for (std::size_t i = 0; i < want.size(); i += step)
        if (got[i] != want[i]) return false;
    return got.back() == want.back();
}

template <class Compute>
void run(benchmark::State& state, Compute compute) {
    const int64_t n = state.range(0);
    const index_vector& want = expected(n);
    if (compute(n) != want) {
        state.SkipWithError("ordered_concat: vector differs from the serial one");
        return;
    }
    index_vector got;
    for (auto _ : state) {
        got = compute(n);
        benchmark::DoNotOptimize(got.data());
        benchmark::ClobberMemory();
        if (!same_samples(got, want)) {
            state.SkipWithError("ordered_concat: a timed result differs from the serial one (size or samples)");
            break;
        }
    }
    if (state.error_occurred()) return;
    if (got != want) {
        state.SkipWithError("ordered_concat: the last timed vector differs from the serial one");
        return;
    }
    bench::finish(state, n, want);  // items/s = indices examined per second
}

void serial(benchmark::State& state) {
    run(state, [](int64_t n) {
        index_vector out;
        append_kept(out, 0, n);
        return out;
    });
}

// The idiomatic form: every index maps to an optional (nullopt drops it) and concat
// appends the engaged ones in order, straight into each subtask's vector.
void microtask_optional(benchmark::State& state) {
    run(state, [](int64_t n) {
        return mt::map_reduce(
            bench::pool(), mt::iota(int64_t{0}, n),
            [](int64_t i) { return keep(i) ? std::optional<int64_t>(i) : std::nullopt; }, mt::concat<index_vector>{});
    });
}

// The form of the README's first example: every element maps to a 0- or 1-element
// vector and concat joins them in order. Simple, but one allocation per kept index.
void microtask_per_element(benchmark::State& state) {
    run(state, [](int64_t n) {
        return mt::map_reduce(
            bench::pool(), mt::iota(int64_t{0}, n),
            [](int64_t i) { return keep(i) ? index_vector{i} : index_vector{}; }, mt::concat<index_vector>{});
    });
}

// The idiomatic fast form, step by step: cut the indices into parts, build one vector
// per part on the pool, concatenate the vectors in part order. Parts of 65536 indices
// (~150 at n = 10^7) balance well and keep the per-part overhead negligible.
void microtask_chunked(benchmark::State& state) {
    run(state, [](int64_t n) {
        const auto parts = mt::decompose(mt::iota(int64_t{0}, n), mt::grain(65536));
        auto pieces = mt::distribute(bench::pool(), parts, [](auto part) {
            index_vector out;
            for (int64_t i : part)
                if (keep(i)) out.push_back(i);
            return out;
        });
        return mt::reduce(std::move(pieces), mt::concat<index_vector>{});
    });
}

#if MICROTASK_BENCH_HAVE_TBB
// oneTBB's idiom for a container result: the imperative parallel_reduce body, which
// appends to its own vector and joins the right neighbour's vector onto its end. For a
// blocked_range, join always receives the body of the subrange to the right, so the
// order is kept. (The functional form would copy the vector on every body call: it
// passes the accumulator as const Value&.)
struct kept_indices {
    index_vector out;
    kept_indices() = default;
    kept_indices(kept_indices&, tbb::split) {}
    void operator()(const tbb::blocked_range<int64_t>& r) { append_kept(out, r.begin(), r.end()); }
    void join(kept_indices& right) { out.insert(out.end(), right.out.begin(), right.out.end()); }
};

void tbb_reduce(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](int64_t n) {
        kept_indices body;
        tbb::parallel_reduce(tbb::blocked_range<int64_t>(0, n), body);
        return std::move(body.out);
    });
}
#endif

#if MICROTASK_BENCH_HAVE_OPENMP
// Each thread fills its own vector with its schedule(static) chunk. Without a chunk size,
// static gives each thread at most one contiguous chunk, in thread-number order, so
// concatenating the vectors by thread number keeps the index order.
void omp(benchmark::State& state) {
    bench::limit_peers();
    run(state, [](int64_t n) {
        std::vector<index_vector> per_thread(static_cast<std::size_t>(omp_get_max_threads()));
#pragma omp parallel
        {
            index_vector& mine = per_thread[static_cast<std::size_t>(omp_get_thread_num())];
#pragma omp for schedule(static) nowait
            for (int64_t i = 0; i < n; ++i)
                if (keep(i)) mine.push_back(i);
        }
        std::size_t total = 0;
        for (const auto& v : per_thread) total += v.size();
        index_vector out;
        out.reserve(total);
        for (const auto& v : per_thread) out.insert(out.end(), v.begin(), v.end());
        return out;
    });
}
#endif

// Registers "ordered_concat/<peer>/10000000".
void add(const char* peer, void (*fn)(benchmark::State&)) {
    bench::register_peer("ordered_concat", peer, fn, {k_size}, benchmark::kMillisecond);
}

[[maybe_unused]] const bool registered = [] {
    add("serial", serial);
#if MICROTASK_BENCH_HAVE_TBB
    add("tbb_reduce", tbb_reduce);
#endif
#if MICROTASK_BENCH_HAVE_OPENMP
    add("omp", omp);
#endif
    add("microtask", microtask_optional);
    add("microtask_vector_per_element", microtask_per_element);
    add("microtask_chunked", microtask_chunked);
    return true;
}();

}  // namespace
