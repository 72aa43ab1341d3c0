// Copying a record into and out of a slot that the other side may be changing at the same
// time (a seqlock payload). Every shared access is a relaxed atomic 8-byte access, so the
// concurrent read is not a data race in the C++ memory model and ThreadSanitizer sees atomics;
// a torn copy is caught by the version check around it (detail/seqlock.hpp), never used.
// The record side is copied one word at a time through an 8-byte local, so a record of any
// size is copied without a whole-record buffer on the stack.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <cstring>

namespace shmrec::detail {

// One relaxed 8-byte access to a shared word (GCC and Clang: the builtins, which need no
// writable memory for a load; MSVC: std::atomic_ref, a plain aligned load or store on x64).
inline void store_word(std::uint64_t* word, std::uint64_t value) noexcept {
#if defined(_MSC_VER) && !defined(__clang__)
    std::atomic_ref<std::uint64_t>(*word).store(value, std::memory_order_relaxed);
#else
    __atomic_store_n(word, value, __ATOMIC_RELAXED);
#endif
}

inline std::uint64_t load_word(const std::uint64_t* word) noexcept {
#if defined(_MSC_VER) && !defined(__clang__)
    return std::atomic_ref<std::uint64_t>(*const_cast<std::uint64_t*>(word))
        .load(std::memory_order_relaxed);
#else
    return __atomic_load_n(word, __ATOMIC_RELAXED);
#endif
}

constexpr std::size_t words_for(std::size_t bytes) noexcept { return (bytes + 7) / 8; }

// Stores words [first, last) of the `size` bytes at `src` into the slot payload `dst` (which
// holds words_for(size) words; the tail word is zero-padded).
inline void store_words(std::uint64_t* dst, const void* src, std::size_t size, std::size_t first,
                        std::size_t last) noexcept {
    const auto* bytes = static_cast<const std::byte*>(src);
    for (std::size_t i = first; i < last; ++i) {
        std::uint64_t word = 0;
        const std::size_t n = size - 8 * i < 8 ? size - 8 * i : 8;
        std::memcpy(&word, bytes + 8 * i, n);
        store_word(dst + i, word);
    }
}

// Loads words_for(size) words of the slot payload `src` into the `size` bytes at `dst`. `src`
// may be a read-only mapping: an 8-byte relaxed atomic load is a plain load, no write.
inline void load_words(void* dst, const std::uint64_t* src, std::size_t size) noexcept {
    auto* bytes = static_cast<std::byte*>(dst);
    const std::size_t words = words_for(size);
    for (std::size_t i = 0; i < words; ++i) {
        const std::uint64_t word = load_word(src + i);
        const std::size_t n = size - 8 * i < 8 ? size - 8 * i : 8;
        std::memcpy(bytes + 8 * i, &word, n);
    }
}

}  // namespace shmrec::detail
