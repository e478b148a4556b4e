// Workload "find": the first element of 3*10^7 for which a compute-bound predicate holds
// (a four-round integer mix of the element compared with a target, ~5-10 ns a call),
// with the one match near the front (index 1000), at 60% of the range, or nowhere. The
// serial peer is std::find_if; microtask's find_first gives the same answer, find_any
// any match. The argument is where the match is: 0 = index 1000, 60 = at 60%, 100 = none.
//
// Workload "stop_token_cost": map_reduce of the same mix over the same range, without a
// token and with a std::stop_token that is never stopped: the price of cancellability.
#include "bench_common.hpp"

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <numeric>
#include <stop_token>
#include <utility>
#include <vector>

namespace {

namespace mt = microtask;
using std::int64_t;

constexpr std::size_t k_size = 30'000'000;

// Four dependent rounds of bench::work: a few nanoseconds of arithmetic per call that no
// compiler can vectorise or skip, so the search is bound by compute, not memory.
inline int64_t mix(int64_t x) {
    for (int round = 0; round < 4; ++round) x = bench::work(x) ^ (x << 1);
    return x;
}

// The needle: every other element is its own index, this one is negative. A collision of
// mix() with another element would show as a wrong position and fail the run.
constexpr int64_t k_needle = -12345;

// Where the needle goes for an argument (see the top of the file); k_size for nowhere.
std::size_t match_for(int64_t where) {
    if (where == 0) return 1000;
    if (where < 100) return k_size / 100 * static_cast<std::size_t>(where);
    return k_size;
}

// The haystack, built once (untimed) and shared: each run puts the needle in and takes
// it out again.
std::vector<int64_t>& haystack() {
    static std::vector<int64_t> values = [] {
        std::vector<int64_t> v(k_size);
        std::iota(v.begin(), v.end(), int64_t{0});
        return v;
    }();
    return values;
}

template <class Search>
void run(benchmark::State& state, Search search) {
    std::vector<int64_t>& values = haystack();
    const std::size_t match = match_for(state.range(0));
    if (match < k_size) values[match] = k_needle;
    int64_t target = mix(k_needle);
    for (auto _ : state) {
        benchmark::DoNotOptimize(target);  // a runtime target: the predicate stays a real call
        const auto is_match = [target](int64_t x) { return mix(x) == target; };
        const std::size_t found = search(values, is_match);
        if (found != match) {
            state.SkipWithError("find: the search returned the wrong position");
            break;
        }
    }
    if (match < k_size) values[match] = static_cast<int64_t>(match);
    state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(match < k_size ? match : k_size));
}

template <class It>
std::size_t position(const std::vector<int64_t>& values, It it) {
    return static_cast<std::size_t>(it - values.begin());
}

void serial(benchmark::State& state) {
    run(state,
        [](const std::vector<int64_t>& v, auto pred) { return position(v, std::find_if(v.begin(), v.end(), pred)); });
}

void microtask_first(benchmark::State& state) {
    run(state,
        [](const std::vector<int64_t>& v, auto pred) { return position(v, mt::find_first(bench::pool(), v, pred)); });
}

void microtask_first_token(benchmark::State& state) {
    std::stop_source never_stopped;
    run(state, [&](const std::vector<int64_t>& v, auto pred) {
        return position(v, mt::find_first(bench::pool(), v, pred, never_stopped.get_token()));
    });
}

void microtask_any(benchmark::State& state) {
    run(state,
        [](const std::vector<int64_t>& v, auto pred) { return position(v, mt::find_any(bench::pool(), v, pred)); });
}

int64_t mixed_sum(const std::vector<int64_t>& v, const std::stop_token* stop) {
    const auto map = [](int64_t x) { return mix(x) & 0xFFFF; };
    if (stop == nullptr) return mt::map_reduce(bench::pool(), v, map, mt::sum<int64_t>{});
    return mt::map_reduce(bench::pool(), v, map, mt::sum<int64_t>{}, *stop);
}

template <bool WithToken>
void token_cost(benchmark::State& state) {
    std::stop_source never_stopped;
    const std::stop_token token = never_stopped.get_token();
    int64_t sum = 0;
    for (auto _ : state) sum = mixed_sum(haystack(), WithToken ? &token : nullptr);
    bench::finish(state, static_cast<int64_t>(k_size), sum);
}

[[maybe_unused]] const bool registered = [] {
    for (auto [peer, fn] :
         {std::pair{"serial", &serial}, std::pair{"microtask_first", &microtask_first},
          std::pair{"microtask_first_token", &microtask_first_token}, std::pair{"microtask_any", &microtask_any}}) {
        bench::register_peer("find", peer, fn, {0, 60, 100}, benchmark::kMicrosecond);
    }
    bench::register_peer("stop_token_cost", "microtask", &token_cost<false>, {100}, benchmark::kMicrosecond);
    bench::register_peer("stop_token_cost", "microtask_token", &token_cost<true>, {100}, benchmark::kMicrosecond);
    return true;
}();

}  // namespace
