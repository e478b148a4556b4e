// microtask — detail/private_seats.hpp
// Seats for outside threads that find every guest seat taken: they must still make
// progress, so the number of guest seats is never a hidden limit on callers.
#pragma once

#include "seat.hpp"

#include <atomic>
#include <cstdint>

namespace microtask::detail {

/// A grow-only list of private seats. A private seat is never shown to thieves: forks
/// pushed on it come back to its owner (so a join or a fold run there runs on the calling
/// thread alone), and the scheduler sends its submits to the injection queue. Its owner
/// still helps: it pops, takes injected tasks and steals like any seat, and parks on its
/// own sleep word, where targeted wake-ups (join, task_group) reach it.
///
/// Seats are reused once released and freed only with the list, so a pointer to one stays
/// valid for the pool's lifetime; the list grows to the largest number of outside threads
/// that were seatless at the same moment. claim() and release() from the thread taking or
/// giving back a seat; for_each() from any thread.
class private_seats {
public:
    private_seats() = default;
    private_seats(const private_seats&) = delete;
    private_seats& operator=(const private_seats&) = delete;
    ~private_seats() {
        node* current = m_head.load(std::memory_order_relaxed);
        while (current != nullptr) {
            node* next = current->next;
            delete current;
            current = next;
        }
    }

    /// A free private seat, marked occupied; allocates one when none is free. Lock-free,
    /// never blocks; O(number of private seats). `pool` is the scheduler these seats belong
    /// to, recorded in a new seat. Throws std::bad_alloc.
    seat& claim(std::uint32_t index, scheduler* pool) {
        // acquire: pairs with the release in push below, so `next` and the seat are seen
        // fully built.
        for (node* current = m_head.load(std::memory_order_acquire); current != nullptr; current = current->next) {
            bool expected = false;
            // acquire: takes the seat over from the previous owner's release in release(),
            // so that owner's writes to owner-only state happen before ours.
            if (!current->value.occupied.load(std::memory_order_relaxed) &&
                current->value.occupied.compare_exchange_strong(expected, true, std::memory_order_acquire)) {
                return current->value;
            }
        }
        auto* fresh = new node;
        fresh->value.occupied.store(true, std::memory_order_relaxed);  // not yet shared
        fresh->value.index = index;
        fresh->value.is_guest = true;
        fresh->value.is_private = true;
        fresh->value.pool = pool;
        fresh->value.rng_state = 0x9E3779B97F4A7C15ull * (index + 1);
        node* head = m_head.load(std::memory_order_relaxed);
        do {
            fresh->next = head;
            // release: publishes the built node (and `next`) to for_each() and claim().
        } while (!m_head.compare_exchange_weak(head, fresh, std::memory_order_release, std::memory_order_relaxed));
        return fresh->value;
    }

    /// Gives a seat back. Its deque must be empty. Owner of the seat only.
    static void release(seat& freed) noexcept {
        // release: hands the seat's owner-only state over to the next claimer (acquire).
        freed.occupied.store(false, std::memory_order_release);
    }

    /// Calls fn(seat&) for every private seat, free or not. Any thread.
    template <class Fn>
    void for_each(Fn&& fn) {
        // acquire: see the nodes fully built (pairs with claim()'s release CAS).
        for (node* current = m_head.load(std::memory_order_acquire); current != nullptr; current = current->next) {
            fn(current->value);
        }
    }

private:
    struct node {
        seat value;
        node* next = nullptr;  // written once, before the node is published
    };
    std::atomic<node*> m_head{nullptr};
};

}  // namespace microtask::detail
