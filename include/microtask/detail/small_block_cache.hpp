// microtask — detail/small_block_cache.hpp
// Recycles the fixed-size blocks that submitted tasks live in, so that submit() does not
// reach malloc in steady state.
//
// The pattern to serve is producer/consumer: one thread allocates tasks, other threads
// run and free them. Each thread keeps a private free list; a thread whose list grows
// long hands a batch of blocks to a shared depot, and a thread whose list is empty takes
// a whole batch from it: one lock per k_batch blocks, not one per block. The depot keeps
// at most k_depot_batches batches; beyond that, spilled blocks go back to the heap, so a
// burst of tasks does not pin its peak memory for the life of the process.
#pragma once

#include <cstddef>
#include <mutex>
#include <new>
#include <vector>

#if defined(__SANITIZE_ADDRESS__)
#define MICROTASK_DETAIL_RECYCLE_BLOCKS 0  // let AddressSanitizer see every free and reuse
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define MICROTASK_DETAIL_RECYCLE_BLOCKS 0
#endif
#endif
#ifndef MICROTASK_DETAIL_RECYCLE_BLOCKS
#define MICROTASK_DETAIL_RECYCLE_BLOCKS 1
#endif

namespace microtask::detail {

class small_block_cache {
public:
    static constexpr std::size_t k_block_size = 128;  // a task header + a few captures

    static void* allocate(std::size_t size) {
        if (!MICROTASK_DETAIL_RECYCLE_BLOCKS || size > k_block_size || t_cache_destroyed) {
            return ::operator new(size > k_block_size ? size : k_block_size);
        }
        thread_cache& cache = local();
        if (cache.head == nullptr) cache.refill();
        if (cache.head == nullptr) return ::operator new(k_block_size);
        node* block = cache.head;
        cache.head = block->next;
        --cache.count;
        return block;
    }

    static void deallocate(void* pointer, std::size_t size) noexcept {
        // After this thread's cache died (a block freed during static destruction, say)
        // the block goes straight back to the heap.
        if (!MICROTASK_DETAIL_RECYCLE_BLOCKS || size > k_block_size || t_cache_destroyed) {
            ::operator delete(pointer);
            return;
        }
        thread_cache& cache = local();
        auto* block = static_cast<node*>(pointer);
        block->next = cache.head;
        cache.head = block;
        if (++cache.count >= 2 * k_batch) cache.spill();
    }

    /// Gives the depot's batches beyond k_depot_batches back to the heap. Called at a
    /// quiet moment (a worker about to park), not while blocks are spilled: freeing at
    /// every spill made each burst of tasks after the first allocate its blocks from the
    /// heap again (10^5 submits ran ~1.6x slower). Any thread; takes the depot's lock.
    static void trim_depot() noexcept {
        std::vector<node*> surplus;
        {
            depot& shared = depot::instance();
            std::lock_guard lock(shared.mutex);
            if (shared.batches.size() <= k_depot_batches) return;
            try {
                surplus.assign(shared.batches.begin() + static_cast<std::ptrdiff_t>(k_depot_batches),
                               shared.batches.end());
            } catch (...) {
                return;  // no memory for the list: keep the blocks for now
            }
            shared.batches.resize(k_depot_batches);
        }
        for (node* batch : surplus) {
            while (batch != nullptr) {
                node* next = batch->next;
                ::operator delete(batch);
                batch = next;
            }
        }
    }

private:
    static constexpr std::size_t k_batch = 256;
    // 64 batches of 256 blocks of 128 bytes: 2 MiB kept across a quiet moment, enough
    // to serve a steady producer/consumer pattern without touching malloc.
    static constexpr std::size_t k_depot_batches = 64;
    struct node {
        node* next;
    };

    // The depot outlives every thread cache: it is never destroyed (threads, including
    // the default pool's workers, may exit during static destruction). Blocks in it
    // stay reachable, so leak checkers do not report them.
    struct depot {
        std::mutex mutex;
        std::vector<node*> batches;  // each a list of k_batch blocks
        static depot& instance() {
            static depot* const the_depot = new depot;
            return *the_depot;
        }
    };

    struct thread_cache {
        node* head = nullptr;
        std::size_t count = 0;

        void refill() {
            depot& shared = depot::instance();
            std::lock_guard lock(shared.mutex);
            if (shared.batches.empty()) return;
            head = shared.batches.back();
            shared.batches.pop_back();
            count = k_batch;
        }

        void spill() noexcept {
            node* batch = head;
            node* last = head;
            for (std::size_t i = 1; i < k_batch; ++i) last = last->next;
            node* rest = last->next;
            last->next = nullptr;
            depot& shared = depot::instance();
            try {
                std::lock_guard lock(shared.mutex);
                shared.batches.push_back(batch);
            } catch (...) {
                last->next = rest;  // no room in the depot: keep the blocks here
                return;
            }
            head = rest;
            count -= k_batch;
        }

        ~thread_cache() {
            t_cache_destroyed = true;
            while (head != nullptr) {
                node* next = head->next;
                ::operator delete(head);
                head = next;
            }
        }
    };

    // Trivially destructible, so it can still be read after thread_cache is destroyed.
    static inline thread_local bool t_cache_destroyed = false;

    static thread_cache& local() noexcept {
        thread_local thread_cache cache;
        return cache;
    }
};

/// Base for heap tasks: allocation through small_block_cache. Over-aligned tasks (a
/// capture with alignas above 16) go straight to the aligned global operators.
struct recycled_allocation {
    static void* operator new(std::size_t size) { return small_block_cache::allocate(size); }
    static void operator delete(void* pointer, std::size_t size) noexcept {
        small_block_cache::deallocate(pointer, size);
    }
    static void* operator new(std::size_t size, std::align_val_t alignment) { return ::operator new(size, alignment); }
    static void operator delete(void* pointer, std::align_val_t alignment) noexcept {
        ::operator delete(pointer, alignment);
    }
};

}  // namespace microtask::detail
