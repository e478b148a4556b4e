// Divide and conquer: sorting seeded random 64-bit integers with merge sort, two ways.
//
//   A. Recursive merge sort: mt::join sorts the two halves in parallel at every level
//      above a cutoff (std::sort below it), then std::merge combines them into a buffer;
//      large merges are themselves split in two with mt::join.
//   B. Sort fixed chunks in parallel and merge them: mt::map_reduce over the chunk indices
//      maps each to its sorted chunk, and a custom "merge" reducer made with
//      mt::make_reducer combines two sorted vectors into one.
//
// Both are checked against std::sort of a copy (which is also the serial time); the
// std::async version sorts 4 pieces per worker, then merges them pairwise in rounds.
//
//   merge_sort [--size N] [--threads N] [--seed N] [--quick]
#include "example_support.hpp"

#include <microtask/microtask.hpp>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <future>
#include <random>
#include <span>
#include <utility>
#include <vector>

namespace mt = microtask;

namespace {

using value = std::int64_t;

// The input depends on the seed only: one generator, filled on one thread.
std::vector<value> make_data(std::size_t n, unsigned long seed) {
    std::mt19937_64 generator(seed);
    std::vector<value> data(n);
    for (value& x : data) x = static_cast<value>(generator());
    return data;
}

// Merges the sorted runs `a` and `b` into `out`. A large merge is split in two independent
// merges, so the top levels of the sort are not one long serial std::merge: the middle
// element of the longer run is located in the shorter one by binary search, everything
// before both cut points goes to the front of `out`, everything after to the back.
void merge_into(mt::thread_pool& pool, std::span<const value> a, std::span<const value> b, std::span<value> out,
                std::size_t cutoff) {
    if (a.size() + b.size() <= 8 * cutoff) {
        std::merge(a.begin(), a.end(), b.begin(), b.end(), out.begin());
        return;
    }
    if (a.size() < b.size()) std::swap(a, b);  // equal integers are indistinguishable: no stability to keep
    const std::size_t cut_a = a.size() / 2;
    const auto cut_b = static_cast<std::size_t>(std::lower_bound(b.begin(), b.end(), a[cut_a]) - b.begin());
    mt::join(
        pool, [&] { merge_into(pool, a.first(cut_a), b.first(cut_b), out.first(cut_a + cut_b), cutoff); },
        [&] { merge_into(pool, a.subspan(cut_a), b.subspan(cut_b), out.subspan(cut_a + cut_b), cutoff); });
}

// Version A. Sorts `src`; the result ends up in `src`, or in `buf` when `into_buf`.
// The halves are sorted into the *other* array, so each level's merge reads one array and
// writes the other, with no copy back (the arrays swap roles level by level).
void merge_sort(mt::thread_pool& pool, std::span<value> src, std::span<value> buf, bool into_buf, std::size_t cutoff) {
    if (src.size() <= cutoff) {  // small: a fork would cost more than it saves
        std::sort(src.begin(), src.end());
        if (into_buf) std::copy(src.begin(), src.end(), buf.begin());
        return;
    }
    const std::size_t half = src.size() / 2;
    mt::join(
        pool, [&] { merge_sort(pool, src.first(half), buf.first(half), !into_buf, cutoff); },
        [&] { merge_sort(pool, src.subspan(half), buf.subspan(half), !into_buf, cutoff); });
    const std::span<value> from = into_buf ? src : buf;
    merge_into(pool, from.first(half), from.subspan(half), into_buf ? buf : src, cutoff);
}

// Version B's reducer: two sorted vectors -> one. Merging is associative (any grouping of
// the merges gives the same sorted sequence) and the empty vector is its identity; it is
// not commutative in general, which a reducer never needs. No mt::exactly_associative tag,
// although the promise would hold: with the tag, map_reduce may fold runs of chunks left to
// right (merge(merge(merge(c0, c1), c2), c3)...), copying the growing prefix once per chunk,
// O(n * chunks); without it, the merges follow the balanced canonical tree, O(n log chunks).
std::vector<value> merge_sorted(std::vector<value> a, std::vector<value> b) {
    if (a.empty()) return b;  // the identity: nothing to copy
    if (b.empty()) return a;
    std::vector<value> out(a.size() + b.size());
    std::merge(a.begin(), a.end(), b.begin(), b.end(), out.begin());
    return out;
}

// The std::async version: sort `pieces` pieces of `v` in parallel, then merge neighbours
// pairwise, one round of futures per level, ping-ponging between `v` and a buffer.
void async_sort(std::vector<value>& v, std::size_t pieces) {
    const std::size_t n = v.size();
    pieces = std::max<std::size_t>(1, std::min(pieces, n));
    std::vector<std::size_t> bounds(pieces + 1);
    for (std::size_t i = 0; i <= pieces; ++i) bounds[i] = i * n / pieces;
    {
        std::vector<std::future<void>> sorts;
        for (std::size_t i = 0; i < pieces; ++i) {
            sorts.push_back(std::async(std::launch::async, [&v, lo = bounds[i], hi = bounds[i + 1]] {
                std::sort(v.begin() + static_cast<std::ptrdiff_t>(lo), v.begin() + static_cast<std::ptrdiff_t>(hi));
            }));
        }
        for (auto& f : sorts) f.get();
    }
    std::vector<value> buffer(n);
    std::vector<value>* from = &v;
    std::vector<value>* to = &buffer;
    while (bounds.size() > 2) {
        std::vector<std::size_t> next{0};
        std::vector<std::future<void>> merges;
        for (std::size_t i = 0; i + 1 < bounds.size(); i += 2) {
            const std::size_t lo = bounds[i];
            const std::size_t mid = bounds[i + 1];
            const std::size_t hi = i + 2 < bounds.size() ? bounds[i + 2] : mid;  // odd one out: copied
            merges.push_back(std::async(std::launch::async, [from, to, lo, mid, hi] {
                const auto f = from->begin();
                std::merge(f + static_cast<std::ptrdiff_t>(lo), f + static_cast<std::ptrdiff_t>(mid),
                           f + static_cast<std::ptrdiff_t>(mid), f + static_cast<std::ptrdiff_t>(hi),
                           to->begin() + static_cast<std::ptrdiff_t>(lo));
            }));
            next.push_back(hi);
        }
        for (auto& f : merges) f.get();
        bounds = std::move(next);
        std::swap(from, to);
    }
    if (from != &v) v.swap(buffer);
}

}  // namespace

int main(int argc, char** argv) {
    const example::options opts = example::parse(
        argc, argv,
        "merge sort of N seeded random 64-bit integers (join, and map_reduce with a merge reducer); --size is N",
        10'000'000, 2'000);
    mt::thread_pool pool = example::make_pool(opts);
    const auto n = static_cast<std::size_t>(opts.size);
    const std::vector<value> data = make_data(n, opts.seed);

    // Serial: std::sort of a copy, the reference every version is checked against.
    std::vector<value> expected = data;
    const double serial_s = example::seconds([&] { std::sort(expected.begin(), expected.end()); });

    // std::async: 4 pieces per pool worker, so that --threads sets its parallelism too.
    std::vector<value> by_async = data;
    const double async_s = example::seconds([&] { async_sort(by_async, 4 * pool.size()); });
    const bool async_ok = by_async == expected;
    by_async = {};

    // A: recursive merge sort with mt::join. The cutoff is 4096 elements, smaller for tiny
    // inputs so that --quick still forks.
    const std::size_t cutoff = std::clamp<std::size_t>(n / 16, 64, 4096);
    std::vector<value> by_join = data;
    const double join_s = example::seconds([&] {
        std::vector<value> buffer(n);
        merge_sort(pool, by_join, buffer, false, cutoff);
    });
    const bool join_ok = by_join == expected;
    by_join = {};

    // B: fixed chunks (a function of N only, never of --threads), each sorted by one
    // subtask, then merged by the reducer in chunk order over map_reduce's balanced tree.
    const std::size_t chunk = std::clamp<std::size_t>(n / 128, 64, std::size_t{1} << 16);
    const std::size_t chunk_count = (n + chunk - 1) / chunk;
    const auto merge_reducer = mt::make_reducer(std::vector<value>{}, merge_sorted);
    std::vector<value> by_chunks;
    const double chunks_s = example::seconds([&] {
        by_chunks = mt::map_reduce(
            pool, mt::iota(std::size_t{0}, chunk_count),
            [&data, chunk, n](std::size_t i) {
                const auto lo = static_cast<std::ptrdiff_t>(i * chunk);
                const auto hi = static_cast<std::ptrdiff_t>(std::min(n, (i + 1) * chunk));
                std::vector<value> part(data.begin() + lo, data.begin() + hi);
                std::sort(part.begin(), part.end());
                return part;
            },
            merge_reducer);
    });
    const bool chunks_ok = by_chunks == expected;
    const bool ok = async_ok && join_ok && chunks_ok;

    std::printf("sorted %zu random 64-bit integers (seed %lu) on %zu workers\n", n, opts.seed, pool.size());
    std::printf("  smallest %lld, median %lld, largest %lld\n", static_cast<long long>(expected.front()),
                static_cast<long long>(expected[n / 2]), static_cast<long long>(expected.back()));
    std::printf("  A  mt::join merge sort (std::sort below %zu elements)      %.4f s  %s\n", cutoff, join_s,
                join_ok ? "= std::sort" : "MISMATCH");
    std::printf("  B  mt::map_reduce, %zu sorted chunks of %zu, merge reducer  %.4f s  %s\n", chunk_count, chunk,
                chunks_s, chunks_ok ? "= std::sort" : "MISMATCH");
    std::printf("     std::async, %zu pieces then pairwise merge rounds        %.4f s  %s\n", 4 * pool.size(), async_s,
                async_ok ? "= std::sort" : "MISMATCH");
    std::printf("     std::sort (serial)                                     %.4f s\n", serial_s);

    return example::finish("merge_sort", ok, serial_s, async_s, join_s);
}
