// Read and write a fixed-size byte-array field ([ubyte:N] or [byte:N]) as text.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace shmrec {

// Stores `text` into `field`, truncated to N-1 bytes so the field always ends in NUL, and
// zero-fills the rest (no stale bytes from a previous value leak to readers).
// Returns false when the text had to be truncated.
template <class Byte, std::size_t N>
    requires(sizeof(Byte) == 1 && N > 0)
bool set_string(std::array<Byte, N>& field, std::string_view text) noexcept {
    const std::size_t n = std::min(text.size(), N - 1);
    std::memcpy(field.data(), text.data(), n);
    std::memset(field.data() + n, 0, N - n);
    return n == text.size();
}

// The text in `field` up to its first NUL, or all N bytes when a peer wrote no NUL. The view
// points into `field`; copy it (or use to_string) if the record may change.
template <class Byte, std::size_t N>
    requires(sizeof(Byte) == 1)
std::string_view get_string(const std::array<Byte, N>& field) noexcept {
    const auto* p = reinterpret_cast<const char*>(field.data());
    const void* nul = std::memchr(p, 0, N);
    return {p, nul ? static_cast<std::size_t>(static_cast<const char*>(nul) - p) : N};
}

template <class Byte, std::size_t N>
    requires(sizeof(Byte) == 1)
std::string to_string(const std::array<Byte, N>& field) {
    return std::string(get_string(field));
}

}  // namespace shmrec
