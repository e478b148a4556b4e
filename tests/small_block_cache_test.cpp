#include "catch.hpp"

#include <microtask/detail/small_block_cache.hpp>

#include <cstdint>
#include <cstring>
#include <set>
#include <thread>
#include <vector>

using cache = microtask::detail::small_block_cache;

TEST_CASE("small_block_cache: a freed block is reused by the same thread", "[detail][allocation]") {
    void* first = cache::allocate(64);
    std::memset(first, 0xAB, 64);
    cache::deallocate(first, 64);
    void* second = cache::allocate(100);
    if (MICROTASK_DETAIL_RECYCLE_BLOCKS) {
        REQUIRE(second == first);
    } else {
        REQUIRE(second != nullptr);  // under AddressSanitizer blocks are not recycled
    }
    cache::deallocate(second, 100);
    // Larger requests bypass the cache.
    void* big = cache::allocate(cache::k_block_size + 1);
    std::memset(big, 0, cache::k_block_size + 1);
    cache::deallocate(big, cache::k_block_size + 1);
}

TEST_CASE("small_block_cache: blocks flow from a producer thread to consumer threads and back",
          "[detail][allocation][concurrency]") {
    constexpr int rounds = 50;
    constexpr int per_round = 2000;
    std::set<void*> seen;
    std::size_t reused = 0;
    for (int round = 0; round < rounds; ++round) {
        std::vector<void*> blocks;
        for (int i = 0; i < per_round; ++i) {
            void* block = cache::allocate(cache::k_block_size);
            std::memset(block, i & 0xFF, cache::k_block_size);  // the whole block is usable
            reused += seen.count(block);
            blocks.push_back(block);
        }
        seen.insert(blocks.begin(), blocks.end());
        // Another thread frees them: its list spills batches into the shared depot,
        // from which this thread refills on the next round.
        std::thread consumer([&blocks] {
            for (void* block : blocks) cache::deallocate(block, cache::k_block_size);
        });
        consumer.join();
    }
    // With recycling, later rounds are served largely from batches the consumers returned.
    if (MICROTASK_DETAIL_RECYCLE_BLOCKS) REQUIRE(reused >= std::size_t{per_round});
}
