// The region header: the first bytes of every shmrec region, the contract between the
// processes sharing it. A wire format: fixed-width fields, explicit reserved bytes, asserted
// below and by tests/unit/region_header_layout_test.cpp. Documented byte by byte in
// docs/region-header.md. Any change here that an older opener could misread is a new
// SHMREC_FORMAT_MAJOR.
#pragma once

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <type_traits>

#include "shmrec/version.hpp"

namespace shmrec::detail {

// A fixed cache-line size for everything shared between processes: two binaries built with
// different -mtune could disagree on std::hardware_destructive_interference_size.
inline constexpr std::size_t cache_line = 64;

// "SHMREC" followed by 0x1A 0x01, stored in native byte order. Read back byte-swapped, it
// reveals a writer of the other endianness rather than a foreign file.
inline constexpr std::uint64_t region_magic = 0x5348'4D52'4543'1A01ull;

inline constexpr std::size_t max_record_name = 112;  // including the terminating NUL

// Folded into the header so builds that disagree on a shared-layout assumption refuse to share
// a region instead of misreading it (LMDB's MDB_LOCK_FORMAT idea).
constexpr std::uint32_t abi_signature() noexcept {
    std::uint32_t s = 0;
    s |= static_cast<std::uint32_t>(cache_line);                       // bits 0..7
    s |= static_cast<std::uint32_t>(sizeof(void*)) << 8;               // bits 8..11
    s |= static_cast<std::uint32_t>(std::atomic<std::uint64_t>::is_always_lock_free) << 12;
    s |= static_cast<std::uint32_t>(std::atomic<std::uint32_t>::is_always_lock_free) << 13;
    s |= static_cast<std::uint32_t>(sizeof(std::atomic<std::uint64_t>) == 8) << 14;
    // Windows places views on its 64 KiB allocation granularity, so its geometry differs from
    // a POSIX one: a region file made on one refuses to open on the other (abi_mismatch), never
    // a misleading corrupt header. Zero on POSIX: their signature is what it always was.
#if defined(_WIN32)
    s |= std::uint32_t{1} << 15;                                        // bit 15: Windows
#endif
    return s;
}

enum class RegionState : std::uint32_t {
    initialising = 0,  // a zero-filled new region reads as this
    ready = 1,         // header complete; stored last, with release ordering
    closed = 2,        // the writer finished cleanly
};

enum class ChannelKind : std::uint32_t {
    cell = 1,
    ring = 2,
    broadcast = 3,
    byte_ring = 4,       // variable-size messages (detail/byte_ring_layout.hpp)
    byte_broadcast = 5,  // variable-size messages to many readers (detail/byte_broadcast_layout.hpp)
};

constexpr std::string_view to_string(RegionState s) noexcept {
    switch (s) {
        case RegionState::initialising: return "initialising";
        case RegionState::ready: return "ready";
        case RegionState::closed: return "closed";
    }
    return "unknown";
}
constexpr std::string_view to_string(ChannelKind k) noexcept {
    switch (k) {
        case ChannelKind::cell: return "cell";
        case ChannelKind::ring: return "ring";
        case ChannelKind::broadcast: return "broadcast";
        case ChannelKind::byte_ring: return "byte_ring";
        case ChannelKind::byte_broadcast: return "byte_broadcast";
    }
    return "unknown";
}

struct RegionHeader {
    std::uint64_t magic;                  // region_magic
    std::uint16_t format_major;           // SHMREC_FORMAT_MAJOR
    std::uint16_t format_minor;           // SHMREC_FORMAT_MINOR
    std::uint32_t header_size;            // sizeof(RegionHeader) of the creator
    std::uint32_t abi_signature;          // abi_signature() of the creator
    std::uint32_t channel_kind;           // ChannelKind
    std::atomic<std::uint32_t> state;     // RegionState
    std::uint32_t flags;                  // reserved, 0
    std::uint64_t mapped_size;            // total bytes of the region
    std::uint64_t board_offset;           // reader board: the one page readers map writable
    std::uint64_t board_size;
    std::uint64_t data_offset;            // channel control block and slots
    std::uint64_t data_size;
    std::uint64_t schema_offset;          // the record's schema text (not NUL-terminated)
    std::uint64_t schema_length;
    std::uint64_t capacity;               // slots in the channel
    std::uint64_t slot_stride;            // bytes from one slot to the next
    std::uint64_t fingerprint;            // RecordTraits<T>::fingerprint
    std::uint32_t record_size;
    std::uint32_t record_alignment;
    std::int32_t creator_pid;
    std::uint32_t reserved0;
    std::uint64_t creator_start_time;     // creator's start, clock ticks since boot
    std::uint64_t creation_time_ns;       // CLOCK_REALTIME, ns since the epoch
    char record_name[max_record_name];    // qualified name, NUL-terminated and NUL-padded

    // Format 2.1: present when header_size >= header_size_2_1 (a 2.0 creator wrote 256 and
    // left these bytes zero; a 2.0 opener ignores them).
    std::uint64_t binary_schema_offset;   // the record's binary schema (.bfbs), 8-aligned
    std::uint64_t binary_schema_length;   // 0: none embedded
    // The process holding the writer role now (the creator, or the writer that took the region
    // over). For people only: written relaxed by each new writer, read relaxed by inspectors;
    // liveness never relies on it (the writer lock does).
    std::atomic<std::uint64_t> writer_start_time;  // clock ticks since boot
    std::atomic<std::int32_t> writer_pid;
    std::atomic<std::uint32_t> writer_generation;  // writers that have held the role: 1 = creator
    std::atomic<std::uint64_t> writer_since_ns;    // when it took the role, CLOCK_REALTIME
    std::uint8_t reserved1[88];
};

static_assert(std::is_standard_layout_v<RegionHeader>);
static_assert(std::atomic<std::uint32_t>::is_always_lock_free);
static_assert(sizeof(std::atomic<std::uint32_t>) == 4);
static_assert(sizeof(RegionHeader) == 384);
static_assert(alignof(RegionHeader) == 8);
static_assert(offsetof(RegionHeader, magic) == 0);
static_assert(offsetof(RegionHeader, format_major) == 8);
static_assert(offsetof(RegionHeader, format_minor) == 10);
static_assert(offsetof(RegionHeader, header_size) == 12);
static_assert(offsetof(RegionHeader, abi_signature) == 16);
static_assert(offsetof(RegionHeader, channel_kind) == 20);
static_assert(offsetof(RegionHeader, state) == 24);
static_assert(offsetof(RegionHeader, flags) == 28);
static_assert(offsetof(RegionHeader, mapped_size) == 32);
static_assert(offsetof(RegionHeader, board_offset) == 40);
static_assert(offsetof(RegionHeader, board_size) == 48);
static_assert(offsetof(RegionHeader, data_offset) == 56);
static_assert(offsetof(RegionHeader, data_size) == 64);
static_assert(offsetof(RegionHeader, schema_offset) == 72);
static_assert(offsetof(RegionHeader, schema_length) == 80);
static_assert(offsetof(RegionHeader, capacity) == 88);
static_assert(offsetof(RegionHeader, slot_stride) == 96);
static_assert(offsetof(RegionHeader, fingerprint) == 104);
static_assert(offsetof(RegionHeader, record_size) == 112);
static_assert(offsetof(RegionHeader, record_alignment) == 116);
static_assert(offsetof(RegionHeader, creator_pid) == 120);
static_assert(offsetof(RegionHeader, reserved0) == 124);
static_assert(offsetof(RegionHeader, creator_start_time) == 128);
static_assert(offsetof(RegionHeader, creation_time_ns) == 136);
static_assert(offsetof(RegionHeader, record_name) == 144);
static_assert(offsetof(RegionHeader, binary_schema_offset) == 256);
static_assert(offsetof(RegionHeader, binary_schema_length) == 264);
static_assert(offsetof(RegionHeader, writer_start_time) == 272);
static_assert(offsetof(RegionHeader, writer_pid) == 280);
static_assert(offsetof(RegionHeader, writer_generation) == 284);
static_assert(offsetof(RegionHeader, writer_since_ns) == 288);
static_assert(offsetof(RegionHeader, reserved1) == 296);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free &&
              sizeof(std::atomic<std::uint64_t>) == 8 && sizeof(std::atomic<std::int32_t>) == 4);

// The header sizes a creator may have written: format 2.0 stopped at record_name.
inline constexpr std::uint32_t header_size_2_0 = 256;
inline constexpr std::uint32_t header_size_2_1 = sizeof(RegionHeader);
// An embedded binary schema larger than this is refused as corrupt (a real one is a few KiB).
inline constexpr std::uint64_t max_binary_schema = std::uint64_t{1} << 20;

// True once the writer marked the region closed. Acquire pairs with the writer's release
// store in Region::mark_closed: a reader that sees `closed` sees every record committed
// before it. Channel views poll it through a pointer taken once, off the Region's pimpl.
inline bool region_closed(const std::atomic<std::uint32_t>& state) noexcept {
    return state.load(std::memory_order_acquire) ==
           static_cast<std::uint32_t>(RegionState::closed);
}

// Readers of a cell or broadcast: at most this many attached at once (each holds one slot).
inline constexpr std::uint32_t max_readers = 256;

// The reader board: the only bytes a reader writes. Readers map the rest of the region
// read-only and this page read-write. Reader i (the holder of reader lock slot i) sets bit i
// while it sleeps on the channel's doorbell, so the writer makes the wake system call only
// when someone waits (detail/waiter_registry.hpp).
struct ReaderBoard {
    std::atomic<std::uint64_t> waiting[max_readers / 64];
    std::uint8_t reserved[cache_line - max_readers / 8];
};
static_assert(std::is_standard_layout_v<ReaderBoard>);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);
static_assert(offsetof(ReaderBoard, waiting) == 0);
static_assert(sizeof(ReaderBoard) == cache_line);
static_assert(alignof(ReaderBoard) == 8);

// Format 2.1: after the board's waiter bits, one cursor per reader slot where reader i publishes
// how far it has read, for inspectors (`shmrec info` / `stat`: lag and loss of each reader).
// Written only by the reader holding slot i, with relaxed stores nobody synchronises on; a
// lying reader can falsify its own figures (and others': the board is writable by every
// reader), which are for people only. Each cursor takes two cache lines and the first starts
// two lines after the waiter bits, as every hot word here is placed (adjacent-line prefetch
// pulls lines in pairs): a reader's stores never disturb the writer's reads of the waiter bits
// or another reader's cursor.
struct ReaderCursor {
    // Broadcast: the next record the reader will read. Cell: the number of the record it read
    // last (a cell has no "next").
    std::atomic<std::uint64_t> position;
    std::atomic<std::uint64_t> received;  // records it has read
    // Broadcast: records it lost to laps. Cell: records published between two of its reads.
    std::atomic<std::uint64_t> lost;
    std::uint8_t reserved[2 * cache_line - 24];
};
static_assert(std::is_standard_layout_v<ReaderCursor>);
static_assert(sizeof(ReaderCursor) == 2 * cache_line);
static_assert(offsetof(ReaderCursor, position) == 0);
static_assert(offsetof(ReaderCursor, received) == 8);
static_assert(offsetof(ReaderCursor, lost) == 16);

// Where the cursors start on the board, and the bytes of a board that carries them; a board
// smaller than this (format 2.0) has none.
inline constexpr std::uint64_t reader_cursors_offset = 2 * cache_line;
inline constexpr std::uint64_t board_bytes_with_cursors =
    reader_cursors_offset + max_readers * sizeof(ReaderCursor);

}  // namespace shmrec::detail
