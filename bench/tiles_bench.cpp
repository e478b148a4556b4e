// Workload "tiles": shade every pixel of a 2048 x 2048 image (a few nanoseconds each,
// bench::work of the pixel's coordinates), over 2-D tiles of 64 x 64.
//
//   tiles/serial     the plain row-major double loop
//   tiles/microtask  mt::for_each over mt::tiles(rows, cols, 64, 64)
//   tiles/tbb        tbb::parallel_for over tbb::blocked_range2d with grain 64 x 64
// Every run's image is checked: its sum and 1024 spread-out pixels against the serial one.
#include "bench_common.hpp"

#include <cstdint>
#include <vector>

#if MICROTASK_BENCH_HAVE_TBB
#include <tbb/blocked_range2d.h>
#include <tbb/parallel_for.h>
#endif

namespace {

namespace mt = microtask;
using std::int64_t;

constexpr int k_side = 2048;
constexpr int k_tile = 64;

std::int32_t shade(int y, int x) { return static_cast<std::int32_t>(bench::work(int64_t{y} * k_side + x) & 0xFFFF); }

const std::vector<std::int32_t>& expected() {
    static const std::vector<std::int32_t> image = [] {
        std::vector<std::int32_t> out(static_cast<std::size_t>(k_side) * k_side);
        for (int y = 0; y < k_side; ++y)
            for (int x = 0; x < k_side; ++x) out[static_cast<std::size_t>(y) * k_side + x] = shade(y, x);
        return out;
    }();
    return image;
}

bool same(const std::vector<std::int32_t>& image) {
    const auto& want = expected();
    for (std::size_t i = 0; i < want.size(); i += want.size() / 1024) {
        if (image[i] != want[i]) return false;
    }
    int64_t a = 0, b = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
        a += image[i];
        b += want[i];
    }
    return a == b;
}

template <class Shade>
void run_image(benchmark::State& state, Shade shade_all) {
    (void)expected();
    std::vector<std::int32_t> image(static_cast<std::size_t>(k_side) * k_side, -1);
    for (auto _ : state) {
        shade_all(image.data());
        benchmark::ClobberMemory();
    }
    if (!same(image)) state.SkipWithError("tiles: image differs from the serial one");
    bench::finish(state, int64_t{k_side} * k_side, image[0]);
}

void tiles_serial(benchmark::State& state) {
    run_image(state, [](std::int32_t* out) {
        for (int y = 0; y < k_side; ++y)
            for (int x = 0; x < k_side; ++x) out[static_cast<std::size_t>(y) * k_side + x] = shade(y, x);
    });
}

void tiles_microtask(benchmark::State& state) {
    run_image(state, [](std::int32_t* out) {
        mt::for_each(bench::pool(), mt::tiles(mt::iota(0, k_side), mt::iota(0, k_side), k_tile, k_tile),
                     [out](const mt::tile2d<int>& tile) {
                         for (int y : tile.rows)
                             for (int x : tile.cols) out[static_cast<std::size_t>(y) * k_side + x] = shade(y, x);
                     });
    });
}

#if MICROTASK_BENCH_HAVE_TBB
void tiles_tbb(benchmark::State& state) {
    bench::limit_peers();
    run_image(state, [](std::int32_t* out) {
        tbb::parallel_for(tbb::blocked_range2d<int>(0, k_side, k_tile, 0, k_side, k_tile),
                          [out](const tbb::blocked_range2d<int>& r) {
                              for (int y = r.rows().begin(); y < r.rows().end(); ++y)
                                  for (int x = r.cols().begin(); x < r.cols().end(); ++x)
                                      out[static_cast<std::size_t>(y) * k_side + x] = shade(y, x);
                          });
    });
}
#endif

[[maybe_unused]] const bool registered = [] {
    bench::register_peer("tiles", "serial", tiles_serial, {k_side}, benchmark::kMillisecond);
    bench::register_peer("tiles", "microtask", tiles_microtask, {k_side}, benchmark::kMillisecond);
#if MICROTASK_BENCH_HAVE_TBB
    bench::register_peer("tiles", "tbb", tiles_tbb, {k_side}, benchmark::kMillisecond);
#endif
    return true;
}();

}  // namespace
