// A seqlock slot: a 64-bit version word followed by the record's payload words. The cell keeps
// two of them, the broadcast ring one per position. Stamp s (>= 1) names one record: the
// version is 2s-1 while it is being written and 2s once it is complete.
//
//   writer (store)                               reader (try_load)
//   1. version = 2s-1           (relaxed)        a. v1 = version          (acquire)
//   2. fence(release)                               v1 < 2s: not there yet; v1 > 2s: newer
//   3. payload words            (relaxed)        b. payload words         (relaxed)
//   4. version = 2s             (release)        c. fence(acquire)
//                                                d. accept iff version == v1 (relaxed)
//
// If any word read in (b) came from a later record's step 3, the release fence (2) and the
// acquire fence (c) order that record's odd version before (d), so (d) fails and the copy is
// discarded. A writer killed anywhere leaves an odd version (never accepted) or a complete
// record. The payload is copied word by word straight between the record and the slot: no
// whole-record buffer, so a record of any size is fine (a multi-MiB record cannot overflow
// the stack).
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shmrec/detail/fault.hpp"
#include "shmrec/detail/sequence.hpp"
#include "shmrec/detail/word_copy.hpp"

namespace shmrec::detail {

// Fault points of a writer's store, per channel ("cell.after_claim", ...).
struct SeqlockFaultPoints {
    const char* after_claim;
    const char* mid_payload;
    const char* before_commit;
};

enum class SeqlockLoad : std::uint8_t {
    ok,       // `out` holds record s
    not_yet,  // the slot holds an older record, or record s is being written
    newer,    // the slot already holds a later record than s
    torn,     // the writer changed the slot during the copy: `out` is garbage, try again
};

// The two halves for a record of `size` bytes (words_for(size) payload words). Every channel
// calls these: a typed handle with size = sizeof(T), a constant the inlined copy loop is
// specialised for; a run-time-typed handle (untyped.hpp) with the size from its region.
[[gnu::always_inline]] inline void seqlock_store(
    std::atomic<std::uint64_t>& version, std::uint64_t* payload, std::uint64_t stamp,
    const void* record, std::size_t size,
    [[maybe_unused]] const SeqlockFaultPoints& points) noexcept {
    const std::size_t words = words_for(size);
    // 1-2. Odd version before any payload word changes. Relaxed store + release fence:
    // the fence orders this store before the payload stores for any reader whose acquire
    // fence (c) follows a load that saw one of them.
    version.store(2 * stamp - 1, std::memory_order_relaxed);
    std::atomic_thread_fence(std::memory_order_release);
    SHMREC_FAULT_POINT(points.after_claim);
    // 3. A fault point between the halves: a writer killed mid-payload.
    store_words(payload, record, size, 0, words / 2);
    SHMREC_FAULT_POINT(points.mid_payload);
    store_words(payload, record, size, words / 2, words);
    SHMREC_FAULT_POINT(points.before_commit);
    // 4. SYNC POINT WRITE: payload. Pairs with the reader's acquire load (a).
    version.store(2 * stamp, std::memory_order_release);
}

[[gnu::always_inline]] inline SeqlockLoad seqlock_try_load(
    const std::atomic<std::uint64_t>& version, const std::uint64_t* payload,
    std::uint64_t stamp, void* out, std::size_t size) noexcept {
    // a. SYNC POINT READ: payload. Acquire pairs with the writer's release (4).
    const std::uint64_t v1 = version.load(std::memory_order_acquire);
    const std::int64_t d = ahead(v1, 2 * stamp);
    if (d < 0) return SeqlockLoad::not_yet;
    if (d > 0) return SeqlockLoad::newer;
    load_words(out, payload, size);                       // b
    std::atomic_thread_fence(std::memory_order_acquire);  // c
    // d. Relaxed: ordered after the payload loads by the fence (c).
    return version.load(std::memory_order_relaxed) == v1 ? SeqlockLoad::ok : SeqlockLoad::torn;
}

// The same for a record type known at compile time.
template <class T>
struct Seqlock {
    static void store(std::atomic<std::uint64_t>& version, std::uint64_t* payload,
                      std::uint64_t stamp, const T& record,
                      const SeqlockFaultPoints& points) noexcept {
        seqlock_store(version, payload, stamp, &record, sizeof(T), points);
    }
    static SeqlockLoad try_load(const std::atomic<std::uint64_t>& version,
                                const std::uint64_t* payload, std::uint64_t stamp,
                                T& out) noexcept {
        return seqlock_try_load(version, payload, stamp, &out, sizeof(T));
    }
};

}  // namespace shmrec::detail
