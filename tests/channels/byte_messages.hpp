// Messages of the byte ring tests (tests/channels/): message k of a given size, whose every
// byte is a function of k and its index, so a torn, shifted, lost or repeated message shows;
// and the sizes a stream of them takes.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <random>
#include <span>
#include <vector>

#include "shmrec/byte_ring.hpp"

namespace bytetest {

inline const shmrec::MessageType frame_type{"test.Frame", 0x1234};

inline std::vector<std::byte> make_message(std::uint64_t k, std::size_t size) {
    std::vector<std::byte> m(size);
    for (std::size_t i = 0; i < size; ++i) {
        m[i] = static_cast<std::byte>((k * 131 + i * 7 + (k >> 8)) & 0xff);
    }
    return m;
}

inline bool is_message(std::span<const std::byte> got, std::uint64_t k, std::size_t size) {
    return got.size() == size && std::equal(got.begin(), got.end(), make_message(k, size).begin());
}

// The size of message k, at most `max`: small ones mostly, some near the limit, and with
// `some_empty` every 11th empty.
inline std::size_t size_of(std::uint64_t k, std::size_t max, bool some_empty = false) {
    std::mt19937_64 rng(k);
    if (some_empty && k % 11 == 0) return 0;
    return (k % 7 == 0) ? max - rng() % 8 : rng() % (max / 4 + 1);
}

}  // namespace bytetest
