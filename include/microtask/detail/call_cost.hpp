// microtask — detail/call_cost.hpp
// What adaptive remembers between calls: the cost of one element at each call site, so
// that a later call known to be short runs as a plain loop on the calling thread with no
// clock read, and one known to be long may split from its first element.
//
// Every estimate is a heuristic that steers scheduling, never results: shared entries
// are written and read with relaxed atomics, and a lost or stale estimate only costs a
// measurement.
#pragma once

#include "../partition.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <limits>

namespace microtask::detail {

// A job finishing sooner than this runs inline: waking a sleeping worker costs
// microseconds, so splitting shorter work makes it slower, not faster.
inline constexpr std::chrono::nanoseconds k_inline_budget{25'000};
// The same budget in the unit of the estimates (picoseconds per element).
inline constexpr double k_inline_budget_picoseconds = std::chrono::duration<double, std::pico>(k_inline_budget).count();
// A piece of a known-short call is handed to a thread searching for work (awake and
// spinning, typically after the previous call) if it is worth at least this: its steal
// and hand-back cost about a microsecond, not the 10-50 us of a futex wake-up. So such a
// call is shared from twice this on (fold_shared_short halves it). Measured on 2 cores,
// back-to-back calls halved by force: calls of 1.8 us gained nothing, calls of 3.7 us
// took 2.4 us (docs/performance.md, "Short calls").
inline constexpr std::chrono::nanoseconds k_split_for_searcher{1'500};
inline constexpr double k_split_for_searcher_picoseconds =
    std::chrono::duration<double, std::pico>(k_split_for_searcher).count();
// Re-measure one call in this many (per thread and instantiation), so that a call site
// whose per-element cost changes (other data, a warmer cache) is re-learned...
inline constexpr std::uint32_t k_remeasure_period = 64;
// ...but no more often than once per this much predicted work: a measured call costs a
// few clock reads and the canonical tree's setup (about 0.3 us here), so measuring one
// call of 64 elements (60 ns) in 64 cost every such call about 5% of its time. Longer would
// cost less, but a site whose cost rises steeply is re-learned only this late.
inline constexpr double k_remeasure_interval_picoseconds = 64e6;  // 64 us
// ...and at least once in this many calls, however short.
inline constexpr std::uint32_t k_remeasure_period_max = 1u << 16;

/// The learned costs of one instantiation of the fold, one entry per call site, in a
/// small open-addressed table. An instantiation is usually called from one site; a
/// function pointer or std::function type may serve many, and each must keep its own
/// estimate (a cheap site must not make an expensive one run inline).
class call_site_costs {
public:
    static constexpr std::uint32_t k_unknown = std::numeric_limits<std::uint32_t>::max();

    /// The cost cell of `site`, claiming a free entry the first time; nullptr when the
    /// table is full around the site's hash (that site then measures every call).
    std::atomic<std::uint32_t>* find(const call_site& site) noexcept {
        const std::uint64_t key = key_of(site);
        for (std::size_t probe = 0; probe < k_probes; ++probe) {
            entry& e = m_entries[(key + probe) % k_entries];
            std::uint64_t seen = e.key.load(std::memory_order_relaxed);
            // Relaxed CAS: the cell's value needs no ordering with the key; a thread that
            // finds the key before the first estimate is stored reads k_unknown.
            if (seen == 0 && e.key.compare_exchange_strong(seen, key, std::memory_order_relaxed)) return &e.cost;
            if (seen == key) return &e.cost;
        }
        return nullptr;
    }

private:
    // 64 sites per instantiation, 8 probes: plenty for the sites that share one
    // function-pointer type in a program; a site past that measures every call.
    static constexpr std::size_t k_entries = 64;
    static constexpr std::size_t k_probes = 8;

    struct entry {
        std::atomic<std::uint64_t> key{0};           // 0: free
        std::atomic<std::uint32_t> cost{k_unknown};  // picoseconds per element
    };

    static std::uint64_t key_of(const call_site& site) noexcept {
        // splitmix64's finaliser over the file name's address and the line; never 0.
        std::uint64_t x = reinterpret_cast<std::uintptr_t>(site.file) * 0x9E3779B97F4A7C15ull + site.line;
        x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
        x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
        return (x ^ (x >> 31)) | 1;
    }

    std::array<entry, k_entries> m_entries{};
};

template <class LeafFold, class Red>
inline call_site_costs t_call_site_costs{};

template <class LeafFold, class Red>
inline thread_local std::uint32_t t_calls_since_measure = 0;

/// Stores a measured cost per element in `cell` (the learning rule of judge_call's
/// estimate). Noise (an interrupt, a preempted thread) only ever lengthens a measurement,
/// and one that came out several times too long used to send the next
/// k_remeasure_period calls down the splitting path, each at several times its inline
/// cost. So a lower cost is taken at once; a higher one at most doubles the estimate, and
/// this thread's next call measures again: a real rise is followed within a few calls
/// (each of which still splits once it outlasts the inline budget), an outlier is undone
/// by the next call.
template <class LeafFold, class Red>
void learn_cost(std::atomic<std::uint32_t>& cell, double picoseconds_per_element) noexcept {
    constexpr double k_most = double(call_site_costs::k_unknown - 1);
    double cost = std::clamp(picoseconds_per_element, 1.0, k_most);  // 0 would make every size short
    // relaxed: the cell is a hint; racing learners each store a plausible cost.
    const std::uint32_t known = cell.load(std::memory_order_relaxed);
    if (known != call_site_costs::k_unknown && cost > 2.0 * known) {
        cost = std::min(2.0 * known, k_most);
        t_calls_since_measure<LeafFold, Red> = k_remeasure_period_max - 1;
    }
    cell.store(static_cast<std::uint32_t>(cost), std::memory_order_relaxed);
}

/// The site this thread last looked up for an instantiation, and its cell: a loop that
/// calls from one site (the common case) skips the hash and probe.
struct last_site_lookup {
    const char* file = nullptr;
    unsigned line = 0;
    std::atomic<std::uint32_t>* cell = nullptr;
};

template <class LeafFold, class Red>
inline thread_local last_site_lookup t_last_site_lookup{};

/// How deep the calling thread is inside map functions of folds. A fold called from
/// inside another fold's map function (recursion, nesting) must not trust a learned
/// cost: one call site then serves every level, and the cheap bottom level's cost per
/// element says nothing about a level whose elements are whole subtrees.
inline thread_local std::uint32_t t_map_depth = 0;

/// Marks the evaluation of map functions (see t_map_depth).
struct map_scope {
    map_scope() noexcept { ++t_map_depth; }
    map_scope(const map_scope&) = delete;
    map_scope& operator=(const map_scope&) = delete;
    ~map_scope() { --t_map_depth; }
};

/// What the learned cost says about a call of `size` elements.
enum class call_length : std::uint8_t { measure, known_short, known_long };

/// A call's verdict, and the cell to store what its measurement learns (nullptr: do not
/// learn, as for a nested call).
struct call_judgement {
    call_length length = call_length::measure;
    std::atomic<std::uint32_t>* cost = nullptr;
    double expected_picoseconds = 0;  // the learned cost times the size (when known)
};

/// Does this short call follow another one made by this thread less than
/// k_back_to_back ago? Only then is waking a worker for the calls to come worth its cost
/// (a futex call here, ~100 us of spinning there): an isolated short call wakes nobody.
/// One clock read; for calls that could be shared only (twice k_split_for_searcher).
inline constexpr std::chrono::microseconds k_back_to_back{100};
inline thread_local std::chrono::steady_clock::time_point t_last_short_call{};

inline bool follows_recent_short_call() noexcept {
    const auto now = std::chrono::steady_clock::now();
    const bool recent = now - t_last_short_call < k_back_to_back;
    t_last_short_call = now;
    return recent;
}

template <class LeafFold, class Red>
call_judgement judge_call(std::size_t size, const call_site& site) noexcept {
    if (t_map_depth != 0) return {};  // nested: never trust (nor teach) the estimate
    last_site_lookup& last = t_last_site_lookup<LeafFold, Red>;
    if (last.file != site.file || last.line != site.line) {
        last = {site.file, site.line, t_call_site_costs<LeafFold, Red>.find(site)};
    }
    std::atomic<std::uint32_t>* cell = last.cell;
    if (cell == nullptr) return {};
    const std::uint32_t cost = cell->load(std::memory_order_relaxed);
    if (cost == call_site_costs::k_unknown) return {call_length::measure, cell};
    const double expected = static_cast<double>(cost) * static_cast<double>(size);
    // Every k_remeasure_period calls, and for short calls only once they add up to
    // k_remeasure_interval of predicted work (a multiply, not a division, per call).
    std::uint32_t& calls = t_calls_since_measure<LeafFold, Red>;
    if (++calls >= k_remeasure_period && (static_cast<double>(calls) * expected >= k_remeasure_interval_picoseconds ||
                                          calls >= k_remeasure_period_max)) {
        calls = 0;
        return {call_length::measure, cell};
    }
    return {expected < k_inline_budget_picoseconds ? call_length::known_short : call_length::known_long, cell,
            expected};
}

}  // namespace microtask::detail
