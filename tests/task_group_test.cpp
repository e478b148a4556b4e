#include "test_support.hpp"

#include <microtask/microtask.hpp>

#include "catch.hpp"

#include <atomic>
#include <functional>
#include <stdexcept>
#include <thread>
#include <vector>

namespace mt = microtask;

TEST_CASE("task_group: wait() returns after every task ran", "[task_group]") {
    const auto threads = GENERATE(1, 2, 3, 8);
    mt::thread_pool pool{threads};
    std::atomic<int> runs{0};
    mt::task_group group{pool};
    for (int i = 0; i < 1000; ++i) group.run([&] { runs.fetch_add(1); });
    group.wait();
    REQUIRE(runs == 1000);
    // Reusable.
    group.run([&] { runs.fetch_add(1); });
    group.wait();
    REQUIRE(runs == 1001);
}

TEST_CASE("task_group: tasks may run more tasks of the same group", "[task_group][nested]") {
    mt::thread_pool pool{2};
    std::atomic<int> leaves{0};
    mt::task_group group{pool};
    std::function<void(int)> tree = [&](int depth) {
        if (depth == 0) {
            leaves.fetch_add(1);
            return;
        }
        group.run([&, depth] { tree(depth - 1); });
        group.run([&, depth] { tree(depth - 1); });
    };
    group.run([&] { tree(10); });
    group.wait();
    REQUIRE(leaves == 1024);
}

TEST_CASE("task_group: the first exception is rethrown by wait(), every task still runs", "[task_group][exceptions]") {
    mt::thread_pool pool{3};
    std::atomic<int> runs{0};
    mt::task_group group{pool};
    for (int i = 0; i < 100; ++i) {
        group.run([&, i] {
            runs.fetch_add(1);
            if (i % 10 == 3) throw std::runtime_error("task failed");
        });
    }
    REQUIRE_THROWS_WITH(group.wait(), "task failed");
    REQUIRE(runs == 100);
    // The error was consumed: the next wait succeeds.
    group.run([&] { runs.fetch_add(1); });
    REQUIRE_NOTHROW(group.wait());
    REQUIRE(runs == 101);
}

TEST_CASE("task_group: waiting inside a worker helps instead of deadlocking", "[task_group][nested]") {
    mt::thread_pool pool{1};
    auto result = pool.submit([&pool] {
        mt::task_group inner{pool};
        std::atomic<int> count{0};
        for (int i = 0; i < 64; ++i) inner.run([&] { count.fetch_add(1); });
        inner.wait();
        return count.load();
    });
    REQUIRE(result.get() == 64);
}

TEST_CASE("task_group: the destructor waits for running tasks", "[task_group]") {
    mt::thread_pool pool{2};
    std::atomic<int> runs{0};
    {
        mt::task_group group{pool};
        for (int i = 0; i < 100; ++i) group.run([&] { runs.fetch_add(1); });
    }
    REQUIRE(runs == 100);
}

TEST_CASE("task_group: run() from one thread while another waits and tasks throw (regression)",
          "[task_group][exceptions][concurrency]") {
    // wait() must never observe a half-published exception (it once raced on the
    // exception_ptr and could rethrow a null one).
    mt::thread_pool pool{1};
    mt::task_group group{pool};
    std::atomic<bool> stop{false};
    std::atomic<long> submitted{0};
    std::thread runner([&] {
        for (int i = 0; i < 2000; ++i) {
            group.run([] { throw std::runtime_error("task failed"); });
            submitted.fetch_add(1);
            std::this_thread::yield();
        }
        stop = true;
    });
    long caught = 0, wrong = 0;
    while (!stop.load()) {
        try {
            group.wait();
        } catch (const std::runtime_error&) {
            ++caught;
        } catch (...) {
            ++wrong;
        }
    }
    runner.join();
    try {
        group.wait();
    } catch (const std::runtime_error&) {
        ++caught;
    }
    REQUIRE(wrong == 0);
    REQUIRE(caught >= 1);
    REQUIRE(submitted == 2000);
}

TEST_CASE("task_group: wait() from inside one of the group's own tasks throws std::logic_error instead of hanging",
          "[task_group][errors]") {
    const auto threads = GENERATE(1, 2);
    mt::thread_pool pool{threads};
    mt::task_group group{pool};
    std::atomic<int> ran{0};
    std::atomic<int> refused{0};
    std::atomic<int> not_nested{0};
    // Directly, and from a task of another group that the first group's task helped run
    // while it waited: both frames are inside `group`'s task. Only when that helping
    // happened on the same thread: a thief that took the other group's task holds no
    // frame of `group`, and its wait on `group` would be a real cycle across two threads
    // (group -> this task -> other -> that task -> group), which no check can see.
    group.run([&] {
        ++ran;
        try {
            group.wait();
        } catch (const std::logic_error& error) {
            if (std::string(error.what()).find("own tasks") != std::string::npos) ++refused;
        }
    });
    group.run([&] {
        ++ran;
        const auto helper = std::this_thread::get_id();
        mt::task_group other{pool};
        other.run([&] {
            ++ran;
            if (std::this_thread::get_id() != helper) {
                ++not_nested;
                return;
            }
            try {
                group.wait();
            } catch (const std::logic_error&) {
                ++refused;
            }
        });
        other.wait();  // another group's wait inside a task is fine
    });
    group.wait();
    REQUIRE(ran == 3);
    REQUIRE(refused + not_nested == 2);
    REQUIRE(refused >= 1);

    // An uncaught refusal reaches the outside waiter as the task's exception.
    group.run([&] { group.wait(); });
    REQUIRE_THROWS_WITH(group.wait(), Catch::Contains("microtask::task_group::wait: called from inside"));
    // And the group and the pool still work.
    group.run([&] { ++ran; });
    group.wait();
    REQUIRE(ran == 4);
}

// The self-wait check stops at the first frame older than a group that lives on the
// waiting thread's stack (running_task_frame::runs_task_of): a group declared inside a
// task, whose own task runs nested on the same thread while it helps, must still be caught,
// under frames of unrelated groups further out.
TEST_CASE("task_group: a group declared inside a task refuses a wait from its own task run nested on that thread",
          "[task_group][errors]") {
    mt::thread_pool pool{1};
    mt::task_group outer{pool};
    std::atomic<int> refused{0};
    outer.run([&] {
        mt::task_group inner{pool};
        inner.run([&] {
            try {
                inner.wait();
            } catch (const std::logic_error&) {
                ++refused;
            }
        });
        inner.wait();
    });
    outer.wait();
    REQUIRE(refused == 1);
}
