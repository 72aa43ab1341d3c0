// Layout of a latest-value cell's data area (at RegionHeader::data_offset):
//
//   +0                  CellControl     latest: publish number of the newest complete record
//   +64                 slot 0          version (8 bytes), payload at cell_payload_offset
//   +64 + stride        slot 1
//
// Two slots, used alternately: record n goes to slot n % 2. The slot being written is never the
// one `latest` points at, so a writer killed mid-write leaves the previous record intact.
#pragma once

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>

#include "shmrec/detail/region_header.hpp"

namespace shmrec::detail {

struct CellControl {
    std::atomic<std::uint64_t> latest;  // 0: nothing published yet
    std::uint8_t reserved[cache_line - 8];
};
static_assert(sizeof(CellControl) == cache_line);
static_assert(offsetof(CellControl, latest) == 0);
static_assert(std::atomic<std::uint64_t>::is_always_lock_free);

struct CellSlotHeader {
    // Odd (2n - 1) while record n is being written into the slot, 2n once it is complete.
    std::atomic<std::uint64_t> version;
};
static_assert(sizeof(CellSlotHeader) == 8);

inline constexpr std::uint64_t cell_slot_count = 2;

constexpr std::uint64_t round_up_to(std::uint64_t v, std::uint64_t unit) {
    return (v + unit - 1) / unit * unit;
}

// The payload is copied in 8-byte words, so it starts 8-aligned (or at the record's alignment
// when that is larger) and occupies whole words.
constexpr std::uint64_t cell_payload_offset(std::uint64_t record_alignment) {
    return std::max<std::uint64_t>(sizeof(CellSlotHeader), record_alignment);
}
constexpr std::uint64_t cell_payload_words(std::uint64_t record_size) {
    return round_up_to(record_size, 8) / 8;
}
constexpr std::uint64_t cell_slot_stride(std::uint64_t record_size, std::uint64_t alignment) {
    return round_up_to(cell_payload_offset(alignment) + 8 * cell_payload_words(record_size),
                       cache_line);
}
constexpr std::uint64_t cell_data_size(std::uint64_t record_size, std::uint64_t alignment) {
    return sizeof(CellControl) + cell_slot_count * cell_slot_stride(record_size, alignment);
}

}  // namespace shmrec::detail
