// Copying a record into and out of a slot that the other side may be changing at the same time
// (the seqlock payload). Every access is a relaxed atomic word access, so the concurrent
// read is not a data race in the C++ memory model, ThreadSanitizer sees atomics, and a torn
// copy is detected by the version check around it, never used.
#pragma once

#include <cstddef>
#include <cstdint>

#include "shmrec/detail/fault.hpp"

namespace shmrec::detail {

inline void store_words(std::uint64_t* dst, const std::uint64_t* src, std::size_t words) noexcept {
    for (std::size_t i = 0; i < words; ++i) __atomic_store_n(dst + i, src[i], __ATOMIC_RELAXED);
}

// store_words with a fault point between the two halves (a writer killed mid-payload).
inline void store_words_faultable(std::uint64_t* dst, const std::uint64_t* src, std::size_t words,
                                  [[maybe_unused]] const char* mid_point) noexcept {
#if defined(SHMREC_FAULT_INJECTION)
    const std::size_t half = words / 2;
    store_words(dst, src, half);
    SHMREC_FAULT_POINT(mid_point);
    store_words(dst + half, src + half, words - half);
#else
    store_words(dst, src, words);
#endif
}

// `src` may be a read-only mapping: an 8-byte relaxed atomic load is a plain load, no write.
inline void load_words(std::uint64_t* dst, const std::uint64_t* src, std::size_t words) noexcept {
    for (std::size_t i = 0; i < words; ++i) dst[i] = __atomic_load_n(src + i, __ATOMIC_RELAXED);
}


}  // namespace shmrec::detail
