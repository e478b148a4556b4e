// microtask — detail/asymmetric_fence.hpp
// A store-load fence split unevenly between two sides of a Dekker pairing: the frequent
// side (a fork's push) pays nothing but a compiler barrier, the rare side (a thread about
// to sleep) pays a system call that makes every running thread of the process execute a
// full memory barrier (Linux membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED).
//
// The guarantee, as for a pair of seq_cst fences: if thread A runs `store X; light();
// load Y` and thread B runs `store Y; heavy(); load X`, then A's load sees B's store or
// B's load sees A's store (or both). membarrier delivers it because the kernel runs a
// full barrier on every CPU that is running one of our threads (and a context switch is
// one for the rest) at some point during the call: A's program is cut at that point
// either before its store (then A's load, after the point, sees B's earlier store) or
// after it (then the store is visible when B's load runs). The compiler barrier keeps A's
// store and load in program order in the generated code; the CPU's own reordering of
// them is what the remote barrier rules out.
//
// Where membarrier is missing (not Linux, a kernel before 4.14, a seccomp filter that
// refuses it), both sides use a seq_cst thread fence: correct, as slow as before.
#pragma once

#include <atomic>

#if defined(__linux__) && __has_include(<linux/membarrier.h>)
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>
#define MICROTASK_DETAIL_HAVE_MEMBARRIER 1
#else
#define MICROTASK_DETAIL_HAVE_MEMBARRIER 0
#endif

#if defined(__SANITIZE_THREAD__)
#define MICROTASK_DETAIL_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define MICROTASK_DETAIL_TSAN 1
#endif
#endif

namespace microtask::detail {

/// A full store-load fence (seq_cst). Under ThreadSanitizer, which does not support
/// fences (g++ warns with -Wtsan in every program that includes this header), a seq_cst
/// RMW on a thread-local object instead: a locked instruction, the same full barrier on
/// x86 and AArch64.
inline void full_fence() noexcept {
#if defined(MICROTASK_DETAIL_TSAN)
    thread_local std::atomic<int> fence_word{0};
    fence_word.fetch_add(0, std::memory_order_seq_cst);
#else
    std::atomic_thread_fence(std::memory_order_seq_cst);
#endif
}

/// Whether the process may use membarrier: unknown until the first pool is built, then
/// fixed for the life of the process (it only ever moves from k_unknown, once).
enum class membarrier_mode : int { k_unknown = 0, k_available = 1, k_unavailable = 2 };
inline std::atomic<membarrier_mode> g_membarrier_mode{membarrier_mode::k_unknown};

/// Registers the process for expedited membarrier if it can. Called by every scheduler's
/// constructor, before its workers start, so that every thread that later uses a pool
/// sees the final mode (thread creation, and handing the pool to another thread, order
/// the store below before their loads). Idempotent; any thread; never throws.
inline void prepare_asymmetric_fences() noexcept {
    // relaxed: the mode is published to the pool's users by whatever publishes the pool.
    if (g_membarrier_mode.load(std::memory_order_relaxed) != membarrier_mode::k_unknown) return;
    membarrier_mode mode = membarrier_mode::k_unavailable;
#if MICROTASK_DETAIL_HAVE_MEMBARRIER
    const long supported = syscall(SYS_membarrier, MEMBARRIER_CMD_QUERY, 0);
    if (supported > 0 && (supported & MEMBARRIER_CMD_PRIVATE_EXPEDITED) != 0 &&
        syscall(SYS_membarrier, MEMBARRIER_CMD_REGISTER_PRIVATE_EXPEDITED, 0) == 0) {
        mode = membarrier_mode::k_available;
    }
#endif
    // Two first pools racing here both store the same answer.
    g_membarrier_mode.store(mode, std::memory_order_relaxed);
}

/// The frequent side's half of a store-load fence: a compiler barrier when membarrier
/// is in use, else a seq_cst fence. O(1); any thread.
inline void light_fence() noexcept {
    if (g_membarrier_mode.load(std::memory_order_relaxed) == membarrier_mode::k_available) {
        std::atomic_signal_fence(std::memory_order_seq_cst);
    } else {
        full_fence();
    }
}

/// The rare side's half: a barrier on every running thread of the process (a few
/// microseconds, and an interrupt on each CPU running one of our threads), else a seq_cst
/// fence. Any thread; never throws.
inline void heavy_fence() noexcept {
#if MICROTASK_DETAIL_HAVE_MEMBARRIER
    if (g_membarrier_mode.load(std::memory_order_relaxed) == membarrier_mode::k_available) {
        if (syscall(SYS_membarrier, MEMBARRIER_CMD_PRIVATE_EXPEDITED, 0) == 0) return;
        // The kernel documents no failure for a registered process. Should one happen
        // anyway, every later light_fence() becomes a real fence.
        g_membarrier_mode.store(membarrier_mode::k_unavailable, std::memory_order_seq_cst);
    }
#endif
    full_fence();
}

}  // namespace microtask::detail
