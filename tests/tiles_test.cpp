// mt::tiles: a 2-D index space cut into tiles, through for_each, map_reduce, decompose
// and distribute.
#include <microtask/decompose.hpp>
#include <microtask/distribute.hpp>
#include <microtask/for_each.hpp>
#include <microtask/map_reduce.hpp>
#include <microtask/reducers.hpp>
#include <microtask/tiles.hpp>

#include "catch.hpp"
#include "test_support.hpp"

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <vector>

namespace mt = microtask;

namespace {
std::uint64_t cell_value(std::uint64_t r, std::uint64_t c) { return (r * 1315423911u) ^ (c * 2654435761u); }
}  // namespace

TEST_CASE("for_each over tiles visits every cell exactly once", "[tiles]") {
    const std::size_t threads = GENERATE(1, 2, 5);
    mt::thread_pool pool{threads};
    for (int rows : {0, 1, 3, 17, 301}) {
        for (int cols : {0, 1, 2, 129}) {
            for (int tile : {1, 7, 64}) {
                CAPTURE(rows, cols, tile);
                std::vector<int> visits(static_cast<std::size_t>(rows * cols), 0);
                const auto grid = mt::tiles(mt::iota(0, rows), mt::iota(0, cols), tile, tile + 2);
                // Catch2's assertions are not thread-safe: tasks record, the test thread checks.
                std::atomic<int> bad_tiles{0};
                mt::for_each(pool, grid, [&](mt::tile2d<int> t) {
                    const bool shaped = t.rows.size() <= static_cast<std::size_t>(tile) &&
                                        t.cols.size() <= static_cast<std::size_t>(tile + 2) && t.size() > 0 &&
                                        *t.rows.begin() == static_cast<int>(t.tile_row) * tile &&
                                        *t.cols.begin() == static_cast<int>(t.tile_col) * (tile + 2);
                    if (!shaped) bad_tiles.fetch_add(1, std::memory_order_relaxed);
                    for (int r : t.rows)
                        for (int c : t.cols) ++visits[static_cast<std::size_t>(r * cols + c)];
                });
                REQUIRE(bad_tiles.load() == 0);
                for (int v : visits) REQUIRE(v == 1);
                const std::size_t tiles_expected = rows == 0 || cols == 0
                                                       ? 0
                                                       : static_cast<std::size_t>((rows + tile - 1) / tile) *
                                                             static_cast<std::size_t>((cols + tile + 1) / (tile + 2));
                REQUIRE(grid.size() == tiles_expected);
            }
        }
    }
}

TEST_CASE("map_reduce over tiles equals the serial double loop, offset ranges too", "[tiles]") {
    mt::thread_pool pool{3};
    const std::uint64_t r0 = 5, r1 = 5 + 333, c0 = 1000, c1 = 1000 + 777;
    std::uint64_t expected = 0;
    for (std::uint64_t r = r0; r < r1; ++r)
        for (std::uint64_t c = c0; c < c1; ++c) expected += cell_value(r, c);
    const auto grid = mt::tiles(mt::iota(r0, r1), mt::iota(c0, c1), 16, 31);
    const std::uint64_t got = mt::map_reduce(
        pool, grid,
        [](mt::tile2d<std::uint64_t> t) {
            std::uint64_t sum = 0;
            for (std::uint64_t r : t.rows)
                for (std::uint64_t c : t.cols) sum += cell_value(r, c);
            return sum;
        },
        mt::sum<std::uint64_t>{});
    REQUIRE(got == expected);
}

TEST_CASE("decompose cuts tiles into parts; distribute passes each part's index", "[tiles]") {
    mt::thread_pool pool{4};
    const auto grid = mt::tiles(mt::iota(0, 100), mt::iota(0, 37), 9, 4);
    const auto parts = mt::decompose(grid, mt::chunks(7));
    REQUIRE(parts.size() == 7);
    // Each part reports where it starts; it must be the start of the part with its index.
    struct report {
        std::size_t index;
        std::ptrdiff_t start;
        std::size_t cells;
    };
    const std::vector<report> reports = mt::distribute(pool, parts, [&](std::size_t index, auto part) {
        std::size_t count = 0;
        for (mt::tile2d<int> t : part) count += t.size();
        return report{index, part.begin() - grid.begin(), count};
    });
    std::size_t total = 0;
    for (std::size_t i = 0; i < reports.size(); ++i) {
        REQUIRE(reports[i].index == i);
        REQUIRE(reports[i].start == parts[i].begin() - grid.begin());
        total += reports[i].cells;
    }
    REQUIRE(total == 100u * 37u);
}

TEST_CASE("a tile size below 1 throws std::invalid_argument", "[tiles]") {
    REQUIRE_THROWS_AS(mt::tiles(mt::iota(0, 4), mt::iota(0, 4), 0, 1), std::invalid_argument);
    REQUIRE_THROWS_AS(mt::tiles(mt::iota(0, 4), mt::iota(0, 4), 2, -3), std::invalid_argument);
}
