// What byte_broadcast_review_test.cpp and its peer share: the message type, the self-checking
// message contents, and a payload that carries the image of a frame (legal user data that looks
// like a frame header of an older lap to a reader reading the wrong bytes).
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <vector>

#include "shmrec/byte_broadcast.hpp"

namespace bbreview {

inline const shmrec::MessageType quote_type{"review.Quote", 0x5152};

// Message k of `size` bytes (at least 8): k, then bytes derived from k.
inline std::vector<std::byte> message(std::uint64_t k, std::size_t size) {
    std::vector<std::byte> m(size < 8 ? 8 : size);
    std::memcpy(m.data(), &k, 8);
    for (std::size_t i = 8; i < m.size(); ++i) m[i] = static_cast<std::byte>((k + i * 13) & 0xff);
    return m;
}
// True when `m` is exactly some message(k, m.size()); sets k.
inline bool intact(const std::vector<std::byte>& m, std::uint64_t& k) {
    if (m.size() < 8) return false;
    std::memcpy(&k, m.data(), 8);
    return m == message(k, m.size());
}

// `size` zero bytes carrying, at byte `at` (a multiple of 8), the image of a committed lap-0
// message frame of `extent` bytes whose 8-byte payload is "FORGED!!" with sequence `sequence`.
inline std::vector<std::byte> frame_image(std::size_t size, std::size_t at, std::int32_t extent,
                                          std::uint64_t sequence) {
    namespace d = shmrec::detail;
    std::vector<std::byte> m(size);
    const std::uint64_t words[4] = {d::pack_state(extent, 0), d::pack_size(8, 0), sequence, 0};
    std::memcpy(m.data() + at, words, sizeof words);
    std::memcpy(m.data() + at + 24, "FORGED!!", 8);
    return m;
}

}  // namespace bbreview
