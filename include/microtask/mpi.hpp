// microtask — mpi.hpp
/// @file
/// map_reduce across the ranks of an MPI communicator: each rank reduces its share of
/// the range on its own pool, and the partial results are combined across ranks into the
/// value a single process gets, bit for bit.
///
/// Optional and not part of microtask.hpp or the single header: only a program that
/// includes this header needs MPI (any MPI-3 implementation; tested with Open MPI 4.1).
/// Build with `mpicxx`, or in CMake link `microtask::mpi` (microtask's package adds it
/// when `find_package(MPI COMPONENTS CXX)` succeeds), or add the flags of
/// `mpicxx --showme:compile` / `--showme:link` to pkg-config's `microtask` flags.
/// Guide: docs/distributed.md. The wire customization point mt::mpi::serializer and the
/// concepts mt::mpi::serializable, byte_copyable and has_serializer are declared in
/// detail/mpi_wire.hpp, whose doc comments state their contracts.
///
/// MICROTASK_MPI_MAX_MESSAGE_BYTES, if defined before including this header, is the
/// largest message in bytes the result exchange hands MPI in one call (default INT_MAX:
/// MPI counts are int); larger exchanges are sent as several broadcasts of at most that
/// size.
#pragma once

#include "concepts.hpp"
#include "detail/mpi_balance.hpp"
#include "detail/mpi_comm.hpp"  // <mpi.h>, without the deprecated C++ bindings
#include "detail/mpi_exchange.hpp"
#include "detail/mpi_wire.hpp"
#include "detail/tree_cut.hpp"
#include "partition.hpp"
#include "thread_pool.hpp"

#include <cstddef>
#include <cstdint>
#include <exception>
#include <ranges>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

namespace microtask::mpi {

/// Balancing by static blocks (the default): rank r of p computes leaves [r L / p,
/// (r + 1) L / p) of the canonical tree's L leaves, as whole subtrees. No message but the
/// final exchange; best when ranks are equally fast and elements cost the same.
struct static_blocks {};

/// Balancing on demand: the tree is cut into about `chunks_per_rank` * p subtrees of
/// nearly equal size (a power of two at least that many, at most L), and ranks take them
/// one at a time from rank 0, which hands them out while its pool computes. For uneven
/// work or uneven machines. Costs one request and one reply per chunk, and rank 0's
/// calling thread serves instead of computing.
struct on_demand {
    /// About `chunks_per_rank` chunks per rank: more balance finer, fewer cost fewer
    /// messages. Throws std::invalid_argument if chunks_per_rank < 1.
    template <std::integral Count>
    explicit on_demand(Count chunk_count_per_rank)
        : chunks_per_rank(detail::checked_positive(chunk_count_per_rank, "mpi::on_demand: chunks per rank")) {}
    /// About 8 chunks per rank.
    on_demand() : on_demand(8) {}
    /// Requested chunks per rank (at least 1).
    std::size_t chunks_per_rank;
};

/// static_blocks or on_demand.
template <class B>
concept balance_mode = std::is_same_v<B, static_blocks> || std::is_same_v<B, on_demand>;

/// Thrown on every rank whose own share succeeded when another rank's share threw: names
/// the lowest-numbered failed rank and its exception's what().
class rank_failure : public std::runtime_error {
public:
    /// `failed_rank` threw; `message` is its exception's what().
    rank_failure(int failed_rank, const std::string& message)
        : std::runtime_error("microtask::mpi: rank " + std::to_string(failed_rank) + " failed: " + message),
          m_rank(failed_rank) {}
    /// The lowest-numbered rank that threw.
    [[nodiscard]] int rank() const noexcept { return m_rank; }

private:
    int m_rank;
};

}  // namespace microtask::mpi

namespace microtask::detail {

/// The final exchange, on every rank: headers, then payloads, then every rank combines
/// all the nodes in the tree's shape. Throws on every rank alike: invalid_argument if the
/// ranks disagree on the call; the own exception on a rank whose share threw; rank_failure
/// on the others.
template <class Red>
typename Red::value_type exchange_and_combine(MPI_Comm comm, const Red& red, const call_fingerprint& call,
                                              contribution& mine) {
    const exchanged received = exchange_contributions(comm, call, mine);
    if (std::string mismatch = describe_mismatch(received.headers); !mismatch.empty()) {
        throw std::invalid_argument(mismatch);
    }
    if (mine.error) std::rethrow_exception(mine.error);
    for (std::size_t r = 0; r < received.headers.size(); ++r) {
        if (received.headers[r].failed) {
            const auto message = received.all.of(r);
            throw mpi::rank_failure(static_cast<int>(r),
                                    std::string(reinterpret_cast<const char*>(message.data()), message.size()));
        }
    }
    return combine_exchanged(red, received, static_cast<std::size_t>(call.leaves));
}

template <class It, class Map, class Red, class Policy, class Balance>
typename Red::value_type distributed_fold(MPI_Comm comm, thread_pool& pool, It first, std::size_t size, Map& map,
                                          const Red& red, const Policy& policy, const Balance& balance,
                                          call_site site) {
    int initialized = 0;
    check_mpi(MPI_Initialized(&initialized), "MPI_Initialized");
    if (!initialized) throw std::logic_error("microtask::mpi: MPI is not initialised (call MPI_Init first)");
    int rank = 0, ranks = 1;
    check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(comm, &ranks), "MPI_Comm_size");

    call_fingerprint call;
    call.size = size;
    call.leaves = size == 0 ? 0 : policy.leaf_count(size);
    describe_policy(policy, call);
    call.reducer_type = reducer_type_code<Red>();
    const auto leaves = static_cast<std::size_t>(call.leaves);
    auto compute = [&](tree_node node) { return fold_node(pool, first, size, leaves, node, map, red, policy, site); };

    contribution mine;
    if constexpr (std::is_same_v<Balance, mpi::static_blocks>) {
        try {
            for (const tree_node node :
                 static_share<Red>(leaves, static_cast<std::size_t>(rank), static_cast<std::size_t>(ranks))) {
                mine.add(node, compute(node));
            }
        } catch (...) {
            mine.fail();
        }
        return exchange_and_combine(comm, red, call, mine);
    } else {
        call.balance_kind = 1;
        call.balance_param = balance.chunks_per_rank;
        // Agree on the call before any chunk is handed out: different chunk lists could
        // not end the protocol. The duplicate keeps our messages apart from the caller's.
        const owned_comm work(comm);
        std::vector<call_fingerprint> calls(static_cast<std::size_t>(ranks));
        constexpr int k_words = sizeof(call_fingerprint) / sizeof(std::uint64_t);
        check_mpi(MPI_Allgather(&call, k_words, MPI_UINT64_T, calls.data(), k_words, MPI_UINT64_T, work.get()),
                  "MPI_Allgather");
        for (std::size_t r = 0; r < calls.size(); ++r) {
            if (!(calls[r] == call)) {
                std::vector<exchange_header> headers(calls.size());
                for (std::size_t k = 0; k < calls.size(); ++k) headers[k].call = calls[k];
                throw std::invalid_argument(describe_mismatch(headers));
            }
        }
        const std::vector<tree_node> chunks =
            on_demand_chunks(leaves, static_cast<std::size_t>(ranks), balance.chunks_per_rank);
        if (rank == 0) {
            serve_chunks(work.get(), ranks, pool, chunks, mine, compute);
        } else {
            take_chunks(work.get(), chunks, mine, compute);
        }
        return exchange_and_combine(work.get(), red, call, mine);
    }
}

}  // namespace microtask::detail

namespace microtask::mpi {

/// map_reduce over the ranks of `comm`: every rank calls it with the same arguments, and
/// every rank gets combine(...combine(identity, map(r[0]))..., map(r[n-1])) — the value
/// the single-process mt::map_reduce(pool, range, map, red, policy) returns, bit for bit
/// (floating point included), for any number of ranks and threads.
///
/// - How: the canonical combination tree of (n, policy) is split into whole subtrees;
///   each rank computes its subtrees on `pool` (static_blocks: a fixed block of leaves
///   per rank; on_demand: chunks handed out by rank 0), then every rank receives every
///   partial and combines them in the tree's shape (concat: in input order).
/// - Preconditions: MPI is initialised, and the calling thread may call MPI (the main
///   thread under MPI_THREAD_FUNNELED, or any one thread at a time under SERIALIZED);
///   no other thread uses `comm` meanwhile. Every rank of `comm` calls with an equal
///   range size, policy, balance and reducer type (checked: see Throws) and an equal
///   range content and map (not checked: the result is then undefined). The value type
///   is serializable (see mt::mpi::serializer).
/// - Cost: one MPI_Allgather of 72 bytes per rank plus one MPI_Allgatherv of the
///   partials (O(log leaves) values per rank; a concat sends its elements); on_demand
///   adds an MPI_Comm_dup, an MPI_Allgather and a request/reply per chunk. Every rank
///   decodes every partial and combines them: O(p log leaves) combines. docs/distributed.md
///   has the measured figures.
/// - Throws, on every rank, never leaving another rank waiting: std::invalid_argument
///   if the ranks disagree on size, leaf count, policy, balance or reducer type; if a
///   map or combine threw on some rank, that rank rethrows its own exception and every
///   other rank throws mt::mpi::rank_failure naming the lowest failed rank and its
///   message; std::logic_error if MPI is not initialised; std::runtime_error if an MPI
///   call returns an error (only with an error handler other than the default, which aborts).
template <splittable_range Range, class Map, class Red, partition_policy Policy = adaptive,
          balance_mode Balance = static_blocks>
    requires map_function<Map, std::ranges::range_reference_t<Range>> &&
             reducer_for<Red, std::invoke_result_t<Map&, std::ranges::range_reference_t<Range>>> &&
             serializable<typename Red::value_type>
[[nodiscard]] typename Red::value_type map_reduce(MPI_Comm comm, thread_pool& pool, Range&& range, Map map, Red red,
                                                  Policy policy = {}, Balance balance = {}, call_site site = {}) {
    return detail::distributed_fold(comm, pool, std::ranges::begin(range),
                                    static_cast<std::size_t>(std::ranges::size(range)), map, red, policy, balance,
                                    site);
}

/// map_reduce with the default policy (adaptive) and the given balance.
template <splittable_range Range, class Map, class Red, balance_mode Balance>
    requires map_function<Map, std::ranges::range_reference_t<Range>> &&
             reducer_for<Red, std::invoke_result_t<Map&, std::ranges::range_reference_t<Range>>> &&
             serializable<typename Red::value_type>
[[nodiscard]] typename Red::value_type map_reduce(MPI_Comm comm, thread_pool& pool, Range&& range, Map map, Red red,
                                                  Balance balance, call_site site = {}) {
    return mpi::map_reduce(comm, pool, std::forward<Range>(range), std::move(map), std::move(red), adaptive{}, balance,
                           site);
}

/// Reduction of a range's elements across the ranks of `comm`: mt::mpi::map_reduce with
/// the identity map (same contract, determinism and exceptions).
template <splittable_range Range, class Red, partition_policy Policy = adaptive, balance_mode Balance = static_blocks>
    requires reducer_for<Red, std::ranges::range_reference_t<Range>> && serializable<typename Red::value_type>
[[nodiscard]] typename Red::value_type reduce(MPI_Comm comm, thread_pool& pool, Range&& range, Red red,
                                              Policy policy = {}, Balance balance = {}, call_site site = {}) {
    return mpi::map_reduce(
        comm, pool, std::forward<Range>(range),
        [](std::ranges::range_reference_t<Range> x) -> std::ranges::range_reference_t<Range> {
            return std::forward<std::ranges::range_reference_t<Range>>(x);
        },
        std::move(red), policy, balance, site);
}

}  // namespace microtask::mpi
