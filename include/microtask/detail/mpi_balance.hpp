// microtask — detail/mpi_balance.hpp
// Which tree nodes each rank of mt::mpi (microtask/mpi.hpp) computes: under static_blocks
// a fixed block of leaves per rank (static_share); under on_demand, chunks that rank 0
// hands out one at a time while it computes (serve_chunks) and the other ranks ask for
// until there are none left (take_chunks).
#pragma once

#include "../concepts.hpp"
#include "../partition.hpp"
#include "../thread_pool.hpp"
#include "mpi_comm.hpp"
#include "mpi_exchange.hpp"
#include "tree_cut.hpp"

#include <algorithm>
#include <bit>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <thread>
#include <type_traits>
#include <vector>

namespace microtask::detail {

/// The share of rank `rank` of `ranks` under static_blocks: the canonical cover of its
/// block of leaves, or, for an exactly associative reducer, the block as one piece.
template <class Red>
std::vector<tree_node> static_share(std::size_t leaves, std::size_t rank, std::size_t ranks) {
    std::vector<tree_node> nodes;
    const std::size_t first = leaf_begin(rank, leaves, ranks);
    const std::size_t last = leaf_begin(rank + 1, leaves, ranks);
    if (first == last) return nodes;
    if constexpr (exactly_associative<Red>()) {
        nodes.push_back({first, last});
    } else {
        cover_leaves(first, last, {0, leaves}, nodes);
    }
    return nodes;
}

/// The chunks of on_demand: the nodes at the depth that gives at least
/// chunks_per_rank * ranks of them (fewer where the tree is shallower).
inline std::vector<tree_node> on_demand_chunks(std::size_t leaves, std::size_t ranks, std::size_t chunks_per_rank) {
    std::vector<tree_node> chunks;
    if (leaves == 0) return chunks;
    const std::size_t wanted = std::min(leaves, ranks * chunks_per_rank);
    const auto depth = static_cast<unsigned>(std::bit_width(std::bit_ceil(wanted)) - 1);
    nodes_at_depth({0, leaves}, depth, chunks);
    return chunks;
}

// Message tags of on_demand, on a duplicate of the caller's communicator (so they can
// never match a receive of the caller's).
inline constexpr int k_request_tag = 1;
inline constexpr int k_reply_tag = 2;
// When rank 0's calling thread finds nothing to do, it yields for k_serve_spin (a reply
// or a short chunk is often that close: a sleep wakes ~60 us late here), then sleeps
// k_serve_poll at a time: short against a chunk, and no core taken from its workers.
inline constexpr auto k_serve_spin = std::chrono::microseconds(50);
inline constexpr auto k_serve_poll = std::chrono::microseconds(20);

/// on_demand's work loop on rank 0: hands out chunks to the other ranks as they ask and
/// computes chunks on `pool` meanwhile, one at a time. Returns when every chunk is taken
/// and every other rank has been told there is no more (or, after a failure anywhere, at
/// once to every asker).
template <class Compute>
void serve_chunks(MPI_Comm comm, int ranks, thread_pool& pool, const std::vector<tree_node>& chunks, contribution& mine,
                  Compute compute) {
    using value_type = std::invoke_result_t<Compute&, tree_node>;
    const std::uint64_t none = chunks.size();
    std::size_t next = 0;
    bool failed = false;
    int asking = ranks - 1;  // ranks not yet told "none"
    std::uint64_t request_word = 0;
    MPI_Request request = MPI_REQUEST_NULL;
    if (asking > 0) {
        check_mpi(MPI_Irecv(&request_word, 1, MPI_UINT64_T, MPI_ANY_SOURCE, k_request_tag, comm, &request),
                  "MPI_Irecv");
    }
    future<value_type> running;  // valid() while a chunk is computing
    tree_node running_node;
    auto idle_since = std::chrono::steady_clock::now();
    while (asking > 0 || running.valid() || (!failed && next < chunks.size())) {
        bool progressed = false;
        if (!running.valid() && !failed && next < chunks.size()) {
            running_node = chunks[next++];
            running = pool.submit([&compute, node = running_node] { return compute(node); });
            progressed = true;
        }
        if (asking > 0) {
            int arrived = 0;
            MPI_Status status;
            check_mpi(MPI_Test(&request, &arrived, &status), "MPI_Test");
            if (arrived) {
                if (request_word != 0) failed = true;
                const std::uint64_t reply = !failed && next < chunks.size() ? next++ : none;
                check_mpi(MPI_Send(&reply, 1, MPI_UINT64_T, status.MPI_SOURCE, k_reply_tag, comm), "MPI_Send");
                if (reply == none) --asking;
                if (asking > 0) {
                    check_mpi(MPI_Irecv(&request_word, 1, MPI_UINT64_T, MPI_ANY_SOURCE, k_request_tag, comm, &request),
                              "MPI_Irecv");
                }
                progressed = true;
            }
        }
        if (running.valid() && running.is_ready()) {
            try {
                value_type value = running.get();  // leaves `running` invalid
                if (!failed) mine.add(running_node, value);
            } catch (...) {
                if (!failed) mine.fail();
                failed = true;
            }
            progressed = true;
        }
        if (progressed) {
            idle_since = std::chrono::steady_clock::now();
        } else if (std::chrono::steady_clock::now() - idle_since < k_serve_spin) {
            std::this_thread::yield();
        } else {
            std::this_thread::sleep_for(k_serve_poll);
        }
    }
}

/// on_demand's work loop on the other ranks: ask rank 0, compute, repeat until told
/// there is no more. After a failure the next request says so (and gets "none").
template <class Compute>
void take_chunks(MPI_Comm comm, const std::vector<tree_node>& chunks, contribution& mine, Compute compute) {
    for (;;) {
        const std::uint64_t request_word = mine.error ? 1 : 0;
        check_mpi(MPI_Send(&request_word, 1, MPI_UINT64_T, 0, k_request_tag, comm), "MPI_Send");
        std::uint64_t reply = 0;
        check_mpi(MPI_Recv(&reply, 1, MPI_UINT64_T, 0, k_reply_tag, comm, MPI_STATUS_IGNORE), "MPI_Recv");
        if (reply >= chunks.size()) return;
        const tree_node node = chunks[static_cast<std::size_t>(reply)];
        try {
            mine.add(node, compute(node));
        } catch (...) {
            mine.fail();
        }
    }
}

}  // namespace microtask::detail
