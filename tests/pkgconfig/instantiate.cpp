// The warnings matrix's program (scripts/test-packaging): every public template
// instantiated, index ranges over several integer types, built with plain compiler
// command lines from `pkg-config --cflags --libs microtask` with -Werror and the strict
// warning flags, then run. Exits non-zero if a result is wrong.
#include <microtask/microtask.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

namespace mt = microtask;

template <class T>
T exercise_indices(mt::thread_pool& pool, T n) {
    const auto range = mt::iota(T{0}, n);
    auto it = range.begin();
    it += 2;
    it -= 1;
    ++it;
    --it;
    it++;
    it--;
    const auto back = it[1] + *(it + 1) + *(1 + it) + *(it - 0) + static_cast<T>(range.end() - it);
    const T probe = range[range.size() - 1];
    T total = mt::map_reduce(
        pool, range, [](T i) { return i; }, mt::sum<T>{});
    total = static_cast<T>(total + mt::map_reduce(
                                       pool, range, [](T i) { return i; }, mt::max<T>{}, mt::grain(3)));
    total = static_cast<T>(total + mt::map_reduce(
                                       range, [](T i) { return i; }, mt::min<T>{}, mt::chunks(3u)));
    total = static_cast<T>(total + mt::reduce(pool, range, mt::sum<T>{}, mt::grain(static_cast<short>(2))));
    const auto parts = mt::decompose(range, mt::chunks(static_cast<std::size_t>(4)));
    const auto partials = mt::distribute(pool, parts, [](auto part) {
        T s{};
        for (std::size_t i = 0; i < part.size(); ++i) s = static_cast<T>(s + part[i]);
        return s;
    });
    total = static_cast<T>(total + mt::reduce(partials, mt::sum<T>{}));
    return static_cast<T>(total + back + probe);
}

int main() {
    mt::thread_pool pool{2};
    // The same answer whatever the index type (modulo 256 for the 8-bit one).
    const long expected = exercise_indices<long>(pool, 40);
    const bool indices_ok = exercise_indices<int>(pool, 40) == expected &&
                            exercise_indices<unsigned>(pool, 40u) == static_cast<unsigned>(expected) &&
                            exercise_indices<std::size_t>(pool, 40u) == static_cast<std::size_t>(expected) &&
                            exercise_indices<short>(pool, 40) == expected &&
                            exercise_indices<long long>(pool, 40) == expected &&
                            exercise_indices<std::uint8_t>(pool, 40) == static_cast<std::uint8_t>(expected);

    std::vector<double> values(100, 0.5);
    mt::for_each(pool, values, [](double& x) { x *= 2.0; });
    mt::for_each(
        values, [](double& x) { x *= 1.0; }, mt::grain(7));
    const double product = mt::map_reduce(
        pool, mt::iota(0, 10), [](int) { return 2.0; }, mt::product<double>{});
    const auto evens = mt::map_reduce(
        pool, mt::iota(0, 50), [](int x) { return x % 2 == 0 ? std::optional<int>{x} : std::nullopt; },
        mt::concat<std::vector<int>>{});
    const auto text = mt::map_reduce(
        pool, mt::iota(0, 5), [](int x) { return std::to_string(x); }, mt::concat<std::string>{});
    const auto queue = mt::map_reduce(
        pool, mt::iota(0, 5), [](int x) { return x; }, mt::concat<std::deque<int>>{});
    const auto longest = mt::map_reduce(
        pool, mt::iota(0, 5), [](int x) { return std::string(static_cast<std::size_t>(x), 'x'); },
        mt::make_reducer(std::string{}, [](std::string a, std::string b) { return a.size() >= b.size() ? a : b; }));
    const auto [a, b] = mt::join(
        pool, [] { return 1; }, [] { return 2.5f; });
    const auto [c, d] = mt::join([] { return 1u; }, [] { return std::string("x"); });
    mt::task_group group{pool};
    int ran = 0;
    group.run([&ran] { ++ran; });
    group.wait();
    auto fut = pool.submit([] { return 42; });
    auto nothing = pool.submit([] {});
    nothing.get();
    // Cancellation with the library's stop vocabulary (std's, or its stand-in on libc++ 14).
    mt::stop_source stop;
    stop.request_stop();
    bool cancelled = false;
    try {
        (void)mt::map_reduce(
            pool, mt::iota(0, 100), [](int x) { return x; }, mt::sum<int>{}, stop.get_token());
    } catch (const mt::operation_cancelled&) {
        cancelled = true;
    }
    mt::deadline limit(std::chrono::hours(1));
    const bool searched = mt::find_first(
                              pool, values, [](double x) { return x > 0.0; }, limit.token()) == values.begin() &&
                          !limit.expired() && limit.request_stop() && limit.token().stop_requested();
    const auto tree = mt::decompose(40, [](int n) { return std::vector<int>(static_cast<std::size_t>(n / 10), 10); });
    const bool ok = indices_ok && product == 1024.0 && evens.size() == 25 && text == "01234" && queue.size() == 5 &&
                    longest.size() == 4 && a == 1 && b > 2.0f && c == 1u && d == "x" && ran == 1 && fut.get() == 42 &&
                    tree.size() == 4 && values[0] == 1.0 && cancelled && searched && mt::version >= 100;
    return ok ? 0 : 1;
}
