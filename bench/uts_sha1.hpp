// A small SHA-1 (FIPS 180-4) for the UTS benchmark (bench/uts.hpp), which, like the UTS
// reference, names every tree node by a SHA-1 digest and derives each child's digest by
// hashing its parent's. Not for security: SHA-1 is broken for that; here it is a
// splittable random number generator whose cost per node is part of the workload.
//
// constexpr throughout, so that the known digests below are checked at compile time.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace bench::sha1 {

/// A 20-byte SHA-1 digest, most significant byte of the first word first.
using digest = std::array<std::uint8_t, 20>;

constexpr std::uint32_t rotl(std::uint32_t x, int s) { return (x << s) | (x >> (32 - s)); }

/// Folds one 64-byte block into the five-word chaining state `h`.
constexpr void compress(std::array<std::uint32_t, 5>& h, const std::uint8_t* block) {
    std::uint32_t w[80];
    for (int t = 0; t < 16; ++t) {
        w[t] = std::uint32_t{block[4 * t]} << 24 | std::uint32_t{block[4 * t + 1]} << 16 |
               std::uint32_t{block[4 * t + 2]} << 8 | std::uint32_t{block[4 * t + 3]};
    }
    for (int t = 16; t < 80; ++t) w[t] = rotl(w[t - 3] ^ w[t - 8] ^ w[t - 14] ^ w[t - 16], 1);
    std::uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4];
    // Five rounds per step with the roles of a..e renamed instead of moved: the same
    // computation as the standard's shift of five variables each round, without the moves.
    auto rounds = [&w](int t, auto f, std::uint32_t k, std::uint32_t& va, std::uint32_t& vb, std::uint32_t& vc,
                       std::uint32_t& vd, std::uint32_t& ve) {
        ve += rotl(va, 5) + f(vb, vc, vd) + k + w[t];
        vb = rotl(vb, 30);
        vd += rotl(ve, 5) + f(va, vb, vc) + k + w[t + 1];
        va = rotl(va, 30);
        vc += rotl(vd, 5) + f(ve, va, vb) + k + w[t + 2];
        ve = rotl(ve, 30);
        vb += rotl(vc, 5) + f(vd, ve, va) + k + w[t + 3];
        vd = rotl(vd, 30);
        va += rotl(vb, 5) + f(vc, vd, ve) + k + w[t + 4];
        vc = rotl(vc, 30);
    };
    auto choose = [](std::uint32_t x, std::uint32_t y, std::uint32_t z) { return (x & y) | (~x & z); };
    auto parity = [](std::uint32_t x, std::uint32_t y, std::uint32_t z) { return x ^ y ^ z; };
    auto majority = [](std::uint32_t x, std::uint32_t y, std::uint32_t z) { return (x & y) | (x & z) | (y & z); };
    for (int t = 0; t < 20; t += 5) rounds(t, choose, 0x5A827999u, a, b, c, d, e);
    for (int t = 20; t < 40; t += 5) rounds(t, parity, 0x6ED9EBA1u, a, b, c, d, e);
    for (int t = 40; t < 60; t += 5) rounds(t, majority, 0x8F1BBCDCu, a, b, c, d, e);
    for (int t = 60; t < 80; t += 5) rounds(t, parity, 0xCA62C1D6u, a, b, c, d, e);
    h[0] += a;
    h[1] += b;
    h[2] += c;
    h[3] += d;
    h[4] += e;
}

/// The digest of `size` bytes at `data`. Byte is any integer type of one byte (char for
/// the compile-time checks, std::uint8_t otherwise).
template <class Byte>
constexpr digest hash(const Byte* data, std::size_t size) {
    std::array<std::uint32_t, 5> h{0x67452301u, 0xEFCDAB89u, 0x98BADCFEu, 0x10325476u, 0xC3D2E1F0u};
    std::uint8_t block[64]{};
    std::size_t done = 0;
    for (; size - done >= 64; done += 64) {
        for (std::size_t i = 0; i < 64; ++i) block[i] = static_cast<std::uint8_t>(data[done + i]);
        compress(h, block);
    }
    // The tail, the 0x80 marker, zeros, and the message length in bits (big-endian) in
    // the last 8 bytes: one block, or two when the tail leaves no room for the length.
    const std::size_t rest = size - done;
    for (std::size_t i = 0; i < 64; ++i) {
        block[i] = i < rest ? static_cast<std::uint8_t>(data[done + i]) : 0;
    }
    block[rest] = 0x80;
    if (rest + 1 + 8 > 64) {
        compress(h, block);
        for (auto& byte : block) byte = 0;
    }
    const std::uint64_t bits = static_cast<std::uint64_t>(size) * 8;
    for (int i = 0; i < 8; ++i) block[63 - i] = static_cast<std::uint8_t>(bits >> (8 * i));
    compress(h, block);
    digest out{};
    for (int i = 0; i < 20; ++i) out[i] = static_cast<std::uint8_t>(h[i / 4] >> (24 - 8 * (i % 4)));
    return out;
}

/// `hex` (40 hex digits) as a digest, for the checks below.
constexpr digest from_hex(const char* hex) {
    auto nibble = [](char c) { return static_cast<std::uint8_t>(c <= '9' ? c - '0' : c - 'a' + 10); };
    digest out{};
    for (int i = 0; i < 20; ++i) out[i] = static_cast<std::uint8_t>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return out;
}

// The FIPS 180 examples: one block ("abc"), the empty message, a 56-byte message whose
// padding needs a second block, and a 112-byte one (a full block, then a tail).
static_assert(hash("abc", 3) == from_hex("a9993e364706816aba3e25717850c26c9cd0d89d"));
static_assert(hash("", 0) == from_hex("da39a3ee5e6b4b0d3255bfef95601890afd80709"));
static_assert(hash("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56) ==
              from_hex("84983e441c3bd26ebaae4aa1f95129e5e54670f1"));
static_assert(hash("abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmnhijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmno"
                   "pqrstnopqrstu",
                   112) == from_hex("a49b2446a02c645bf419f995b67091253a04a259"));

}  // namespace bench::sha1
