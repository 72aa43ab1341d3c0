// What byte_ring_review_test.cpp and its peer commands share: the ring's message type, the
// messages (message k: a size and bytes that depend on k, so a lost, repeated, torn or shifted
// message is seen) and the wait options.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

#include "shmrec/byte_ring.hpp"

namespace shmrec_review {

inline const shmrec::MessageType message_type{"review.Bytes", 0x5eed'5eed, "review schema text"};
inline constexpr std::uint64_t small_ring = 128;  // max_message 40: padding every few messages

inline std::size_t message_size(std::uint64_t k) { return static_cast<std::size_t>((k * 11) % 41); }

inline std::vector<std::byte> message(std::uint64_t k) {
    std::vector<std::byte> m(message_size(k));
    for (std::size_t i = 0; i < m.size(); ++i) {
        m[i] = static_cast<std::byte>((k * 131 + i * 7 + 1) & 0xff);
    }
    return m;
}

inline bool is_message(std::span<const std::byte> got, std::uint64_t k) {
    const auto want = message(k);
    return got.size() == want.size() && std::equal(got.begin(), got.end(), want.begin());
}

// Liveness checked every 50 ms: a dead peer is seen quickly.
inline shmrec::WaitOptions quick_liveness() {
    shmrec::WaitOptions wait;
    wait.liveness_interval = std::chrono::milliseconds(50);
    return wait;
}

}  // namespace shmrec_review
