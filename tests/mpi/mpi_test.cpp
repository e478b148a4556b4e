// mt::mpi under mpirun (1 to 4 ranks, shared memory or TCP): every result must be bitwise
// the single-process map_reduce's, on every rank.
//
// Collective discipline: every rank must make the same mt::mpi calls in the same order,
// so the checks are CHECKs (a failed REQUIRE would end a test case on one rank only and
// leave the others waiting in the next collective; ctest's timeout is the backstop).
#define CATCH_CONFIG_RUNNER
#include "../catch.hpp"

#include <microtask/map_reduce.hpp>
#include <microtask/mpi.hpp>
#include <microtask/reduce.hpp>
#include <microtask/reducers.hpp>

#include <bit>
#include <climits>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace mt = microtask;

namespace {

int world_rank() {
    int rank = 0;
    MPI_Comm_rank(MPI_COMM_WORLD, &rank);
    return rank;
}
int world_size() {
    int size = 0;
    MPI_Comm_size(MPI_COMM_WORLD, &size);
    return size;
}

// Ranks get different pool sizes (1, 2, 1, 2...): the result must not depend on them.
mt::thread_pool& rank_pool() {
    static mt::thread_pool pool(1 + world_rank() % 2);
    return pool;
}

using any_policy = std::variant<mt::adaptive, mt::grain, mt::chunks>;
any_policy policy_number(int i) {
    switch (i) {
        case 0:
            return mt::adaptive{};
        case 1:
            return mt::grain(7);
        case 2:
            return mt::chunks(5);
        default:
            return mt::grain(1);
    }
}
using any_balance = std::variant<mt::mpi::static_blocks, mt::mpi::on_demand>;
any_balance balance_number(int i) {
    switch (i) {
        case 0:
            return mt::mpi::static_blocks{};
        case 1:
            return mt::mpi::on_demand(1);
        default:
            return mt::mpi::on_demand(4);
    }
}

// Terms over many magnitudes: a different grouping of the additions changes the low bits.
double term(std::size_t i) {
    const double scale = (i % 3 == 0) ? 1e12 : (i % 3 == 1 ? 1.0 : 1e-9);
    return scale * std::sin(double(i) + 0.5);
}

std::uint64_t bits(double x) { return std::bit_cast<std::uint64_t>(x); }

// A 2x2 matrix product: associative in exact arithmetic, not in floating point, and not
// commutative: only the canonical tree in input order reproduces it.
struct mat2 {
    double a = 1, b = 0, c = 0, d = 1;
};
mat2 multiply(const mat2& x, const mat2& y) {
    return {x.a * y.a + x.b * y.c, x.a * y.b + x.b * y.d, x.c * y.a + x.d * y.c, x.c * y.b + x.d * y.d};
}
mat2 rotation_like(std::size_t i) {
    const double t = 0.001 * double(i % 97) + 0.3;
    return {std::cos(t), -std::sin(t) * 1.0000001, std::sin(t), std::cos(t) * 0.9999999};
}
bool same_bits(const mat2& x, const mat2& y) { return std::memcmp(&x, &y, sizeof(mat2)) == 0; }

}  // namespace

// A histogram keyed by value: not trivially copyable, so it needs a serializer.
using tally = std::map<int, long>;
template <>
struct microtask::mpi::serializer<tally> {
    static void write(const tally& value, std::vector<std::byte>& out) {
        for (const auto& [key, count] : value) {
            const std::int64_t words[2] = {key, count};
            const auto* bytes = reinterpret_cast<const std::byte*>(words);
            out.insert(out.end(), bytes, bytes + sizeof words);
        }
    }
    static tally read(std::span<const std::byte> bytes) {
        tally value;
        for (std::size_t at = 0; at + 2 * sizeof(std::int64_t) <= bytes.size(); at += 2 * sizeof(std::int64_t)) {
            std::int64_t words[2];
            std::memcpy(words, bytes.data() + at, sizeof words);
            value[static_cast<int>(words[0])] = words[1];
        }
        return value;
    }
};
static_assert(mt::mpi::serializable<tally>);
static_assert(mt::mpi::serializable<std::vector<std::string>>);
static_assert(mt::mpi::serializable<mat2>);
static_assert(!mt::mpi::serializable<std::map<int, int>>);
static_assert(!mt::mpi::serializable<int*>);

TEST_CASE("sum<double> is bitwise the single-process sum on every rank", "[mpi]") {
    const std::size_t n = GENERATE(std::size_t{0}, std::size_t{1}, std::size_t{2}, std::size_t{37}, std::size_t{5000},
                                   std::size_t{123457});
    const int policy_index = GENERATE(0, 1, 2, 3);
    const int balance_index = GENERATE(0, 1, 2);
    if (policy_index == 3 && n > 5000) return;  // grain(1) of 10^5 leaves: slow, adds nothing
    CAPTURE(n, policy_index, balance_index, world_size());
    const auto indices = mt::iota(std::size_t{0}, n);
    std::visit(
        [&](auto policy, auto balance) {
            const double single = mt::map_reduce(rank_pool(), indices, term, mt::sum<double>{}, policy);
            const double distributed =
                mt::mpi::map_reduce(MPI_COMM_WORLD, rank_pool(), indices, term, mt::sum<double>{}, policy, balance);
            CHECK(bits(distributed) == bits(single));
        },
        policy_number(policy_index), balance_number(balance_index));
}

TEST_CASE("the data is sensitive to the combination order (the sum test can fail)", "[mpi]") {
    // Sequential left-to-right differs from the canonical tree with these terms: a
    // distributed sum that combined rank partials in any other shape would be caught.
    const std::size_t n = 5000;
    double sequential = 0;
    for (std::size_t i = 0; i < n; ++i) sequential += term(i);
    const double tree = mt::map_reduce(rank_pool(), mt::iota(std::size_t{0}, n), term, mt::sum<double>{}, mt::grain(7));
    CHECK(bits(sequential) != bits(tree));
}

TEST_CASE("concat keeps the global order", "[mpi]") {
    const std::size_t n = GENERATE(std::size_t{0}, std::size_t{3}, std::size_t{1000}, std::size_t{54321});
    const int policy_index = GENERATE(0, 1, 2);
    const int balance_index = GENERATE(0, 1, 2);
    CAPTURE(n, policy_index, balance_index);
    const auto keep_odd = [](std::size_t i) {
        return i % 2 == 1 ? std::optional<std::int32_t>(static_cast<std::int32_t>(i)) : std::nullopt;
    };
    std::visit(
        [&](auto policy, auto balance) {
            const auto indices = mt::iota(std::size_t{0}, n);
            const auto single =
                mt::map_reduce(rank_pool(), indices, keep_odd, mt::concat<std::vector<std::int32_t>>{}, policy);
            const auto distributed = mt::mpi::map_reduce(MPI_COMM_WORLD, rank_pool(), indices, keep_odd,
                                                         mt::concat<std::vector<std::int32_t>>{}, policy, balance);
            CHECK(distributed.size() == n / 2);
            CHECK(distributed == single);
        },
        policy_number(policy_index), balance_number(balance_index));
}

TEST_CASE("concat of strings crosses the wire element by element", "[mpi]") {
    const std::size_t n = 777;
    const auto word = [](std::size_t i) { return std::vector<std::string>{std::string(i % 5, char('a' + i % 26))}; };
    const int balance_index = GENERATE(0, 1);
    std::visit(
        [&](auto balance) {
            const auto indices = mt::iota(std::size_t{0}, n);
            const auto single = mt::map_reduce(rank_pool(), indices, word, mt::concat<std::vector<std::string>>{});
            const auto distributed = mt::mpi::map_reduce(MPI_COMM_WORLD, rank_pool(), indices, word,
                                                         mt::concat<std::vector<std::string>>{}, balance);
            CHECK(distributed == single);
        },
        balance_number(balance_index));
}

TEST_CASE("a custom non-commutative reducer is bitwise the single-process one", "[mpi]") {
    const std::size_t n = GENERATE(std::size_t{1}, std::size_t{100}, std::size_t{9999});
    const int policy_index = GENERATE(0, 1, 2);
    const int balance_index = GENERATE(0, 2);
    CAPTURE(n, policy_index, balance_index);
    const auto product = mt::make_reducer(mat2{}, [](mat2 x, mat2 y) { return multiply(x, y); });
    std::visit(
        [&](auto policy, auto balance) {
            const auto indices = mt::iota(std::size_t{0}, n);
            const mat2 single = mt::map_reduce(rank_pool(), indices, rotation_like, product, policy);
            const mat2 distributed =
                mt::mpi::map_reduce(MPI_COMM_WORLD, rank_pool(), indices, rotation_like, product, policy, balance);
            CHECK(same_bits(distributed, single));
        },
        policy_number(policy_index), balance_number(balance_index));
}

TEST_CASE("a value type with a user serializer", "[mpi]") {
    const auto merge = mt::make_reducer(tally{}, [](tally& left, tally&& right) {
        for (const auto& [key, count] : right) left[key] += count;
    });
    const auto one = [](std::size_t i) { return tally{{static_cast<int>(i % 13), 1L}}; };
    const int balance_index = GENERATE(0, 1);
    std::visit(
        [&](auto balance) {
            const auto indices = mt::iota(std::size_t{0}, std::size_t{10000});
            const tally single = mt::map_reduce(rank_pool(), indices, one, merge);
            const tally distributed = mt::mpi::map_reduce(MPI_COMM_WORLD, rank_pool(), indices, one, merge, balance);
            CHECK(distributed == single);
            CHECK(distributed.size() == 13);
        },
        balance_number(balance_index));
}

TEST_CASE("an exception on one rank reaches every rank, and the next call works", "[mpi]") {
    const std::size_t n = 20000;
    const int balance_index = GENERATE(0, 1, 2);
    CAPTURE(balance_index);
    // The last element always belongs to the last rank under static_blocks; under
    // on_demand whoever takes its chunk throws.
    const auto failing = [n](std::size_t i) -> double {
        if (i == n - 1) throw std::domain_error("element " + std::to_string(i) + " is bad");
        return term(i);
    };
    std::visit(
        [&](auto balance) {
            const auto indices = mt::iota(std::size_t{0}, n);
            int own = 0, remote = 0, failed_rank = -1;
            try {
                (void)mt::mpi::map_reduce(MPI_COMM_WORLD, rank_pool(), indices, failing, mt::sum<double>{},
                                          mt::grain(100), balance);
            } catch (const std::domain_error& e) {
                ++own;
                CHECK(std::string(e.what()) == "element 19999 is bad");
                failed_rank = world_rank();
            } catch (const mt::mpi::rank_failure& e) {
                ++remote;
                CHECK(std::string(e.what()).find("element 19999 is bad") != std::string::npos);
                failed_rank = e.rank();
            }
            CHECK(own + remote == 1);
            if (std::holds_alternative<mt::mpi::static_blocks>(any_balance(balance))) {
                CHECK(failed_rank == world_size() - 1);
                CHECK(own == (world_rank() == world_size() - 1 ? 1 : 0));
            }
            // Every rank agrees on who failed.
            int lowest = failed_rank, highest = failed_rank;
            MPI_Allreduce(&failed_rank, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD);
            MPI_Allreduce(&failed_rank, &highest, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
            CHECK(lowest == highest);
            // Nothing is left in flight: the next call gives the right answer.
            const double single = mt::map_reduce(rank_pool(), indices, term, mt::sum<double>{});
            const double again = mt::mpi::map_reduce(MPI_COMM_WORLD, rank_pool(), indices, term, mt::sum<double>{},
                                                     mt::adaptive{}, balance);
            CHECK(bits(again) == bits(single));
        },
        balance_number(balance_index));
}

TEST_CASE("ranks that disagree on the arguments all get invalid_argument", "[mpi]") {
    if (world_size() == 1) return;  // one rank cannot disagree with itself
    const int balance_index = GENERATE(0, 1);
    std::visit(
        [&](auto balance) {
            const std::size_t n = world_rank() == 1 ? 1001 : 1000;
            int thrown = 0;
            try {
                (void)mt::mpi::map_reduce(MPI_COMM_WORLD, rank_pool(), mt::iota(std::size_t{0}, n), term,
                                          mt::sum<double>{}, mt::adaptive{}, balance);
            } catch (const std::invalid_argument& e) {
                ++thrown;
                CHECK(std::string(e.what()).find("different arguments") != std::string::npos);
            }
            CHECK(thrown == 1);
        },
        balance_number(balance_index));
}

TEST_CASE("reduce over a vector and the default policy", "[mpi]") {
    std::vector<double> values(4321);
    for (std::size_t i = 0; i < values.size(); ++i) values[i] = term(i);
    const double single = mt::reduce(rank_pool(), values, mt::sum<double>{});
    const double distributed = mt::mpi::reduce(MPI_COMM_WORLD, rank_pool(), values, mt::sum<double>{});
    CHECK(bits(distributed) == bits(single));
    const double on_demand =
        mt::mpi::reduce(MPI_COMM_WORLD, rank_pool(), values, mt::sum<double>{}, mt::adaptive{}, mt::mpi::on_demand(3));
    CHECK(bits(on_demand) == bits(single));
}

// Usage: mpi_test [--max-message-bytes N] [Catch2 options]. --max-message-bytes (this
// program's, taken out before Catch2 parses the rest) lowers the result exchange's
// message limit (MICROTASK_MPI_MAX_MESSAGE_BYTES) to N, so that the exchange takes its
// path of several broadcasts, as above 2 GiB, with test-sized data.
int main(int argc, char** argv) {
    int provided = 0;
    MPI_Init_thread(&argc, &argv, MPI_THREAD_FUNNELED, &provided);
    std::vector<char*> catch_args;
    for (int i = 0; i < argc; ++i) {
        if (std::string_view(argv[i]) != "--max-message-bytes") {
            catch_args.push_back(argv[i]);
            continue;
        }
        const char* text = i + 1 < argc ? argv[++i] : "";
        char* end = nullptr;
        const unsigned long long bytes = std::strtoull(text, &end, 10);
        if (*text == '\0' || *end != '\0' || bytes < 1 || bytes > INT_MAX) {
            // Every rank has the same arguments: all of them stop here.
            std::fprintf(stderr, "mpi_test: --max-message-bytes needs an integer from 1 to %d (got '%s')\n", INT_MAX,
                         text);
            MPI_Finalize();
            return 2;
        }
        mt::detail::mpi_max_message_bytes = static_cast<std::size_t>(bytes);
        if (world_rank() == 0)
            std::printf("mpi_test: the result exchange sends messages of at most %llu bytes\n", bytes);
    }
    const int failures = Catch::Session().run(static_cast<int>(catch_args.size()), catch_args.data());
    // A failure on one rank is a failure of the run: every rank exits non-zero.
    int any_failure = 0;
    MPI_Allreduce(&failures, &any_failure, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD);
    MPI_Finalize();
    return any_failure == 0 ? 0 : 1;
}
