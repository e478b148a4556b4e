// microtask — worker_hooks.hpp
/// @file
/// Code a pool runs on each of its worker threads when it starts and when it stops.
#pragma once

#include <cstddef>
#include <functional>

namespace microtask {

/// Functions a thread_pool calls on each worker thread with the worker's index in
/// [0, size()): `on_start` before the worker takes any task (name the thread, pin it to a
/// core, set up thread-local state), `on_stop` after its last task, before it exits. Either
/// may be empty. The pool's constructor returns only after every `on_start` has returned;
/// if one throws, the constructor stops the pool and rethrows the first exception.
/// `on_stop` must not throw (the worker would end the program with std::terminate).
/// Both run concurrently on different workers.
struct worker_hooks {
    /// Called first on each worker thread, with its index.
    std::function<void(std::size_t worker_index)> on_start;
    /// Called last on each worker thread, with its index.
    std::function<void(std::size_t worker_index)> on_stop;
};

}  // namespace microtask
