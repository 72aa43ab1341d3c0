// Reading every byte of a block once, as a consumer of in-place data does: a sum of its 8-byte
// words, in four independent sums (one chain of dependent adds would cap the read at 8 bytes a
// cycle, below what memcpy reads at). Shared by the in-place copy floor and the table records'
// reader, so both read alike.
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstring>

namespace bench {

inline std::uint64_t sum_words(const void* data, std::size_t bytes) noexcept {
    const auto* p = static_cast<const unsigned char*>(data);
    std::uint64_t s[4] = {0, 0, 0, 0};
    std::size_t i = 0;
    for (; i + 32 <= bytes; i += 32) {
        for (std::size_t k = 0; k < 4; ++k) {
            std::uint64_t w;
            std::memcpy(&w, p + i + 8 * k, sizeof w);
            s[k] += w;
        }
    }
    for (; i + 8 <= bytes; i += 8) {
        std::uint64_t w;
        std::memcpy(&w, p + i, sizeof w);
        s[0] += w;
    }
    return s[0] + s[1] + s[2] + s[3];
}

}  // namespace bench
