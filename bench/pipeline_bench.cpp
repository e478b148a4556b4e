// Workload "pipeline": 10^5 items through source -> transform -> in-order sink, with 16
// items in flight. The transform is ~2 µs of bench::work per item; source and sink are
// cheap, as in a read / compress / write job.
//
//   pipeline/serial     the plain loop       pipeline/microtask  mt::pipeline
//   pipeline/tbb        tbb::parallel_pipeline (serial_in_order, parallel, serial_in_order)
#include "bench_common.hpp"

#include <cstddef>
#include <cstdint>
#include <optional>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/parallel_pipeline.h>
#endif

namespace {

namespace mt = microtask;
using std::int64_t;

constexpr int64_t k_items = 100'000;
constexpr std::size_t k_in_flight = 16;

std::int64_t transform_item(std::int64_t x) {
    std::int64_t acc = x;
    for (int k = 0; k < 400; ++k) acc += bench::work(acc + k);
    return acc;
}

const std::int64_t& expected() {
    static const std::int64_t want = [] {
        std::int64_t check = 0;
        for (std::int64_t i = 0; i < k_items; ++i) check = check * 31 + transform_item(i);
        return check;
    }();
    return want;
}

template <class Run>
void run_pipeline(benchmark::State& state, Run run) {
    (void)expected();
    std::int64_t check = 0;
    for (auto _ : state) {
        check = run();
        if (check != expected()) state.SkipWithError("pipeline: result differs from the serial loop's");
    }
    bench::finish(state, k_items, check);
}

void pipeline_serial(benchmark::State& state) {
    run_pipeline(state, [] {
        std::int64_t check = 0;
        for (std::int64_t i = 0; i < k_items; ++i) check = check * 31 + transform_item(i);
        return check;
    });
}
void pipeline_microtask(benchmark::State& state) {
    run_pipeline(state, [] {
        std::int64_t next = 0;
        std::int64_t check = 0;
        mt::pipeline(
            bench::pool(), k_in_flight,
            [&]() -> std::optional<std::int64_t> { return next < k_items ? std::optional(next++) : std::nullopt; },
            transform_item, [&](std::int64_t&& y) { check = check * 31 + y; });
        return check;
    });
}
#if MICROTASK_BENCH_HAVE_TBB
void pipeline_tbb(benchmark::State& state) {
    bench::limit_peers();
    run_pipeline(state, [] {
        std::int64_t next = 0;
        std::int64_t check = 0;
        tbb::parallel_pipeline(
            k_in_flight, tbb::make_filter<void, std::int64_t>(tbb::filter_mode::serial_in_order,
                                                              [&](tbb::flow_control& fc) -> std::int64_t {
                                                                  if (next == k_items) {
                                                                      fc.stop();
                                                                      return 0;
                                                                  }
                                                                  return next++;
                                                              }) &
                             tbb::make_filter<std::int64_t, std::int64_t>(
                                 tbb::filter_mode::parallel, [](std::int64_t x) { return transform_item(x); }) &
                             tbb::make_filter<std::int64_t, void>(tbb::filter_mode::serial_in_order,
                                                                  [&](std::int64_t y) { check = check * 31 + y; }));
        return check;
    });
}
#endif

[[maybe_unused]] const bool registered = [] {
    bench::register_peer("pipeline", "serial", pipeline_serial, {k_items}, benchmark::kMillisecond);
    bench::register_peer("pipeline", "microtask", pipeline_microtask, {k_items}, benchmark::kMillisecond);
#if MICROTASK_BENCH_HAVE_TBB
    bench::register_peer("pipeline", "tbb", pipeline_tbb, {k_items}, benchmark::kMillisecond);
#endif
    return true;
}();

}  // namespace
