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
/// Guide: docs/distributed.md.
#pragma once

#include "concepts.hpp"
#include "detail/mpi_wire.hpp"
#include "detail/tree_cut.hpp"
#include "partition.hpp"
#include "thread_pool.hpp"

// Open MPI's and MPICH's deprecated C++ bindings are not needed (and warn): C API only.
#ifndef OMPI_SKIP_MPICXX
/// Tells Open MPI's <mpi.h> to leave out its deprecated C++ bindings (only the C API is used).
#define OMPI_SKIP_MPICXX 1
#endif
#ifndef MPICH_SKIP_MPICXX
/// Tells MPICH's <mpi.h> to leave out its deprecated C++ bindings.
#define MPICH_SKIP_MPICXX 1
#endif
#include <mpi.h>

#include <algorithm>
#include <array>
#include <bit>
#include <chrono>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <functional>
#include <span>
#include <ranges>
#include <stdexcept>
#include <string>
#include <thread>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

/// The largest message, in bytes, the result exchange hands MPI in one call (MPI counts
/// are int). Larger exchanges are sent as several broadcasts of at most this size.
/// Override before including this header (tests make it tiny to exercise that path).
#ifndef MICROTASK_MPI_MAX_MESSAGE_BYTES
#define MICROTASK_MPI_MAX_MESSAGE_BYTES INT_MAX
#endif

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

inline void check_mpi(int code, const char* call) {
    if (code == MPI_SUCCESS) return;
    char text[MPI_MAX_ERROR_STRING];
    int length = 0;
    MPI_Error_string(code, text, &length);
    throw std::runtime_error(std::string("microtask::mpi: ") + call + " failed: " + std::string(text, static_cast<std::size_t>(length)));
}

/// What every rank states about its call, exchanged with the results so that a mismatch
/// becomes an exception on every rank instead of a wrong answer.
struct call_fingerprint {
    std::uint64_t size = 0;
    std::uint64_t leaves = 0;
    std::uint64_t policy_kind = 0;
    std::uint64_t policy_param = 0;
    std::uint64_t balance_kind = 0;
    std::uint64_t balance_param = 0;
    std::uint64_t reducer_type = 0;
    friend bool operator==(const call_fingerprint&, const call_fingerprint&) = default;
};

/// A rank's header in the result exchange: its fingerprint, whether its share failed,
/// and how many payload bytes it sends (the results, or its exception's message).
struct exchange_header {
    call_fingerprint call;
    std::uint64_t failed = 0;
    std::uint64_t payload_bytes = 0;
};
inline constexpr int k_header_words = sizeof(exchange_header) / sizeof(std::uint64_t);
static_assert(sizeof(exchange_header) == k_header_words * sizeof(std::uint64_t));

template <class Policy>
void describe_policy(const Policy& policy, call_fingerprint& fp) {
    if constexpr (std::is_same_v<Policy, grain>) {
        fp.policy_kind = 1;
        fp.policy_param = policy.size;
    } else if constexpr (std::is_same_v<Policy, chunks>) {
        fp.policy_kind = 2;
        fp.policy_param = policy.count;
    } else {
        fp.policy_kind = 3;
    }
}

/// FNV-1a of the reducer's type name and its value's size: the same on every rank of
/// one program, and almost surely different for a different reducer.
template <class Red>
std::uint64_t reducer_type_code() {
    std::uint64_t hash = 14695981039346656037ull;
    for (const char* c = typeid(Red).name(); *c != '\0'; ++c) {
        hash = (hash ^ static_cast<unsigned char>(*c)) * 1099511628211ull;
    }
    return hash ^ sizeof(typename Red::value_type);
}

/// One rank's contribution: its computed nodes (records of lo, hi, byte length, bytes),
/// or the exception its share threw.
struct contribution {
    std::vector<std::byte> payload;
    std::exception_ptr error;

    template <class T>
    void add(tree_node node, const T& value) {
        append_u64(payload, node.lo);
        append_u64(payload, node.hi);
        const std::size_t slot = payload.size();
        append_u64(payload, 0);
        write_wire(value, payload);
        const std::uint64_t length = payload.size() - slot - sizeof(std::uint64_t);
        std::memcpy(payload.data() + slot, &length, sizeof length);
    }

    /// Records the exception being handled; the payload becomes its message.
    void fail() noexcept {
        error = std::current_exception();
        try {
            std::string message = "unknown exception";
            try {
                throw;
            } catch (const std::exception& e) {
                message = e.what();
            } catch (...) {
            }
            payload.assign(reinterpret_cast<const std::byte*>(message.data()),
                           reinterpret_cast<const std::byte*>(message.data() + message.size()));
        } catch (...) {
            payload.clear();  // no memory for the message: the other ranks get an empty one
        }
    }
};

/// Everyone's payloads, concatenated in rank order, with rank r's at offsets[r].
struct gathered {
    std::vector<std::byte> bytes;
    std::vector<std::size_t> offsets;
    std::span<const std::byte> of(std::size_t rank) const {
        return std::span<const std::byte>(bytes).subspan(offsets[rank], offsets[rank + 1] - offsets[rank]);
    }
};

/// The variable-length all-gather of the payloads, `counts[r]` bytes from rank r. One
/// MPI_Allgatherv when the sizes fit MPI's int counts (and MICROTASK_MPI_MAX_MESSAGE_BYTES),
/// else one broadcast per rank and piece.
inline gathered all_gather_payloads(MPI_Comm comm, int rank, std::span<const std::byte> mine,
                                    const std::vector<std::size_t>& counts) {
    constexpr std::size_t k_max = static_cast<std::size_t>(MICROTASK_MPI_MAX_MESSAGE_BYTES);
    gathered all;
    all.offsets.assign(counts.size() + 1, 0);
    for (std::size_t r = 0; r < counts.size(); ++r) all.offsets[r + 1] = all.offsets[r] + counts[r];
    all.bytes.resize(all.offsets.back());
    if (all.offsets.back() == 0) return all;
    if (all.offsets.back() <= k_max) {
        std::vector<int> int_counts(counts.size()), displacements(counts.size());
        for (std::size_t r = 0; r < counts.size(); ++r) {
            int_counts[r] = static_cast<int>(counts[r]);
            displacements[r] = static_cast<int>(all.offsets[r]);
        }
        check_mpi(MPI_Allgatherv(mine.data(), static_cast<int>(mine.size()), MPI_BYTE, all.bytes.data(),
                                 int_counts.data(), displacements.data(), MPI_BYTE, comm),
                  "MPI_Allgatherv");
        return all;
    }
    std::copy(mine.begin(), mine.end(), all.bytes.begin() + static_cast<std::ptrdiff_t>(all.offsets[static_cast<std::size_t>(rank)]));
    for (std::size_t root = 0; root < counts.size(); ++root) {
        for (std::size_t done = 0; done < counts[root]; done += k_max) {
            const std::size_t piece = std::min(k_max, counts[root] - done);
            check_mpi(MPI_Bcast(all.bytes.data() + all.offsets[root] + done, static_cast<int>(piece), MPI_BYTE,
                                static_cast<int>(root), comm),
                      "MPI_Bcast");
        }
    }
    return all;
}

inline std::string describe_mismatch(const std::vector<exchange_header>& headers) {
    const auto text = [](const call_fingerprint& fp) {
        return "size " + std::to_string(fp.size) + ", " + std::to_string(fp.leaves) + " leaves, policy " +
               std::to_string(fp.policy_kind) + "/" + std::to_string(fp.policy_param) + ", balance " +
               std::to_string(fp.balance_kind) + "/" + std::to_string(fp.balance_param) + ", reducer type " +
               std::to_string(fp.reducer_type);
    };
    for (std::size_t r = 1; r < headers.size(); ++r) {
        if (!(headers[r].call == headers[0].call)) {
            return "microtask::mpi: ranks called with different arguments: rank 0 (" + text(headers[0].call) +
                   ") and rank " + std::to_string(r) + " (" + text(headers[r].call) + ")";
        }
    }
    return {};
}

/// The final exchange, on every rank: headers, then payloads, then every rank combines
/// all the nodes in the tree's shape. Throws on every rank alike: invalid_argument if the
/// ranks disagree on the call; the own exception on a rank whose share threw; rank_failure
/// on the others.
template <class Red>
typename Red::value_type exchange_and_combine(MPI_Comm comm, const Red& red, const call_fingerprint& call,
                                              contribution& mine) {
    using value_type = typename Red::value_type;
    int rank = 0, ranks = 1;
    check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(comm, &ranks), "MPI_Comm_size");
    const exchange_header own{call, mine.error ? 1u : 0u, mine.payload.size()};
    std::vector<exchange_header> headers(static_cast<std::size_t>(ranks));
    check_mpi(MPI_Allgather(&own, k_header_words, MPI_UINT64_T, headers.data(), k_header_words, MPI_UINT64_T, comm),
              "MPI_Allgather");
    // Only failed ranks send (their messages) when any rank failed: every rank knows it
    // from the headers, so the counts agree everywhere.
    const bool any_failed = std::any_of(headers.begin(), headers.end(), [](auto& h) { return h.failed != 0; });
    std::vector<std::size_t> counts(headers.size());
    for (std::size_t r = 0; r < headers.size(); ++r) {
        counts[r] = !any_failed || headers[r].failed ? static_cast<std::size_t>(headers[r].payload_bytes) : 0;
    }
    const std::span<const std::byte> own_bytes(mine.payload.data(), counts[static_cast<std::size_t>(rank)]);
    const gathered all = all_gather_payloads(comm, rank, own_bytes, counts);

    if (std::string mismatch = describe_mismatch(headers); !mismatch.empty()) throw std::invalid_argument(mismatch);
    if (mine.error) std::rethrow_exception(mine.error);
    for (std::size_t r = 0; r < headers.size(); ++r) {
        if (headers[r].failed) {
            const auto message = all.of(r);
            throw mpi::rank_failure(static_cast<int>(r),
                                    std::string(reinterpret_cast<const char*>(message.data()), message.size()));
        }
    }
    // Every rank decodes every value, its own included, so a lossy serializer still
    // gives the same result on every rank.
    std::vector<node_value<value_type>> pieces;
    for (std::size_t r = 0; r < headers.size(); ++r) {
        wire_reader reader(all.of(r));
        while (!reader.done()) {
            tree_node node;
            node.lo = static_cast<std::size_t>(reader.u64());
            node.hi = static_cast<std::size_t>(reader.u64());
            const auto length = static_cast<std::size_t>(reader.u64());
            pieces.push_back({node, read_wire<value_type>(reader.take(length))});
        }
    }
    std::sort(pieces.begin(), pieces.end(), [](const auto& a, const auto& b) { return a.node.lo < b.node.lo; });
    return combine_cut(red, pieces, static_cast<std::size_t>(call.leaves));
}

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
void serve_chunks(MPI_Comm comm, int ranks, thread_pool& pool, const std::vector<tree_node>& chunks,
                  contribution& mine, Compute compute) {
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

/// Frees a duplicated communicator when the call ends, however it ends.
class owned_comm {
public:
    explicit owned_comm(MPI_Comm parent) { check_mpi(MPI_Comm_dup(parent, &m_comm), "MPI_Comm_dup"); }
    owned_comm(const owned_comm&) = delete;
    owned_comm& operator=(const owned_comm&) = delete;
    ~owned_comm() { MPI_Comm_free(&m_comm); }
    [[nodiscard]] MPI_Comm get() const noexcept { return m_comm; }

private:
    MPI_Comm m_comm = MPI_COMM_NULL;
};

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
    auto compute = [&](tree_node node) {
        return fold_node(pool, first, size, leaves, node, map, red, policy, site);
    };

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
    return mpi::map_reduce(comm, pool, std::forward<Range>(range), std::move(map), std::move(red), adaptive{},
                           balance, site);
}

/// Reduction of a range's elements across the ranks of `comm`: mt::mpi::map_reduce with
/// the identity map (same contract, determinism and exceptions).
template <splittable_range Range, class Red, partition_policy Policy = adaptive,
          balance_mode Balance = static_blocks>
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
