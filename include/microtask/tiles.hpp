// microtask — tiles.hpp
/// @file
/// 2-D index ranges cut into tiles (like oneTBB's blocked_range2d): rows x columns,
/// handed to for_each, map_reduce, fold, decompose and distribute one tile at a time.
#pragma once

#include "partition.hpp"
#include "range.hpp"

#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <iterator>
#include <ranges>
#include <stdexcept>
#include <string>

namespace microtask {

/// One tile of a tiles2d: the rows and columns it covers, and its place in the grid of
/// tiles (`tile_row`, `tile_col`, counted in tiles from the top left). O(1) to copy.
template <std::integral T>
struct tile2d {
    /// The rows of the tile, [first, last).
    index_range<T> rows;
    /// The columns of the tile, [first, last).
    index_range<T> cols;
    /// Which tile row of the grid this is (0 for the first).
    std::size_t tile_row = 0;
    /// Which tile column of the grid this is (0 for the first).
    std::size_t tile_col = 0;
    /// rows.size() * cols.size(). O(1).
    [[nodiscard]] std::size_t size() const noexcept { return rows.size() * cols.size(); }
};

/// The index space rows x columns cut into tiles of at most tile_rows x tile_cols, as a
/// random-access sized range of mt::tile2d in row-major tile order; so every parallel
/// call that takes a range takes it, and each element it handles is a whole tile:
///
///     mt::for_each(pool, mt::tiles(mt::iota(0, h), mt::iota(0, w), 64, 64), [&](auto tile) {
///         for (int y : tile.rows) for (int x : tile.cols) image[y * w + x] = shade(x, y);
///     });
///
/// The policy then groups consecutive tiles into leaves, as it groups elements of any
/// range. Tiles at the right and bottom edges may be smaller. O(1) to copy and index;
/// any thread (it holds no elements). Not a borrowed range: its iterators point to the
/// tiles2d, which must outlive them and the parts decompose makes of it.
template <std::integral T>
class tiles2d : public std::ranges::view_base {
public:
    /// A random-access iterator whose value is the tile (by value). O(1), noexcept.
    class iterator {
    public:
        /// The tile type.
        using value_type = tile2d<T>;
        /// Signed distance between two iterators.
        using difference_type = std::ptrdiff_t;
        /// A tile by value: there is no stored element to refer to.
        using reference = tile2d<T>;
        /// Random access (C++20 iterator concepts).
        using iterator_concept = std::random_access_iterator_tag;
        /// Random access (legacy iterator requirements).
        using iterator_category = std::random_access_iterator_tag;

        /// An iterator of no range.
        constexpr iterator() noexcept = default;
        /// Tile `index` (row-major) of `grid`.
        constexpr iterator(const tiles2d* grid, std::size_t index) noexcept : m_grid(grid), m_index(index) {}

        /// The current tile.
        constexpr tile2d<T> operator*() const noexcept { return m_grid->tile_at(m_index); }
        /// The tile `n` steps ahead.
        constexpr tile2d<T> operator[](difference_type n) const noexcept {
            return m_grid->tile_at(m_index + static_cast<std::size_t>(n));
        }
        /// Next tile.
        constexpr iterator& operator++() noexcept {
            ++m_index;
            return *this;
        }
        /// Next tile; returns the previous position.
        constexpr iterator operator++(int) noexcept {
            iterator old = *this;
            ++m_index;
            return old;
        }
        /// Previous tile.
        constexpr iterator& operator--() noexcept {
            --m_index;
            return *this;
        }
        /// Previous tile; returns the previous position.
        constexpr iterator operator--(int) noexcept {
            iterator old = *this;
            --m_index;
            return old;
        }
        /// Advances by `n` (which may be negative).
        constexpr iterator& operator+=(difference_type n) noexcept {
            m_index += static_cast<std::size_t>(n);
            return *this;
        }
        /// Moves back by `n` (which may be negative).
        constexpr iterator& operator-=(difference_type n) noexcept {
            m_index -= static_cast<std::size_t>(n);
            return *this;
        }

        friend constexpr iterator operator+(iterator it, difference_type n) noexcept { return it += n; }
        friend constexpr iterator operator+(difference_type n, iterator it) noexcept { return it += n; }
        friend constexpr iterator operator-(iterator it, difference_type n) noexcept { return it -= n; }
        friend constexpr difference_type operator-(iterator a, iterator b) noexcept {
            return static_cast<difference_type>(a.m_index) - static_cast<difference_type>(b.m_index);
        }
        friend constexpr bool operator==(iterator a, iterator b) noexcept { return a.m_index == b.m_index; }
        friend constexpr auto operator<=>(iterator a, iterator b) noexcept { return a.m_index <=> b.m_index; }

    private:
        const tiles2d* m_grid = nullptr;
        std::size_t m_index = 0;
    };

    /// No tiles.
    constexpr tiles2d() noexcept = default;
    /// rows x cols in tiles of at most tile_rows x tile_cols. Throws std::invalid_argument
    /// if a tile size is below 1.
    tiles2d(index_range<T> rows, index_range<T> cols, std::size_t tile_rows, std::size_t tile_cols)
        : m_rows(rows),
          m_cols(cols),
          m_tile_rows(detail::checked_positive(tile_rows, "tiles: tile rows")),
          m_tile_cols(detail::checked_positive(tile_cols, "tiles: tile columns")),
          m_grid_rows(rows.size() / m_tile_rows + (rows.size() % m_tile_rows != 0)),
          m_grid_cols(cols.size() / m_tile_cols + (cols.size() % m_tile_cols != 0)) {}

    /// The first tile. O(1). The range must outlive its iterators (they point to it).
    constexpr iterator begin() const noexcept { return iterator(this, 0); }
    /// Past the last tile. O(1).
    constexpr iterator end() const noexcept { return iterator(this, size()); }
    /// The number of tiles (0 if there are no rows or no columns). O(1).
    [[nodiscard]] constexpr std::size_t size() const noexcept {
        return m_grid_rows == 0 || m_grid_cols == 0 ? 0 : m_grid_rows * m_grid_cols;
    }
    /// True if there is no tile. O(1).
    [[nodiscard]] constexpr bool empty() const noexcept { return size() == 0; }
    /// Tile i in row-major tile order. Precondition: i < size() (unchecked). O(1).
    [[nodiscard]] constexpr tile2d<T> operator[](std::size_t i) const noexcept { return tile_at(i); }
    /// The number of tile rows and tile columns of the grid. O(1).
    [[nodiscard]] constexpr std::size_t grid_rows() const noexcept { return m_grid_rows; }
    /// The number of tile columns of the grid. O(1).
    [[nodiscard]] constexpr std::size_t grid_cols() const noexcept { return m_grid_cols; }

private:
    constexpr tile2d<T> tile_at(std::size_t i) const noexcept {
        const std::size_t tile_row = i / m_grid_cols;
        const std::size_t tile_col = i % m_grid_cols;
        const std::size_t row_first = tile_row * m_tile_rows;
        const std::size_t col_first = tile_col * m_tile_cols;
        const std::size_t row_last = row_first + m_tile_rows < m_rows.size() ? row_first + m_tile_rows : m_rows.size();
        const std::size_t col_last = col_first + m_tile_cols < m_cols.size() ? col_first + m_tile_cols : m_cols.size();
        return {index_range<T>(m_rows[row_first], m_rows[row_last]),
                index_range<T>(m_cols[col_first], m_cols[col_last]), tile_row, tile_col};
    }

    index_range<T> m_rows;
    index_range<T> m_cols;
    std::size_t m_tile_rows = 1;
    std::size_t m_tile_cols = 1;
    std::size_t m_grid_rows = 0;
    std::size_t m_grid_cols = 0;
};

/// The index space rows x cols (two mt::iota ranges of one integer type) in tiles of at
/// most tile_rows x tile_cols; see tiles2d. Throws std::invalid_argument if a tile size
/// is below 1 (negative included). O(1).
template <std::integral T, std::integral Size>
[[nodiscard]] tiles2d<T> tiles(index_range<T> rows, index_range<T> cols, Size tile_rows, Size tile_cols) {
    return tiles2d<T>(rows, cols, detail::checked_positive(tile_rows, "tiles: tile rows"),
                      detail::checked_positive(tile_cols, "tiles: tile columns"));
}

}  // namespace microtask

// tiles2d is not a borrowed range: its iterators point to the tiles2d object, so
// decompose needs it as an lvalue that outlives the parts.
