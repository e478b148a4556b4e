// microtask — detail/mpi_exchange.hpp
// The final exchange of mt::mpi (microtask/mpi.hpp): what each rank states about its call
// (a fingerprint, so that ranks called differently fail instead of mixing), what it
// contributes (its computed tree nodes, or the message of the exception its share threw),
// how every rank receives every contribution, and how the nodes are decoded and combined
// in the tree's shape. Deciding which exception a failed exchange throws is mpi.hpp's.
#pragma once

#include "../partition.hpp"
#include "mpi_comm.hpp"
#include "mpi_wire.hpp"
#include "tree_cut.hpp"

#include <algorithm>
#include <climits>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <exception>
#include <span>
#include <string>
#include <type_traits>
#include <typeinfo>
#include <vector>

// The default of the limit documented in microtask/mpi.hpp.
#ifndef MICROTASK_MPI_MAX_MESSAGE_BYTES
#define MICROTASK_MPI_MAX_MESSAGE_BYTES INT_MAX
#endif

namespace microtask::detail {

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

/// The message limit in force: MICROTASK_MPI_MAX_MESSAGE_BYTES. Not an API: tests/mpi
/// lowers it at startup, before any call, so that one test program exercises both paths
/// of all_gather_payloads. Only the calling thread of an mt::mpi call reads it.
inline std::size_t mpi_max_message_bytes = static_cast<std::size_t>(MICROTASK_MPI_MAX_MESSAGE_BYTES);

/// The variable-length all-gather of the payloads, `counts[r]` bytes from rank r. One
/// MPI_Allgatherv when the sizes fit MPI's int counts (and mpi_max_message_bytes), else
/// one broadcast per rank and piece.
inline gathered all_gather_payloads(MPI_Comm comm, int rank, std::span<const std::byte> mine,
                                    const std::vector<std::size_t>& counts) {
    const std::size_t k_max = mpi_max_message_bytes;
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
    std::copy(mine.begin(), mine.end(),
              all.bytes.begin() + static_cast<std::ptrdiff_t>(all.offsets[static_cast<std::size_t>(rank)]));
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

/// What the exchange brought every rank: each rank's header, and the payloads it sent.
struct exchanged {
    std::vector<exchange_header> headers;
    gathered all;
};

/// The exchange itself, on every rank: headers, then payloads. When any rank failed,
/// only the failed ranks send (their messages): every rank knows it from the headers,
/// so the counts agree everywhere.
inline exchanged exchange_contributions(MPI_Comm comm, const call_fingerprint& call, const contribution& mine) {
    int rank = 0, ranks = 1;
    check_mpi(MPI_Comm_rank(comm, &rank), "MPI_Comm_rank");
    check_mpi(MPI_Comm_size(comm, &ranks), "MPI_Comm_size");
    const exchange_header own{call, mine.error ? 1u : 0u, mine.payload.size()};
    exchanged result;
    std::vector<exchange_header>& headers = result.headers;
    headers.resize(static_cast<std::size_t>(ranks));
    check_mpi(MPI_Allgather(&own, k_header_words, MPI_UINT64_T, headers.data(), k_header_words, MPI_UINT64_T, comm),
              "MPI_Allgather");
    const bool any_failed = std::any_of(headers.begin(), headers.end(), [](auto& h) { return h.failed != 0; });
    std::vector<std::size_t> counts(headers.size());
    for (std::size_t r = 0; r < headers.size(); ++r) {
        counts[r] = !any_failed || headers[r].failed ? static_cast<std::size_t>(headers[r].payload_bytes) : 0;
    }
    const std::span<const std::byte> own_bytes(mine.payload.data(), counts[static_cast<std::size_t>(rank)]);
    result.all = all_gather_payloads(comm, rank, own_bytes, counts);
    return result;
}

/// The combination of every rank's nodes (none failed) in the tree's shape over `leaves`
/// leaves. Every rank decodes every value, its own included, so a lossy serializer still
/// gives the same result on every rank.
template <class Red>
typename Red::value_type combine_exchanged(const Red& red, const exchanged& received, std::size_t leaves) {
    using value_type = typename Red::value_type;
    std::vector<node_value<value_type>> pieces;
    for (std::size_t r = 0; r < received.headers.size(); ++r) {
        wire_reader reader(received.all.of(r));
        while (!reader.done()) {
            tree_node node;
            node.lo = static_cast<std::size_t>(reader.u64());
            node.hi = static_cast<std::size_t>(reader.u64());
            const auto length = static_cast<std::size_t>(reader.u64());
            pieces.push_back({node, read_wire<value_type>(reader.take(length))});
        }
    }
    std::sort(pieces.begin(), pieces.end(), [](const auto& a, const auto& b) { return a.node.lo < b.node.lo; });
    return combine_cut(red, pieces, leaves);
}

}  // namespace microtask::detail
