// The determinism core of mt::mpi without MPI: any cut of the canonical tree, each node
// folded on its own and sent through the wire format, combines into exactly the value
// of one map_reduce. Runs in every variant (tsan and asan too); tests/mpi runs the real
// thing under mpirun.
#include <microtask/detail/mpi_wire.hpp>
#include <microtask/detail/tree_cut.hpp>
#include <microtask/map_reduce.hpp>
#include <microtask/reducers.hpp>

#include "catch.hpp"

#include <bit>
#include <cmath>
#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace mt = microtask;
using mt::detail::tree_node;

namespace {

double term(std::size_t i) {
    const double scale = (i % 3 == 0) ? 1e12 : (i % 3 == 1 ? 1.0 : 1e-9);
    return scale * std::sin(double(i) + 0.5);
}

using any_policy = std::variant<mt::adaptive, mt::grain, mt::chunks>;
any_policy policy_number(int i) {
    switch (i) {
        case 0:
            return mt::adaptive{};
        case 1:
            return mt::grain(3);
        default:
            return mt::chunks(11);
    }
}

// The cuts mt::mpi makes: a static block cover per rank, or on_demand's frontier.
std::vector<tree_node> cut_for(std::size_t leaves, std::size_t ranks, bool frontier) {
    std::vector<tree_node> nodes;
    if (leaves == 0) return nodes;
    if (frontier) {
        const std::size_t wanted = std::min(leaves, ranks * 3);
        mt::detail::nodes_at_depth({0, leaves}, static_cast<unsigned>(std::bit_width(std::bit_ceil(wanted)) - 1),
                                   nodes);
    } else {
        for (std::size_t r = 0; r < ranks; ++r) {
            mt::detail::cover_leaves(mt::detail::leaf_begin(r, leaves, ranks),
                                     mt::detail::leaf_begin(r + 1, leaves, ranks), {0, leaves}, nodes);
        }
    }
    return nodes;
}

// Folds every node of the cut, sends each through the wire format, and combines.
template <class Map, class Red, class Policy>
typename Red::value_type fold_by_cut(mt::thread_pool& pool, std::size_t n, Map map, const Red& red,
                                     const Policy& policy, std::size_t ranks, bool frontier) {
    using value_type = typename Red::value_type;
    const std::size_t leaves = n == 0 ? 0 : policy.leaf_count(n);
    const auto indices = mt::iota(std::size_t{0}, n);
    std::vector<mt::detail::node_value<value_type>> pieces;
    for (const tree_node node : cut_for(leaves, ranks, frontier)) {
        const value_type value =
            mt::detail::fold_node(pool, indices.begin(), n, leaves, node, map, red, policy, mt::call_site{});
        std::vector<std::byte> wire;
        mt::detail::write_wire(value, wire);
        pieces.push_back({node, mt::detail::read_wire<value_type>(wire)});
    }
    return mt::detail::combine_cut(red, pieces, leaves);
}

}  // namespace

TEST_CASE("every cut of the canonical tree reproduces map_reduce bit for bit", "[tree_cut]") {
    mt::thread_pool pool(2);
    const std::size_t n = GENERATE(std::size_t{0}, std::size_t{1}, std::size_t{5}, std::size_t{100}, std::size_t{4099});
    const int policy_index = GENERATE(0, 1, 2);
    const std::size_t ranks = GENERATE(std::size_t{1}, std::size_t{2}, std::size_t{3}, std::size_t{7});
    const bool frontier = GENERATE(false, true);
    CAPTURE(n, policy_index, ranks, frontier);
    std::visit(
        [&](auto policy) {
            const auto indices = mt::iota(std::size_t{0}, n);
            const double single = mt::map_reduce(pool, indices, term, mt::sum<double>{}, policy);
            const double cut = fold_by_cut(pool, n, term, mt::sum<double>{}, policy, ranks, frontier);
            CHECK(std::bit_cast<std::uint64_t>(cut) == std::bit_cast<std::uint64_t>(single));

            const auto keep_odd = [](std::size_t i) {
                return i % 2 == 1 ? std::optional<int>(static_cast<int>(i)) : std::nullopt;
            };
            const auto single_odd = mt::map_reduce(pool, indices, keep_odd, mt::concat<std::vector<int>>{}, policy);
            CHECK(fold_by_cut(pool, n, keep_odd, mt::concat<std::vector<int>>{}, policy, ranks, frontier) ==
                  single_odd);
        },
        policy_number(policy_index));
}

TEST_CASE("a cut combined in another shape gives other bits (the check above can fail)", "[tree_cut]") {
    // A left fold of the static covers instead of the tree: with these terms the low bits
    // differ for some rank count, so a combine_cut that ignored the tree would be caught.
    mt::thread_pool pool(2);
    const std::size_t n = 4099;
    const mt::grain policy(3);
    const std::size_t leaves = policy.leaf_count(n);
    const auto indices = mt::iota(std::size_t{0}, n);
    const double single = mt::map_reduce(pool, indices, term, mt::sum<double>{}, policy);
    int differing = 0;
    for (std::size_t ranks = 2; ranks <= 7; ++ranks) {
        double left_fold = 0;
        for (const tree_node node : cut_for(leaves, ranks, false)) {
            left_fold += mt::detail::fold_node(pool, indices.begin(), n, leaves, node, term, mt::sum<double>{}, policy,
                                               mt::call_site{});
        }
        differing += std::bit_cast<std::uint64_t>(left_fold) != std::bit_cast<std::uint64_t>(single);
    }
    CHECK(differing > 0);
}

TEST_CASE("combine_cut rejects pieces that are not a cut", "[tree_cut]") {
    const mt::sum<double> red;
    std::vector<mt::detail::node_value<double>> gap{{{0, 2}, 1.0}, {{3, 4}, 1.0}};
    CHECK_THROWS_AS(mt::detail::combine_cut(red, gap, 4), std::logic_error);
    std::vector<mt::detail::node_value<double>> misaligned{{{0, 1}, 1.0}, {{1, 3}, 1.0}, {{3, 4}, 1.0}};
    CHECK_THROWS_AS(mt::detail::combine_cut(red, misaligned, 4), std::logic_error);
    std::vector<mt::detail::node_value<int>> short_cover{{{0, 3}, 1}};
    CHECK_THROWS_AS(mt::detail::combine_cut(mt::sum<int>{}, short_cover, 4), std::logic_error);
}

TEST_CASE("the wire format round-trips the built-in kinds", "[tree_cut]") {
    const auto round_trip = [](const auto& value) {
        using T = std::decay_t<decltype(value)>;
        std::vector<std::byte> wire;
        mt::detail::write_wire(value, wire);
        return mt::detail::read_wire<T>(wire);
    };
    CHECK(round_trip(-0.0) == 0.0);
    CHECK(std::signbit(round_trip(-0.0)));
    CHECK(round_trip(std::string("hello")) == "hello");
    CHECK(round_trip(std::vector<int>{1, 2, 3}) == std::vector<int>{1, 2, 3});
    CHECK(round_trip(std::vector<std::string>{"a", "", "ccc"}) == std::vector<std::string>{"a", "", "ccc"});
    CHECK(round_trip(std::vector<bool>{true, false, true}) == std::vector<bool>{true, false, true});
    CHECK(round_trip(std::vector<std::vector<int>>{{1}, {}, {2, 3}}) == std::vector<std::vector<int>>{{1}, {}, {2, 3}});
    std::vector<std::byte> three_bytes(3);
    CHECK_THROWS_AS(mt::detail::read_wire<int>(three_bytes), std::runtime_error);
    CHECK_THROWS_AS(mt::detail::read_wire<std::vector<std::string>>(three_bytes), std::runtime_error);
}
