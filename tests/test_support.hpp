// Shared helpers for the microtask tests.
#pragma once

#include <microtask/thread_pool.hpp>

#include <atomic>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <filesystem>
#include <future>
#include <iterator>
#include <random>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>

namespace microtask_test {

/// Sizes shrink under the sanitizers (which slow code 5-20x) so that the whole test
/// command stays well inside CI's time limit; the plain build runs the full sizes.
constexpr std::size_t scaled(std::size_t full) {
#ifdef MICROTASK_SANITIZED
    return full / 10 > 0 ? full / 10 : 1;
#else
    return full;
#endif
}

/// Runs `fn` on a worker of `pool` and waits with a std::future, so that the calling
/// thread does *not* help (an mt::future::get() from outside would borrow a guest seat
/// and could steal the very subtasks a test wants to see run in a known order).
template <class Fn>
auto run_on_worker(microtask::thread_pool& pool, Fn fn) {
    using result = std::invoke_result_t<Fn&>;
    std::packaged_task<result()> task(std::move(fn));
    auto outcome = task.get_future();
    (void)pool.submit([&task] { task(); });
    return outcome.get();
}

// ---- Reliability tests (stress, deque torture, faults, bad input) ----

/// A 64-bit mixing function (the splitmix64 finaliser): distinct inputs give values
/// that look unrelated, so an ordering or duplication mistake shows up in a hash.
constexpr std::uint64_t mix64(std::uint64_t z) noexcept {
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

/// A small, fast, seedable PRNG (splitmix64: a Weyl sequence passed through mix64): the
/// stress tests derive every random choice from one seed, so a failing run can be
/// replayed from the seed it prints. Shared with fuzz/ (tests and fuzzer, one definition).
class splitmix64 {
public:
    explicit splitmix64(std::uint64_t seed) noexcept : m_state(seed) {}
    std::uint64_t next() noexcept { return mix64(m_state += 0x9E3779B97F4A7C15ull); }
    /// Uniform in [0, bound) (bound > 0; the tiny modulo bias does not matter here).
    std::uint64_t below(std::uint64_t bound) noexcept { return next() % bound; }
    /// Uniform in [low, high].
    std::uint64_t between(std::uint64_t low, std::uint64_t high) noexcept { return low + below(high - low + 1); }
    /// True with probability percent / 100.
    bool chance(unsigned percent) noexcept { return below(100) < percent; }

private:
    std::uint64_t m_state;
};

/// The seed of a randomized test: MICROTASK_STRESS_SEED if set (to replay a failure),
/// else a fresh one. Tests print it (Catch2 INFO and the RELIABILITY line).
inline std::uint64_t stress_seed() {
    if (const char* text = std::getenv("MICROTASK_STRESS_SEED"); text != nullptr && *text != '\0') {
        return std::strtoull(text, nullptr, 0);
    }
    std::random_device device;
    return (std::uint64_t{device()} << 32) ^ device();
}

/// How long a time-boxed stress loop runs, in seconds: MICROTASK_STRESS_SECONDS if set
/// (scripts/stress --long sets hours' worth), else `plain` in the plain build and
/// `sanitized` under the sanitizers, sized so that the whole test command stays short.
inline double stress_seconds(double plain, double sanitized) {
    if (const char* text = std::getenv("MICROTASK_STRESS_SECONDS"); text != nullptr && *text != '\0') {
        return std::strtod(text, nullptr);
    }
#ifdef MICROTASK_SANITIZED
    (void)plain;
    return sanitized;
#else
    (void)sanitized;
    return plain;
#endif
}

/// A wall-clock budget for a time-boxed loop.
class time_budget {
public:
    explicit time_budget(double seconds)
        : m_start(std::chrono::steady_clock::now()),
          m_end(m_start + std::chrono::duration_cast<std::chrono::steady_clock::duration>(
                              std::chrono::duration<double>(seconds))) {}
    [[nodiscard]] bool expired() const { return std::chrono::steady_clock::now() >= m_end; }
    [[nodiscard]] double elapsed_seconds() const {
        return std::chrono::duration<double>(std::chrono::steady_clock::now() - m_start).count();
    }

private:
    std::chrono::steady_clock::time_point m_start;
    std::chrono::steady_clock::time_point m_end;
};

/// Runs `round(round_seed)` again and again until `budget` expires, at least
/// `min_rounds` times; returns the number of rounds. Round r's seed is seed + r * odd, so
/// a failing round (its test CAPTUREs round_seed) replays as round 0 with
/// MICROTASK_STRESS_SEED=<round_seed>.
template <class Round>
std::uint64_t run_rounds(const time_budget& budget, std::uint64_t seed, std::uint64_t min_rounds, Round&& round) {
    std::uint64_t rounds = 0;
    do {
        round(seed + rounds * 0x9E3779B97F4A7C15ull);
        ++rounds;
    } while (!budget.expired() || rounds < min_rounds);
    return rounds;
}

/// Tasks a test submitted and tasks that ran, counted by the tasks themselves, so that
/// a RELIABILITY line's "lost" is submitted minus ran and not a literal. Only tasks the
/// library must run go in: subtasks an exception may cancel are left out. Thread-safe.
struct task_tally {
    std::atomic<std::uint64_t> submitted{0};
    std::atomic<std::uint64_t> ran{0};
    void expect(std::uint64_t tasks) noexcept { submitted.fetch_add(tasks, std::memory_order_relaxed); }
    void run_one() noexcept { ran.fetch_add(1, std::memory_order_relaxed); }
    [[nodiscard]] std::uint64_t lost() const noexcept {
        const std::uint64_t s = submitted.load(), r = ran.load();
        return s > r ? s - r : 0;
    }
};

/// What a reliability test did, printed as one line that scripts collect:
///   RELIABILITY: <name> tasks=<n> faults=<n> bad_inputs=<n> lost=<n> seconds=<s> seed=<s>
/// tasks: tasks that ran (counted by the tasks). faults: injected faults that fired and
/// whose exception reached the caller (checked by the test), not faults planted.
/// lost: tasks submitted (that the library must run) minus tasks that ran.
/// Printed to stdout (collected by `ctest -V` or by running the binary) after the test's
/// checks, which fail it when lost != 0: a failed test prints no line, ctest says why.
struct reliability_counts {
    std::uint64_t tasks = 0;
    std::uint64_t faults = 0;
    std::uint64_t bad_inputs = 0;
    std::uint64_t lost = 0;
    /// Adds a tally's tasks that ran and tasks lost.
    void add(const task_tally& tally) noexcept {
        tasks += tally.ran.load();
        lost += tally.lost();
    }
};

/// When this process started (each ctest test is a process of its own).
inline const std::chrono::steady_clock::time_point k_process_start = std::chrono::steady_clock::now();

/// `seconds` < 0: the time since the process started, i.e. the test's own wall time.
inline void report_reliability(std::string_view name, const reliability_counts& counts, double seconds = -1,
                               std::uint64_t seed = 0) {
    if (seconds < 0)
        seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - k_process_start).count();
    std::printf("RELIABILITY: %.*s tasks=%llu faults=%llu bad_inputs=%llu lost=%llu seconds=%.1f seed=%llu\n",
                static_cast<int>(name.size()), name.data(), static_cast<unsigned long long>(counts.tasks),
                static_cast<unsigned long long>(counts.faults), static_cast<unsigned long long>(counts.bad_inputs),
                static_cast<unsigned long long>(counts.lost), seconds, static_cast<unsigned long long>(seed));
    std::fflush(stdout);
}

/// Number of entries in a /proc directory (threads of this process in /proc/self/task,
/// open file descriptors in /proc/self/fd): what a leak of threads or fds shows up in.
inline std::size_t proc_entry_count(const char* directory) {
    std::error_code error;
    std::filesystem::directory_iterator it(directory, error);
    if (error) return 0;
    return static_cast<std::size_t>(std::distance(it, std::filesystem::directory_iterator{}));
}
inline std::size_t thread_count() { return proc_entry_count("/proc/self/task"); }
/// Includes the descriptor the directory listing itself has open, the same each time.
inline std::size_t open_fd_count() { return proc_entry_count("/proc/self/fd"); }

}  // namespace microtask_test
