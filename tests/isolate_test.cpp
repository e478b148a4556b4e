// mt::isolate, and the stack guard of helping waits (issue 11, item 7).
#include "catch.hpp"
#include "test_support.hpp"

#include <microtask/detail/stack_guard.hpp>
#include <microtask/detail/work_stealing_deque.hpp>
#include <microtask/microtask.hpp>

#include <pthread.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <latch>
#include <mutex>
#include <numeric>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

namespace mt = microtask;
using namespace std::chrono_literals;

namespace {

// > 0 while the calling thread runs a frame of the isolated job (the job's own frames
// nest, so this counts). An unrelated task that starts while it is > 0 was picked up by a
// wait inside the isolated job: exactly what isolation forbids.
thread_local int t_inside_job = 0;
struct inside_job_scope {
    inside_job_scope() noexcept { ++t_inside_job; }
    ~inside_job_scope() { --t_inside_job; }
    inside_job_scope(const inside_job_scope&) = delete;
    inside_job_scope& operator=(const inside_job_scope&) = delete;
};

// A binary tree of joins whose 2^depth leaves each sleep, so that waits happen at every
// level, on the calling thread and on thieves.
long job_tree(mt::thread_pool& pool, int depth) {
    const inside_job_scope scope;
    if (depth == 0) {
        std::this_thread::sleep_for(100us);
        return 1;
    }
    auto [a, b] = mt::join(
        pool, [&] { return job_tree(pool, depth - 1); }, [&] { return job_tree(pool, depth - 1); });
    return a + b;
}

// Set on a thread whose waits must not take unrelated work (the stack-guard test).
thread_local bool t_guarded_caller = false;

struct unrelated_load {
    std::atomic<int> ran{0};
    std::atomic<int> ran_inside_job{0};
    std::atomic<int> ran_on_guarded_caller{0};
};

// Submits `count` unrelated short tasks from a thread of its own (so they sit on its
// leased seat, where every waiting thread can steal them), and waits for them there
// without helping; the returned thread must be joined.
std::thread submit_unrelated(mt::thread_pool& pool, unrelated_load& load, int count, std::latch& submitted) {
    return std::thread([&pool, &load, count, &submitted] {
        std::vector<mt::future<void>> futures;
        futures.reserve(static_cast<std::size_t>(count));
        for (int i = 0; i < count; ++i) {
            futures.push_back(pool.submit([&load] {
                if (t_inside_job > 0) load.ran_inside_job.fetch_add(1);
                if (t_guarded_caller) load.ran_on_guarded_caller.fetch_add(1);
                load.ran.fetch_add(1);
                std::this_thread::sleep_for(50us);
            }));
        }
        submitted.count_down();
        for (auto& f : futures) f.get();
    });
}

}  // namespace

TEST_CASE("isolate returns the function's result, passes references and rethrows", "[isolate]") {
    mt::thread_pool pool(2);
    CHECK(mt::isolate(pool, [] { return 42; }) == 42);
    int value = 1;
    int& same = mt::isolate(pool, [&]() -> int& { return value; });
    CHECK(&same == &value);
    bool ran = false;
    mt::isolate(pool, [&] { ran = true; });
    CHECK(ran);
    CHECK_THROWS_AS(mt::isolate(pool, []() -> int { throw std::runtime_error("inside"); }), std::runtime_error);
    CHECK(mt::isolate([] { return std::string("default pool"); }) == "default pool");
    // The pool is usable afterwards, and isolation nests.
    const long nested = mt::isolate(pool, [&] { return mt::isolate(pool, [&] { return job_tree(pool, 4); }); });
    CHECK(nested == 16);
}

TEST_CASE("waits inside isolate, on the caller and on thieves, never run unrelated tasks", "[isolate]") {
    const int depth = 7;  // 128 leaves of 100 us
    for (std::size_t workers : {1u, 2u, 3u, 5u}) {
        INFO("workers " << workers);
        mt::thread_pool pool(workers);
        unrelated_load load;
        std::latch submitted(1);
        std::thread submitter = submit_unrelated(pool, load, 2000, submitted);
        submitted.wait();
        const long leaves = mt::isolate(pool, [&] { return job_tree(pool, depth); });
        CHECK(leaves == (1L << depth));
        // Also from inside a task of the pool (the usual place for the lock pattern).
        const long from_worker = microtask_test::run_on_worker(
            pool, [&] { return mt::isolate(pool, [&] { return job_tree(pool, depth); }); });
        CHECK(from_worker == (1L << depth));
        submitter.join();
        CHECK(load.ran.load() == 2000);
        CHECK(load.ran_inside_job.load() == 0);
    }
}

TEST_CASE("without isolate the same waits do run unrelated tasks (the detector works)", "[isolate]") {
    // The control for the test above: if the detector could not see a wait picking up an
    // unrelated task, that test would prove nothing. Retried, as it depends on timing.
    int runs_inside = 0;
    for (int attempt = 0; attempt < 5 && runs_inside == 0; ++attempt) {
        mt::thread_pool pool(2);
        unrelated_load load;
        std::latch submitted(1);
        std::thread submitter = submit_unrelated(pool, load, 2000, submitted);
        submitted.wait();
        CHECK(job_tree(pool, 7) == 128);
        submitter.join();
        runs_inside += load.ran_inside_job.load();
    }
    CHECK(runs_inside > 0);
}

TEST_CASE("a lock held across a nested map_reduce inside isolate is never re-entered", "[isolate]") {
    // The classic deadlock: task A locks, runs a parallel loop, and while waiting picks up
    // task B, which locks the same mutex on the same thread. The thread-local flag stands
    // for "this thread holds the mutex"; re-entering is counted instead of deadlocking.
    mt::thread_pool pool(3);
    std::mutex mutex;
    thread_local bool holding = false;
    std::atomic<int> reentered{0};
    std::atomic<long> total{0};
    std::vector<int> values(2000);
    std::iota(values.begin(), values.end(), 0);
    mt::task_group group(pool);
    for (int t = 0; t < 40; ++t) {
        group.run([&] {
            if (holding) {
                reentered.fetch_add(1);
                return;
            }
            const std::lock_guard lock(mutex);
            holding = true;
            total += mt::isolate(pool, [&] {
                return mt::map_reduce(
                    pool, values,
                    [](int x) {
                        if (x % 97 == 0) std::this_thread::sleep_for(20us);
                        return long{x};
                    },
                    mt::sum<long>{}, mt::grain(16));
            });
            holding = false;
        });
    }
    group.wait();
    CHECK(reentered.load() == 0);
    CHECK(total.load() == 40L * (1999L * 2000L / 2));
}

TEST_CASE("a task_group inside isolate is waited for on a one-worker pool", "[isolate]") {
    // The waiting thread must take back its own region's submits (its deque above the
    // region's floor) even though it may not take anything else.
    mt::thread_pool pool(1);
    std::atomic<int> ran{0};
    microtask_test::run_on_worker(pool, [&] {
        // Work queued before the region: below the floor, not the region's.
        mt::task_group outer(pool);
        outer.run([&] { ran.fetch_add(100); });
        mt::isolate(pool, [&] {
            mt::task_group inner(pool);
            for (int i = 0; i < 50; ++i) inner.run([&] { ran.fetch_add(1); });
            inner.wait();
            CHECK(ran.load() == 50);  // the outer task was not run by this wait
        });
        outer.wait();
    });
    CHECK(ran.load() == 150);
}

TEST_CASE("steal takes only items of the label asked for; pop_above keeps what is below the floor", "[isolate]") {
    mt::detail::work_stealing_deque<int> deque(4);
    deque.push(1, 7);
    deque.push(2, 8);
    const std::int64_t floor = deque.bottom_index();
    deque.push(3, 9);
    using status = mt::detail::work_stealing_deque<int>::steal_status;
    CHECK(deque.steal(8).status == status::refused);  // the oldest is labelled 7
    auto taken = deque.steal(7);
    CHECK(taken.status == status::success);
    CHECK(taken.item == 1);
    CHECK(taken.label == 7);
    CHECK(deque.pop_above(floor, -1) == 3);
    CHECK(deque.pop_above(floor, -1) == -1);  // item 2 lies below the floor
    CHECK(deque.pop(-1) == 2);
}

namespace {

// Recurses, 8 KiB a frame, until more than half of the thread's stack is used, then
// calls fn there.
void at_half_stack(const std::function<void()>& fn, int depth = 0) {
    volatile char pad[8192];
    pad[0] = static_cast<char>(depth);
    if (mt::detail::stack_more_than_half_used()) {
        fn();
    } else {
        at_half_stack(fn, depth + 1);
    }
    pad[1] = pad[0];
}

struct stack_thread_args {
    std::function<void()> body;
};

// Runs `body` on a new thread with a 16 MiB stack. Not smaller: glibc carves the thread's
// static TLS out of its stack, and ThreadSanitizer's per-thread state there is large
// enough to fill half of a 1 MiB stack before the thread's first frame.
void run_on_small_stack(std::function<void()> body) {
    pthread_attr_t attributes;
    REQUIRE(pthread_attr_init(&attributes) == 0);
    REQUIRE(pthread_attr_setstacksize(&attributes, std::size_t{16} << 20) == 0);
    stack_thread_args args{std::move(body)};
    pthread_t thread;
    REQUIRE(pthread_create(
                &thread, &attributes,
                [](void* raw) -> void* {
                    static_cast<stack_thread_args*>(raw)->body();
                    return nullptr;
                },
                &args) == 0);
    pthread_attr_destroy(&attributes);
    REQUIRE(pthread_join(thread, nullptr) == 0);
}

}  // namespace

TEST_CASE("the stack guard knows when half of the stack is used", "[isolate][stack]") {
    CHECK_FALSE(mt::detail::stack_more_than_half_used());
    bool deep = false;
    bool shallow = true;
    run_on_small_stack([&] {
        shallow = mt::detail::stack_more_than_half_used();
        at_half_stack([&] { deep = mt::detail::stack_more_than_half_used(); });
    });
    CHECK_FALSE(shallow);
    CHECK(deep);
}

TEST_CASE("a wait with more than half of its stack used steals nothing but finishes", "[isolate][stack]") {
    // A waiting thread that steals a task which waits and steals again stacks frames
    // without bound. Past half of its stack, a wait must take only its own forks.
    mt::thread_pool pool(2);
    unrelated_load load;
    std::latch submitted(1);
    std::thread submitter = submit_unrelated(pool, load, 2000, submitted);
    submitted.wait();
    long leaves = 0;
    run_on_small_stack([&] {
        at_half_stack([&] {
            t_guarded_caller = true;
            leaves = job_tree(pool, 6);
            t_guarded_caller = false;
        });
    });
    submitter.join();
    CHECK(leaves == 64);
    CHECK(load.ran.load() == 2000);
    // Only this thread's stack was half full: the workers' waits may take unrelated
    // tasks, the caller's may not.
    CHECK(load.ran_on_guarded_caller.load() == 0);
}

TEST_CASE("with room on its stack the same caller does steal unrelated tasks (the detector works)",
          "[isolate][stack]") {
    int stolen = 0;
    for (int attempt = 0; attempt < 5 && stolen == 0; ++attempt) {
        mt::thread_pool pool(2);
        unrelated_load load;
        std::latch submitted(1);
        std::thread submitter = submit_unrelated(pool, load, 2000, submitted);
        submitted.wait();
        run_on_small_stack([&] {
            t_guarded_caller = true;
            CHECK(job_tree(pool, 6) == 64);
            t_guarded_caller = false;
        });
        submitter.join();
        stolen += load.ran_on_guarded_caller.load();
    }
    CHECK(stolen > 0);
}
