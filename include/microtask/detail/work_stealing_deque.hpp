// microtask — detail/work_stealing_deque.hpp
// A growable Chase–Lev work-stealing deque (Chase & Lev 2005, with the C11 memory
// orderings of Lê, Pop, Cohen & Zappa Nardelli, PPoPP 2013).
//
// Thread-safety, per member: push(), pop(), pop_above(), bottom_index(), trim() and
// capacity() only from the owner thread; steal(), empty() and size_hint() from any thread.
//
// Each item carries a label (an integer the owner attaches when it pushes) that a thief
// can read before it claims the item, and refuse: the scheduler labels tasks with their
// isolation region (mt::isolate), so that an isolated thief takes only its region's work.
#pragma once

#include <atomic>
#include <cassert>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <new>
#include <type_traits>
#include <vector>

namespace microtask::detail {

// 64 bytes on every x86-64 and most AArch64 parts; std::hardware_destructive_interference_size
// is not used because g++ warns that its value may change between compiler versions (ABI).
inline constexpr std::size_t k_cache_line = 64;

template <class T>
    requires std::is_trivially_copyable_v<T> && std::atomic<T>::is_always_lock_free
class work_stealing_deque {
public:
    /// Outcome of steal(): `lost_race` means another thread took the same item first and
    /// the deque may still hold work, so a thief should try again rather than give up.
    /// `refused`: the oldest item's label was not the one asked for (nothing was taken).
    enum class steal_status : std::uint8_t { success, empty, lost_race, refused };
    using label_type = std::uint64_t;
    /// Passed to steal() to take the oldest item whatever its label.
    static constexpr label_type any_label = ~label_type{0};
    struct steal_result {
        steal_status status;
        T item;
        label_type label = 0;  // the item's label, on success
    };

    // 2 KiB of pointers: a fork tree pushes at most a few items per level, so a seat's
    // ring grows only under task_group-style bursts (and shrinks back when idle).
    static constexpr std::size_t k_default_capacity = 256;

    /// Precondition: initial_capacity is a power of two. Allocates once.
    explicit work_stealing_deque(std::size_t initial_capacity = k_default_capacity)
        : m_array(new ring(initial_capacity)), m_initial_capacity(initial_capacity) {
        cache_ring(m_array.load(std::memory_order_relaxed));
        assert(initial_capacity > 0 && (initial_capacity & (initial_capacity - 1)) == 0);
    }

    work_stealing_deque(const work_stealing_deque&) = delete;
    work_stealing_deque& operator=(const work_stealing_deque&) = delete;

    ~work_stealing_deque() { delete m_array.load(std::memory_order_relaxed); }

    /// Owner only. Amortised O(1); allocates when the ring is full (capacity doubles).
    /// `label` must not be any_label. Returns the item's index, for take_back().
    std::int64_t push(T item, label_type label = 0) {
        const std::int64_t bottom = m_bottom.load(std::memory_order_relaxed);
        // The ring has room below m_push_limit, a top the owner read plus the capacity:
        // top only grows, so the real limit is at least that. Only when that stale value
        // says "full" is top read again: a push touches no line that thieves write (~6%
        // of a fork in fib(32)).
        // The rare case is a call of its own rather than a call in the middle: nothing of
        // the caller then has to survive a call here, which in a fork kept two more
        // callee-saved registers (saved and restored by every call of the forking
        // function, its leaves included).
        if (bottom >= m_push_limit) [[unlikely]] {
            return push_after_making_room(item, label);
        }
        m_owner_cells[static_cast<std::size_t>(bottom) & m_owner_mask].set(item, label);
        // release: a thief that reads the new bottom also sees the item and label stored
        // above and, after a grow, the new ring's contents. (The scheduler's sleep
        // protocol also needs this store ordered before the pusher's next load of the
        // sleeper count: it adds that itself, see scheduler::push_local.)
        m_bottom.store(bottom + 1, std::memory_order_release);
        return bottom;
    }

    /// Owner only. Takes back the item that push() put at `index`, if it is still the
    /// newest item and no thief has claimed it; returns whether it did. The fork's pop:
    /// it knows what it pushed, so it reads no ring slot. O(1), wait-free; a CAS only
    /// when the item is the last one.
    /// Precondition: the owner itself has not popped that item since (the caller knows:
    /// whoever runs the item marks it started). Then the slot at `index` still holds it
    /// whenever bottom is index + 1, since only the owner moves bottom down.
    bool take_back(std::int64_t index) {
        // relaxed: only the owner writes bottom. Something pushed above and left there:
        // the general pop() sorts that out.
        if (m_bottom.load(std::memory_order_relaxed) != index + 1) return false;
        // seq_cst exchange: the same store-load ordering as in pop(), see there.
        m_bottom.exchange(index, std::memory_order_seq_cst);
        std::int64_t top = m_top.load(std::memory_order_seq_cst);
        if (top < index) return true;  // at least one item below ours: no thief can reach it
        bool taken = false;
        if (top == index) {
            // The last item: race a thief for it, as in pop().
            taken = m_top.compare_exchange_strong(top, top + 1, std::memory_order_seq_cst, std::memory_order_relaxed);
        }
        // Empty now either way (top > index: a thief claimed it first).
        m_bottom.store(index + 1, std::memory_order_relaxed);
        return taken;
    }

    /// Owner only: the index the next push will use. Items pushed from now on have
    /// indices >= this; see pop_above().
    [[nodiscard]] std::int64_t bottom_index() const noexcept { return m_bottom.load(std::memory_order_relaxed); }

    /// Owner only. Like pop(), but takes nothing pushed before bottom_index() was `floor`:
    /// a thread inside a region only takes back what it pushed inside that region.
    T pop_above(std::int64_t floor, T empty_value = T{}) {
        // relaxed: only the owner writes bottom.
        if (m_bottom.load(std::memory_order_relaxed) <= floor) return empty_value;
        return pop(empty_value);
    }

    /// Owner only. Takes the most recently pushed item (LIFO), or returns `empty_value`.
    /// O(1), wait-free; a CAS only when one item is left.
    T pop(T empty_value = T{}) {
        const std::int64_t old_bottom = m_bottom.load(std::memory_order_relaxed);
        // Cheap early exit for the idle loops: top only grows, so a stale top that is
        // already >= bottom proves the deque is empty without the locked exchange below.
        if (m_top.load(std::memory_order_relaxed) >= old_bottom) {
            return empty_value;
        }
        const std::int64_t bottom = old_bottom - 1;
        // seq_cst exchange instead of `store; fence(seq_cst)`: the write of bottom must be
        // ordered before the read of top below (store-load ordering: a thief reads top
        // then bottom, so one of the two sides sees the other's write). An RMW gives that
        // ordering as one locked instruction on x86; clang 14 would emit `mfence`
        // (~25 ns) for the fence.
        m_bottom.exchange(bottom, std::memory_order_seq_cst);
        std::int64_t top = m_top.load(std::memory_order_seq_cst);
        if (top > bottom) {  // was empty: restore bottom
            m_bottom.store(bottom + 1, std::memory_order_relaxed);
            return empty_value;
        }
        T item = m_owner_cells[static_cast<std::size_t>(bottom) & m_owner_mask].item.load(std::memory_order_relaxed);
        if (top == bottom) {
            // Last item: race a thief for it. seq_cst so that the CAS is part of the same
            // total order as the thieves' CAS on top.
            if (!m_top.compare_exchange_strong(top, top + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
                item = empty_value;  // a thief won it
            }
            m_bottom.store(bottom + 1, std::memory_order_relaxed);
        }
        return item;
    }

    /// Any thread. Takes the oldest item (FIFO end) if its label is `wanted` (or `wanted`
    /// is any_label); otherwise takes nothing and returns `refused`. Lock-free.
    /// `reading`: the calling thief's own flag, true while it may read a ring, which the
    /// owner's trim() must then be told about (its `readers_idle`). Without one, the thief
    /// is counted in the deque itself: two more atomic RMWs on a line every thief of this
    /// deque writes, which made a stream of small stolen tasks about 10% slower.
    steal_result steal(label_type wanted = any_label, std::atomic<bool>* reading = nullptr) {
        // Invariant: top only grows; an item at index i is valid while top <= i < bottom.
        // seq_cst on both loads: the read of top must be ordered before the read of
        // bottom, pairing with pop()'s exchange of bottom followed by its read of top.
        std::int64_t top = m_top.load(std::memory_order_seq_cst);
        const std::int64_t bottom = m_bottom.load(std::memory_order_seq_cst);
        if (top >= bottom) {
            return {steal_status::empty, T{}, 0};
        }
        // Announce that we may hold a ring pointer: trim() frees retired rings only while
        // no thief is between here and the matching "done" below. seq_cst, with the
        // seq_cst load of m_array after it and trim()'s seq_cst store of m_array and load
        // of the flag or count: if trim() reads "not reading" here, either our announce
        // comes after its load in the total order, so our m_array load comes after its
        // store and sees the new ring, or it read our release "done", so our read of the
        // old ring happened before it is freed.
        if (reading != nullptr) {
            reading->store(true, std::memory_order_seq_cst);
        } else {
            m_thieves.fetch_add(1, std::memory_order_seq_cst);
        }
        // seq_cst (includes acquire): pairs with the stores in grow() and trim(), so a
        // new ring's copied contents are visible; and see above. A ring we read may
        // already be retired; it is not freed while we are counted, and the CAS below
        // fails if the slot was reused.
        ring* array = m_array.load(std::memory_order_seq_cst);
        T item = array->load(top);
        // The label is read like the item (relaxed, before the CAS): if the slot was
        // reused meanwhile, a wrong "yes" is caught by the CAS below, and a wrong "no"
        // only leaves the item for another thief or the owner.
        const label_type label = array->label(top);
        // release: our read of the ring happens before a trim() that reads this.
        if (reading != nullptr) {
            reading->store(false, std::memory_order_release);
        } else {
            m_thieves.fetch_sub(1, std::memory_order_release);
        }
        if (wanted != any_label && label != wanted) return {steal_status::refused, T{}, 0};
        if (!m_top.compare_exchange_strong(top, top + 1, std::memory_order_seq_cst, std::memory_order_relaxed)) {
            return {steal_status::lost_race, T{}, 0};
        }
        return {steal_status::success, item, label};
    }

    /// Any thread: a snapshot that may be stale by the time it returns.
    [[nodiscard]] bool empty() const noexcept {
        // seq_cst: a thread about to sleep uses this as its last look for work, which must
        // be ordered after its announcement that it sleeps (see scheduler::push_local).
        // On x86 and AArch64 a seq_cst load costs the same as an acquire load.
        return m_top.load(std::memory_order_seq_cst) >= m_bottom.load(std::memory_order_seq_cst);
    }

    /// Any thread: approximate number of items.
    [[nodiscard]] std::size_t size_hint() const noexcept {
        const std::int64_t n = m_bottom.load(std::memory_order_relaxed) - m_top.load(std::memory_order_relaxed);
        return n > 0 ? static_cast<std::size_t>(n) : 0;
    }

    /// Owner only. Gives memory back after a burst: if the deque is empty and its ring
    /// has more than `max_idle_capacity` slots, replaces the ring by one of the initial
    /// capacity; then frees the retired rings if no thief can still be reading them.
    /// Never throws (if the small ring cannot be allocated, the big one stays).
    /// O(1) plus the frees.
    /// `readers_idle()` must return true only if no thief that passed its own flag to
    /// steal() has it set, reading each flag with seq_cst (see steal()).
    template <class ReadersIdle>
    void trim(std::size_t max_idle_capacity, ReadersIdle&& readers_idle) noexcept {
        ring* array = m_array.load(std::memory_order_relaxed);
        // relaxed: top only grows, so a stale value can only make the deque look
        // non-empty (no trim); once top >= bottom it stays empty until we push.
        if (array->capacity > max_idle_capacity &&
            m_top.load(std::memory_order_relaxed) >= m_bottom.load(std::memory_order_relaxed)) {
            try {
                m_retired.reserve(m_retired.size() + 1);
                ring* small = new ring(m_initial_capacity);
                m_retired.emplace_back(array);  // cannot throw: reserved
                // seq_cst: see steal(). Also a release: the fresh ring is published to
                // thieves; it holds nothing they could claim (the deque is empty).
                m_array.store(small, std::memory_order_seq_cst);
                cache_ring(small);
            } catch (...) {
                // No memory for the small ring: keep the big one.
            }
        }
        // seq_cst: see steal(); also an acquire of the last thief's release decrement.
        if (!m_retired.empty() && m_thieves.load(std::memory_order_seq_cst) == 0 && readers_idle()) m_retired.clear();
    }

    /// trim() for a deque whose thieves never pass a flag to steal().
    void trim(std::size_t max_idle_capacity) noexcept {
        trim(max_idle_capacity, [] { return true; });
    }

    /// Current capacity of the ring (owner only; for tests).
    [[nodiscard]] std::size_t capacity() const noexcept { return m_array.load(std::memory_order_relaxed)->capacity; }

private:
    struct ring {
        explicit ring(std::size_t cap) : capacity(cap), mask(cap - 1), cells(new cell[cap]) {}
        // Cells are atomics accessed relaxed: a thief may read a cell the owner is
        // rewriting after wrap-around; the thief's CAS on top then fails and the torn
        // value is discarded, but the access itself must not be a data race.
        void store(std::int64_t i, T v, label_type l) noexcept { cells[static_cast<std::size_t>(i) & mask].set(v, l); }
        T load(std::int64_t i) const noexcept {
            return cells[static_cast<std::size_t>(i) & mask].item.load(std::memory_order_relaxed);
        }
        label_type label(std::int64_t i) const noexcept {
            return cells[static_cast<std::size_t>(i) & mask].label.load(std::memory_order_relaxed);
        }
        // Item and label side by side: a thief reads both from one cache line.
        struct cell {
            std::atomic<T> item;
            std::atomic<label_type> label;
            void set(T v, label_type l) noexcept {
                item.store(v, std::memory_order_relaxed);
                label.store(l, std::memory_order_relaxed);
            }
        };
        std::size_t capacity;
        std::size_t mask;
        std::unique_ptr<cell[]> cells;
    };

    // push() when the ring looked full: makes room, then pushes (the push's limit test now
    // passes). Out of line: push() is on every fork, and a grow inlined into it made the
    // push a call with a full prologue.
    [[gnu::noinline]] std::int64_t push_after_making_room(T item, label_type label) {
        make_room(m_bottom.load(std::memory_order_relaxed));
        return push(item, label);
    }

    void make_room(std::int64_t bottom) {
        // acquire: pairs with the thieves' CAS on m_top so that a slot we are about to
        // overwrite after wrap-around has really been read by the thief that took it.
        // Every write of m_top is an RMW, so reading a value v synchronizes with the
        // CASes of every index below v; a later push relying on the limit computed from
        // it is after this load in program order, hence after those reads too.
        const std::int64_t top = m_top.load(std::memory_order_acquire);
        if (bottom - top >= static_cast<std::int64_t>(m_owner_mask + 1)) {
            grow(m_array.load(std::memory_order_relaxed), top, bottom);
        }
        m_push_limit = top + static_cast<std::int64_t>(m_owner_mask + 1);
    }

    ring* grow(ring* old, std::int64_t top, std::int64_t bottom) {
        auto bigger = std::make_unique<ring>(old->capacity * 2);
        for (std::int64_t i = top; i < bottom; ++i) {
            bigger->store(i, old->load(i), old->label(i));
        }
        // Thieves may still be reading the old ring: retire it; trim() or the
        // destructor frees it.
        m_retired.emplace_back(old);
        ring* fresh = bigger.release();
        // seq_cst (includes release): publishes the copied slots to thieves that load
        // m_array, and orders this replacement against trim()'s look at m_thieves.
        m_array.store(fresh, std::memory_order_seq_cst);
        cache_ring(fresh);
        return fresh;
    }

    // The owner's own copy of the current ring's cells and mask, beside bottom: push and
    // pop index the ring without first loading m_array (a dependent load on every fork).
    void cache_ring(ring* r) noexcept {
        m_owner_cells = r->cells.get();
        m_owner_mask = r->mask;
        // The next push reads top again and sets the limit for this ring.
        m_push_limit = 0;
    }

    // top is written by thieves and bottom by the owner: separate cache lines so the
    // owner's pushes do not invalidate the line thieves spin on, and vice versa. The
    // count of thieves inside steal() shares top's line, which thieves write anyway.
    alignas(k_cache_line) std::atomic<std::int64_t> m_top{0};
    std::atomic<std::uint32_t> m_thieves{0};
    alignas(k_cache_line) std::atomic<std::int64_t> m_bottom{0};
    // Owner only: push() may use indices below this without reading top (see push).
    std::int64_t m_push_limit = 0;
    typename ring::cell* m_owner_cells = nullptr;  // owner only: see cache_ring
    std::size_t m_owner_mask = 0;                  // owner only
    alignas(k_cache_line) std::atomic<ring*> m_array;
    std::vector<std::unique_ptr<ring>> m_retired;  // owner only
    std::size_t m_initial_capacity;
};

}  // namespace microtask::detail
