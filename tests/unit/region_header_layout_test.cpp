// If this fails you changed the shared layout: bump SHMREC_FORMAT_MAJOR (version.hpp) and update docs/region-header.md
//
// Pins every byte of the structures two processes share (detail/region_header.hpp,
// detail/cell_layout.hpp) and the values folded into the header, so that a change which an
// older opener would misread cannot pass unnoticed.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "shmrec/cell.hpp"
#include "shmrec/detail/cell_layout.hpp"
#include "shmrec/detail/region_header.hpp"
#include "shmrec/version.hpp"
#include "student.shmrec.hpp"

namespace {

using shmrec::detail::CellControl;
using shmrec::detail::CellSlotHeader;
using shmrec::detail::ReaderBoard;
using shmrec::detail::RegionHeader;

constexpr const char* bump =
    "You changed the shared layout: bump SHMREC_FORMAT_MAJOR (version.hpp) and update "
    "docs/region-header.md";

TEST(RegionHeaderLayout, FormatVersionIsTheOneThisLayoutWasPinnedFor) {
    // When you bump the format, re-pin the layout below and update this number with it.
    EXPECT_EQ(SHMREC_FORMAT_MAJOR, 1) << bump;
    EXPECT_EQ(shmrec::format_major, 1) << bump;
}

TEST(RegionHeaderLayout, HeaderSizeAndAlignmentArePinned) {
    EXPECT_EQ(sizeof(RegionHeader), 256u) << bump;
    EXPECT_EQ(alignof(RegionHeader), 8u) << bump;
    EXPECT_TRUE(std::is_standard_layout_v<RegionHeader>) << bump;
    EXPECT_TRUE(std::atomic<std::uint32_t>::is_always_lock_free) << bump;
    EXPECT_TRUE(std::atomic<std::uint64_t>::is_always_lock_free) << bump;
}

TEST(RegionHeaderLayout, EveryHeaderFieldIsAtItsDocumentedOffset) {
    EXPECT_EQ(offsetof(RegionHeader, magic), 0u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, format_major), 8u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, format_minor), 10u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, header_size), 12u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, abi_signature), 16u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, channel_kind), 20u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, state), 24u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, flags), 28u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, mapped_size), 32u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, board_offset), 40u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, board_size), 48u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, data_offset), 56u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, data_size), 64u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, schema_offset), 72u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, schema_length), 80u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, capacity), 88u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, slot_stride), 96u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, fingerprint), 104u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, record_size), 112u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, record_alignment), 116u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, creator_pid), 120u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, reserved0), 124u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, creator_start_time), 128u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, creation_time_ns), 136u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, record_name), 144u) << bump;
    EXPECT_EQ(sizeof(RegionHeader::record_name), 112u) << bump;
    EXPECT_EQ(shmrec::detail::max_record_name, 112u) << bump;
}

TEST(RegionHeaderLayout, FieldWidthsArePinned) {
    RegionHeader* h = nullptr;
    EXPECT_EQ(sizeof h->magic, 8u) << bump;
    EXPECT_EQ(sizeof h->format_major, 2u) << bump;
    EXPECT_EQ(sizeof h->format_minor, 2u) << bump;
    EXPECT_EQ(sizeof h->header_size, 4u) << bump;
    EXPECT_EQ(sizeof h->abi_signature, 4u) << bump;
    EXPECT_EQ(sizeof h->channel_kind, 4u) << bump;
    EXPECT_EQ(sizeof h->state, 4u) << bump;
    EXPECT_EQ(sizeof h->mapped_size, 8u) << bump;
    EXPECT_EQ(sizeof h->record_size, 4u) << bump;
    EXPECT_EQ(sizeof h->creator_pid, 4u) << bump;
}

TEST(RegionHeaderLayout, MagicIsShmrecFollowedBy1A01InNativeByteOrder) {
    EXPECT_EQ(shmrec::detail::region_magic, 0x5348'4D52'4543'1A01ull) << bump;
    // As bytes in memory (little-endian x86/arm64): 01 1A 'C' 'E' 'R' 'M' 'H' 'S'.
    unsigned char bytes[8];
    std::memcpy(bytes, &shmrec::detail::region_magic, 8);
    if constexpr (std::endian::native == std::endian::little) {
        const unsigned char expected[8] = {0x01, 0x1A, 'C', 'E', 'R', 'M', 'H', 'S'};
        EXPECT_EQ(std::memcmp(bytes, expected, 8), 0) << bump;
    }
    // Byte-swapped it must not read as itself, or byte_order_mismatch could not be detected.
    EXPECT_NE(__builtin_bswap64(shmrec::detail::region_magic), shmrec::detail::region_magic);
}

TEST(RegionHeaderLayout, AbiSignatureFoldsCacheLinePointerWidthAndAtomics) {
    EXPECT_EQ(shmrec::detail::cache_line, 64u) << bump;
    // 64-bit Linux with lock-free 32/64-bit atomics: 0x40 | 8 << 8 | 1 << 12 | 1 << 13 | 1 << 14.
    EXPECT_EQ(shmrec::detail::abi_signature(), 0x7840u) << bump;
    EXPECT_EQ(shmrec::detail::abi_signature() & 0xffu, 64u) << bump;
    EXPECT_EQ((shmrec::detail::abi_signature() >> 8) & 0xfu, sizeof(void*)) << bump;
}

TEST(RegionHeaderLayout, EnumValuesArePinned) {
    EXPECT_EQ(static_cast<std::uint32_t>(shmrec::RegionState::initialising), 0u) << bump;
    EXPECT_EQ(static_cast<std::uint32_t>(shmrec::RegionState::ready), 1u) << bump;
    EXPECT_EQ(static_cast<std::uint32_t>(shmrec::RegionState::closed), 2u) << bump;
    EXPECT_EQ(static_cast<std::uint32_t>(shmrec::ChannelKind::cell), 1u) << bump;
    EXPECT_EQ(static_cast<std::uint32_t>(shmrec::ChannelKind::ring), 2u) << bump;
    EXPECT_EQ(static_cast<std::uint32_t>(shmrec::ChannelKind::broadcast), 3u) << bump;
}

TEST(RegionHeaderLayout, ReaderBoardIsOneCacheLineWithWaitersFirst) {
    EXPECT_EQ(sizeof(ReaderBoard), 64u) << bump;
    EXPECT_EQ(alignof(ReaderBoard), 4u) << bump;
    EXPECT_EQ(offsetof(ReaderBoard, waiters), 0u) << bump;
    EXPECT_EQ(sizeof(ReaderBoard::waiters), 4u) << bump;
}

TEST(RegionHeaderLayout, CellControlIsOneCacheLineWithLatestFirst) {
    EXPECT_EQ(sizeof(CellControl), 64u) << bump;
    EXPECT_EQ(alignof(CellControl), 8u) << bump;
    EXPECT_EQ(offsetof(CellControl, latest), 0u) << bump;
    EXPECT_EQ(sizeof(CellSlotHeader), 8u) << bump;
    EXPECT_EQ(shmrec::detail::cell_slot_count, 2u) << bump;
}

TEST(RegionHeaderLayout, StudentCellGeometryIsPinned) {
    static_assert(sizeof(school::Student) == 32 && alignof(school::Student) == 8);
    // Slot: 8-byte version, payload at 8, 32 bytes of payload, rounded up to one cache line.
    EXPECT_EQ(shmrec::detail::cell_payload_offset(alignof(school::Student)), 8u) << bump;
    EXPECT_EQ(shmrec::detail::cell_payload_words(sizeof(school::Student)), 4u) << bump;
    EXPECT_EQ(shmrec::detail::cell_slot_stride(32, 8), 64u) << bump;
    // Control line + two slots.
    EXPECT_EQ(shmrec::detail::cell_data_size(32, 8), 192u) << bump;

    const shmrec::RegionSpec spec = shmrec::Cell<school::Student>::spec();
    EXPECT_EQ(spec.kind, shmrec::ChannelKind::cell);
    EXPECT_EQ(spec.record_name, "school.Student");
    EXPECT_EQ(spec.record_size, 32u);
    EXPECT_EQ(spec.record_alignment, 8u);
    EXPECT_EQ(spec.capacity, 2u) << bump;
    EXPECT_EQ(spec.slot_stride, 64u) << bump;
    EXPECT_EQ(spec.data_size, 192u) << bump;
}

TEST(RegionHeaderLayout, CellGeometryFollowsRecordSizeAndAlignment) {
    // A record whose payload spills into a second cache line, and one aligned to 64.
    EXPECT_EQ(shmrec::detail::cell_slot_stride(57, 8), 128u) << bump;
    EXPECT_EQ(shmrec::detail::cell_slot_stride(56, 8), 64u) << bump;
    EXPECT_EQ(shmrec::detail::cell_payload_offset(64), 64u) << bump;
    EXPECT_EQ(shmrec::detail::cell_slot_stride(8, 64), 128u) << bump;
    EXPECT_EQ(shmrec::detail::cell_payload_words(1), 1u) << bump;
    EXPECT_EQ(shmrec::detail::cell_payload_words(9), 2u) << bump;
}

}  // namespace
