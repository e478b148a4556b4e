// microtask — detail/chained_scan.hpp
// The engine behind mt::inclusive_scan and mt::exclusive_scan: a scan over the policy's
// leaves with the leaf offsets chained from leaf to leaf.
//
// Determinism: the result is defined by the leaves alone, never by who computes what.
// With sum_k the left fold of leaf k's elements (starting from its first element) and
// offset_0 = init (or none), offset_k = op(offset_{k-1}, sum_{k-1}); element j of leaf k
// is the left fold of leaf k's elements up to j, started from offset_k. Leaf boundaries
// depend only on n and the policy, so a floating-point scan is bitwise the same for every
// pool size and every schedule.
//
// Schedule: threads take leaves in increasing order from one counter. A thread first
// reduces its leaf to sum_k (reading it into its cache) and publishes it, then waits
// for offset_{k-1} and sum_{k-1}, publishes offset_k and scans the leaf from its cache:
// the input crosses the memory bus about once, as in a serial scan. A leaf whose offset
// is already known when it is taken (always so on one thread) is scanned in one pass that
// computes its sum on the side. A thread only ever waits for a lower leaf, which a
// thread that took it earlier is working on without waiting for anything higher, so the
// chain always completes.
#pragma once

#include "../distribute.hpp"
#include "../range.hpp"
#include "../thread_pool.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <iterator>
#include <memory>
#include <optional>
#include <thread>
#include <type_traits>
#include <utility>

#if defined(__SSE2__) && defined(__x86_64__)
#include <immintrin.h>
#define MICROTASK_DETAIL_STREAM_STORES 1
#else
#define MICROTASK_DETAIL_STREAM_STORES 0
#endif

namespace microtask::detail {

/// Below this many elements the scan runs on the calling thread (through the same leaf
/// chain, so with the same result).
inline constexpr std::size_t k_scan_parallel_threshold = std::size_t{1} << 15;
/// Polls of a leaf's state before a waiting thread yields, and yields before it sleeps on
/// it: a neighbour's sum is usually a fraction of a leaf's work away (microseconds),
/// while a sleep and wake-up costs tens of microseconds, on every leaf it happens to.
inline constexpr int k_scan_spins = 1 << 16;
inline constexpr int k_scan_yields = 64;
/// Outputs at least this large are written with streaming (non-temporal) stores, where
/// the platform has them: they skip reading each output line before writing it, which
/// is a third of a scan's memory traffic. Smaller outputs stay in the cache (32 MiB is
/// this development machine's L3), where a reader after the scan will find them.
inline constexpr std::size_t k_scan_stream_bytes = std::size_t{32} << 20;

/// Can `Out` take streaming stores of T: contiguous 8-byte elements of the same type.
template <class T, class Out>
constexpr bool streamable_output() {
    if constexpr (!MICROTASK_DETAIL_STREAM_STORES || !std::contiguous_iterator<Out>) {
        return false;
    } else {
        return std::is_same_v<std::iter_value_t<Out>, T> && std::is_trivially_copyable_v<T> && sizeof(T) == 8;
    }
}

template <class T, std::random_access_iterator In, std::random_access_iterator Out, class Op, bool Exclusive>
class chained_scan {
public:
    /// `init`: exclusive scans and inclusive scans with an initial value; std::nullopt for
    /// an inclusive scan that starts from the first element.
    chained_scan(In first, Out out, std::size_t size, std::size_t leaves, Op& op, std::optional<T> init)
        : m_first(first),
          m_out(out),
          m_size(size),
          m_leaf_count(leaves),
          m_op(op),
          m_leaves(std::make_unique<leaf_state[]>(leaves)) {
        m_init = std::move(init);
    }

    /// Runs the scan with `participants` threads of `pool` (one of them the caller).
    void run(thread_pool& pool, std::size_t participants) {
        if (participants <= 1) {
            participate();
        } else {
            distribute(pool, index_range<std::size_t>(0, participants), [this](std::size_t) { participate(); });
        }
        if (m_error) std::rethrow_exception(m_error);
    }

private:
    enum : std::uint32_t { k_sum_ready = 1, k_offset_ready = 2, k_failed = 4 };

    struct leaf_state {
        std::atomic<std::uint32_t> flags{0};
        std::optional<T> sum;     // written before k_sum_ready is published
        std::optional<T> offset;  // written before k_offset_ready is published; empty for
                                  // leaf 0 of an inclusive scan without init
    };

    void participate() noexcept {
        for (;;) {
            // relaxed: the counter only hands out distinct leaves; every value a leaf
            // needs from another is published through that leaf's flags.
            const std::size_t leaf = m_next.fetch_add(1, std::memory_order_relaxed);
            if (leaf >= m_leaf_count) return;
            // relaxed: a stale false only costs the work of a leaf whose result is dropped.
            if (m_failed.load(std::memory_order_relaxed)) {
                publish(leaf, k_failed);
                continue;
            }
            try {
                process(leaf);
            } catch (...) {
                // acq_rel: the winner's m_error is read by run() after the participants
                // have joined (distribute's completion orders it too).
                if (!m_failed.exchange(true, std::memory_order_acq_rel)) m_error = std::current_exception();
                publish(leaf, k_failed);
            }
        }
    }

    void process(std::size_t leaf) {
        leaf_state& self = m_leaves[leaf];
        const bool last = leaf + 1 == m_leaf_count;
        if (leaf == 0) {
            self.offset = m_init;
            publish(leaf, k_offset_ready);
            scan_leaf(leaf, self.offset, !last);
            return;
        }
        leaf_state& before = m_leaves[leaf - 1];
        // acquire: pairs with the release in publish(); makes before.sum/offset visible.
        const bool known = (before.flags.load(std::memory_order_acquire) & (k_sum_ready | k_offset_ready)) ==
                           (k_sum_ready | k_offset_ready);
        if (!known && !last) {
            self.sum.emplace(reduce_leaf(leaf));
            publish(leaf, k_sum_ready);
        }
        if (!known) wait_for(leaf - 1);
        self.offset.emplace(chain(before));
        publish(leaf, k_offset_ready);
        scan_leaf(leaf, self.offset, known && !last);
    }

    /// offset_k from leaf k-1's offset and sum (the sum is the whole value when there is
    /// no offset: leaf 0 of an inclusive scan without init).
    T chain(const leaf_state& before) const {
        if (!before.offset) return *before.sum;
        return static_cast<T>(std::invoke(m_op, *before.offset, *before.sum));
    }

    T reduce_leaf(std::size_t leaf) const {
        In it = m_first + diff(begin_of(leaf));
        const In end = m_first + diff(begin_of(leaf + 1));
        T acc = static_cast<T>(*it);
        for (++it; it != end; ++it) acc = static_cast<T>(std::invoke(m_op, std::move(acc), *it));
        return acc;
    }

    /// Writes leaf `leaf`'s outputs from `offset`; if `with_sum`, also computes and
    /// publishes its sum (one pass over the input instead of two).
    void scan_leaf(std::size_t leaf, const std::optional<T>& offset, bool with_sum) {
        if constexpr (streamable_output<T, Out>()) {
            if (m_size * sizeof(T) >= k_scan_stream_bytes) {
                scan_leaf_into<true>(leaf, offset, with_sum);
#if MICROTASK_DETAIL_STREAM_STORES
                // Streaming stores are weakly ordered: fence them before the sum is
                // published and before this thread's part of the scan is reported done.
                _mm_sfence();
#endif
                if (with_sum) publish(leaf, k_sum_ready);
                return;
            }
        }
        scan_leaf_into<false>(leaf, offset, with_sum);
        if (with_sum) publish(leaf, k_sum_ready);
    }

    template <bool Stream>
    static void store(Out out, T&& value) {
        if constexpr (Stream) {
#if MICROTASK_DETAIL_STREAM_STORES
            long long bits;
            std::memcpy(&bits, &value, sizeof bits);
            _mm_stream_si64(reinterpret_cast<long long*>(std::to_address(out)), bits);
#endif
        } else {
            *out = std::move(value);
        }
    }

    template <bool Stream>
    void scan_leaf_into(std::size_t leaf, const std::optional<T>& offset, bool with_sum) {
        const std::size_t begin = begin_of(leaf);
        const std::size_t end = begin_of(leaf + 1);
        In in = m_first + diff(begin);
        Out out = m_out + diff(begin);
        std::optional<T> sum;
        if (with_sum) sum.emplace(static_cast<T>(*in));
        // The first element: the running value starts from the offset, or is the element.
        T acc = [&] {
            if constexpr (Exclusive) {
                return *offset;
            } else {
                return offset ? static_cast<T>(std::invoke(m_op, *offset, *in)) : static_cast<T>(*in);
            }
        }();
        if constexpr (Exclusive) {
            // Read before writing: `out` may be the input itself.
            auto&& x = *in;
            T next = static_cast<T>(std::invoke(m_op, acc, std::forward<decltype(x)>(x)));
            store<Stream>(out, std::move(acc));
            acc = std::move(next);
        } else {
            store<Stream>(out, T(acc));
        }
        ++in;
        ++out;
        for (std::size_t k = begin + 1; k < end; ++k, ++in, ++out) {
            if (with_sum) sum = static_cast<T>(std::invoke(m_op, std::move(*sum), *in));
            if constexpr (Exclusive) {
                T next = static_cast<T>(std::invoke(m_op, acc, *in));
                store<Stream>(out, std::move(acc));
                acc = std::move(next);
            } else {
                acc = static_cast<T>(std::invoke(m_op, std::move(acc), *in));
                store<Stream>(out, T(acc));
            }
        }
        if (with_sum) m_leaves[leaf].sum = std::move(sum);
    }

    void publish(std::size_t leaf, std::uint32_t flag) noexcept {
        // release: the sum or offset written before is visible to whoever acquires the flag.
        m_leaves[leaf].flags.fetch_or(flag, std::memory_order_release);
        m_leaves[leaf].flags.notify_all();
    }

    /// Waits until leaf `leaf` has published its sum and offset; throws if it failed
    /// (the exception itself is the failing leaf's, recorded in m_error).
    void wait_for(std::size_t leaf) {
        std::atomic<std::uint32_t>& flags = m_leaves[leaf].flags;
        constexpr std::uint32_t ready = k_sum_ready | k_offset_ready;
        int spins = 0;
        for (;;) {
            // acquire: pairs with publish(); the leaf's sum and offset are then visible.
            const std::uint32_t seen = flags.load(std::memory_order_acquire);
            if (seen & k_failed) throw chain_broken{};
            if ((seen & ready) == ready) return;
            if (++spins < k_scan_spins) continue;
            if (spins < k_scan_spins + k_scan_yields) {
                std::this_thread::yield();
                continue;
            }
            flags.wait(seen, std::memory_order_acquire);
        }
    }

    /// Thrown to abandon a leaf whose predecessor failed; never the exception recorded
    /// first, which is the failing leaf's own.
    struct chain_broken {};

    std::size_t begin_of(std::size_t leaf) const noexcept { return leaf_begin(leaf, m_size, m_leaf_count); }
    static std::iter_difference_t<In> diff(std::size_t i) noexcept {
        return static_cast<std::iter_difference_t<In>>(i);
    }

    In m_first;
    Out m_out;
    std::size_t m_size;
    std::size_t m_leaf_count;
    Op& m_op;
    std::optional<T> m_init;
    std::unique_ptr<leaf_state[]> m_leaves;
    std::atomic<std::size_t> m_next{0};
    std::atomic<bool> m_failed{false};
    std::exception_ptr m_error;
};

/// Scans [first, first + size) into `out` over the policy's leaves on `pool`.
template <class T, bool Exclusive, class In, class Out, class Op, class Policy>
Out run_scan(thread_pool& pool, In first, std::size_t size, Out out, Op& op, std::optional<T> init,
             const Policy& policy) {
    if (size == 0) return out;
    chained_scan<T, In, Out, Op, Exclusive> scan(first, out, size, policy.leaf_count(size), op, std::move(init));
    scan.run(pool, size < k_scan_parallel_threshold ? 1 : pool.size() + 1);
    return out + static_cast<std::iter_difference_t<Out>>(size);
}

}  // namespace microtask::detail
