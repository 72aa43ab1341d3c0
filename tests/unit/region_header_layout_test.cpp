// If this fails you changed the shared layout: bump SHMREC_FORMAT_MAJOR (version.hpp) and update docs/region-header.md
// (or SHMREC_FORMAT_MINOR for an addition in bytes that were zero, as format 2.1 did).
//
// Pins every byte of the structures two processes share (detail/region_header.hpp,
// detail/{cell,ring,broadcast}_layout.hpp, the lock slots) and the values folded into the header, so that a change which an
// older opener would misread cannot pass unnoticed.
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <cstring>

#include "shmrec/broadcast.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/detail/broadcast_layout.hpp"
#include "shmrec/detail/cell_layout.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/detail/region_header.hpp"
#include "shmrec/detail/ring_layout.hpp"
#include "shmrec/ring.hpp"
#include "shmrec/version.hpp"
#include "student.shmrec.hpp"

namespace {

using shmrec::detail::CellControl;
using shmrec::detail::ReaderBoard;
using shmrec::detail::RegionHeader;

constexpr const char* bump =
    "You changed the shared layout: bump SHMREC_FORMAT_MAJOR (version.hpp) and update "
    "docs/region-header.md";

TEST(RegionHeaderLayout, FormatVersionIsTheOneThisLayoutWasPinnedFor) {
    // When you bump the format, re-pin the layout below and update this number with it.
    EXPECT_EQ(SHMREC_FORMAT_MAJOR, 2) << bump;
    EXPECT_EQ(shmrec::format_major, 2) << bump;
    EXPECT_EQ(SHMREC_FORMAT_MINOR, 1) << bump;
}

TEST(RegionHeaderLayout, HeaderSizeAndAlignmentArePinned) {
    EXPECT_EQ(sizeof(RegionHeader), 384u) << bump;
    // Format 2.0 headers stop at 256 bytes; 2.1 adds 128 bytes that 2.0 creators left zero.
    EXPECT_EQ(shmrec::detail::header_size_2_0, 256u) << bump;
    EXPECT_EQ(shmrec::detail::header_size_2_1, 384u) << bump;
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
    // Format 2.1.
    EXPECT_EQ(offsetof(RegionHeader, binary_schema_offset), 256u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, binary_schema_length), 264u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, writer_start_time), 272u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, writer_pid), 280u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, writer_generation), 284u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, writer_since_ns), 288u) << bump;
    EXPECT_EQ(offsetof(RegionHeader, reserved1), 296u) << bump;
    EXPECT_EQ(sizeof(RegionHeader::reserved1), 88u) << bump;
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
    // 64-bit, lock-free 32/64-bit atomics: 0x40 | 8 << 8 | 1 << 12 | 1 << 13 | 1 << 14, and
    // on Windows bit 15 (its 64 KiB view granularity gives another geometry).
#if defined(_WIN32)
    EXPECT_EQ(shmrec::detail::abi_signature(), 0xF840u) << bump;
#else
    EXPECT_EQ(shmrec::detail::abi_signature(), 0x7840u) << bump;
#endif
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

TEST(RegionHeaderLayout, ReaderBoardIsOneCacheLineOfWaiterBitsThenACursorLinePerReader) {
    static_assert(std::is_standard_layout_v<ReaderBoard>);
    EXPECT_EQ(sizeof(ReaderBoard), 64u) << bump;
    EXPECT_EQ(alignof(ReaderBoard), 8u) << bump;
    EXPECT_EQ(offsetof(ReaderBoard, waiting), 0u) << bump;
    EXPECT_EQ(sizeof(ReaderBoard::waiting), 32u) << bump;
    // Format 2.1: two cache lines per reader slot, from the board's third line on.
    using shmrec::detail::ReaderCursor;
    EXPECT_EQ(sizeof(ReaderCursor), 128u) << bump;
    EXPECT_EQ(shmrec::detail::reader_cursors_offset, 128u) << bump;
    EXPECT_EQ(offsetof(ReaderCursor, position), 0u) << bump;
    EXPECT_EQ(offsetof(ReaderCursor, received), 8u) << bump;
    EXPECT_EQ(offsetof(ReaderCursor, lost), 16u) << bump;
    EXPECT_EQ(shmrec::detail::board_bytes_with_cursors, 128u + 256u * 128u) << bump;
    EXPECT_EQ(shmrec::detail::max_readers, 256u) << bump;
}

TEST(RegionHeaderLayout, LockSlotsArePinned) {
    using shmrec::detail::LockSlot;
    EXPECT_EQ(static_cast<std::uint32_t>(LockSlot::writer), 0u) << bump;
    EXPECT_EQ(static_cast<std::uint32_t>(LockSlot::consumer), 1u) << bump;
    EXPECT_EQ(static_cast<std::uint32_t>(LockSlot::attached), 2u) << bump;
    EXPECT_EQ(shmrec::detail::reader_lock_slot(0), 64u) << bump;
    EXPECT_EQ(shmrec::detail::reader_lock_slot(255), 319u) << bump;
}

TEST(RegionHeaderLayout, CellControlIsLatestThenDoorbellOnItsOwnLine) {
    static_assert(std::is_standard_layout_v<CellControl>);
    EXPECT_EQ(sizeof(CellControl), 128u) << bump;
    EXPECT_EQ(alignof(CellControl), 8u) << bump;
    EXPECT_EQ(offsetof(CellControl, latest), 0u) << bump;
    EXPECT_EQ(offsetof(CellControl, doorbell), 64u) << bump;
    EXPECT_EQ(shmrec::detail::CellDescriptor::slot_count, 2u) << bump;
}

TEST(RegionHeaderLayout, RingControlIsSixBlocksEachWrittenByOneSide) {
    using shmrec::detail::RingControl;
    static_assert(std::is_standard_layout_v<RingControl>);
    EXPECT_EQ(sizeof(RingControl), 768u) << bump;
    EXPECT_EQ(alignof(RingControl), 8u) << bump;
    EXPECT_EQ(offsetof(RingControl, tail), 0u) << bump;
    EXPECT_EQ(offsetof(RingControl, claimed), 8u) << bump;  // format 2.1: observers
    EXPECT_EQ(offsetof(RingControl, head), 128u) << bump;
    EXPECT_EQ(offsetof(RingControl, consumer_epoch), 136u) << bump;
    EXPECT_EQ(offsetof(RingControl, consumer_waiting), 256u) << bump;
    EXPECT_EQ(offsetof(RingControl, data_doorbell), 384u) << bump;
    EXPECT_EQ(offsetof(RingControl, writer_waiting), 512u) << bump;
    EXPECT_EQ(offsetof(RingControl, room_doorbell), 640u) << bump;
    EXPECT_EQ(sizeof(shmrec::detail::RingSlotHeader), 8u) << bump;
}

TEST(RegionHeaderLayout, BroadcastControlIsTailThenDoorbell) {
    using shmrec::detail::BroadcastControl;
    static_assert(std::is_standard_layout_v<BroadcastControl>);
    EXPECT_EQ(sizeof(BroadcastControl), 256u) << bump;
    EXPECT_EQ(alignof(BroadcastControl), 8u) << bump;
    EXPECT_EQ(offsetof(BroadcastControl, tail), 0u) << bump;
    EXPECT_EQ(offsetof(BroadcastControl, doorbell), 128u) << bump;
}

TEST(RegionHeaderLayout, StudentGeometryIsPinnedForEveryKind) {
    static_assert(sizeof(school::Student) == 32 && alignof(school::Student) == 8);
    using shmrec::detail::SlotGeometry;
    using Cell = shmrec::detail::CellDescriptor;
    using Ring = shmrec::detail::RingDescriptor;
    using Broadcast = shmrec::detail::BroadcastDescriptor;
    // Slot: 8-byte version or seq, payload at 8, 32 bytes of payload, one cache line.
    EXPECT_EQ((SlotGeometry<Cell, school::Student>::payload_offset), 8u) << bump;
    EXPECT_EQ((SlotGeometry<Cell, school::Student>::stride), 64u) << bump;
    EXPECT_EQ((SlotGeometry<Ring, school::Student>::stride), 64u) << bump;
    EXPECT_EQ((SlotGeometry<Broadcast, school::Student>::stride), 64u) << bump;

    const shmrec::RegionSpec cell = shmrec::detail::channel_spec<Cell, school::Student>(2);
    EXPECT_EQ(cell.kind, shmrec::ChannelKind::cell);
    EXPECT_EQ(cell.record_name, "school.Student");
    EXPECT_EQ(cell.record_size, 32u);
    EXPECT_EQ(cell.record_alignment, 8u);
    EXPECT_EQ(cell.capacity, 2u) << bump;
    EXPECT_EQ(cell.slot_stride, 64u) << bump;
    EXPECT_EQ(cell.data_size, 128u + 2 * 64u) << bump;
    EXPECT_EQ((shmrec::detail::channel_spec<Ring, school::Student>(16).data_size), 768u + 16 * 64u)
        << bump;
    EXPECT_EQ((shmrec::detail::channel_spec<Broadcast, school::Student>(16).data_size),
              256u + 16 * 64u)
        << bump;
}

TEST(RegionHeaderLayout, SlotGeometryFollowsRecordSizeAndAlignment) {
    using D = shmrec::detail::SlottedDescriptor;
    // A record whose payload spills into a second cache line, and one aligned to 64.
    EXPECT_EQ(D::slot_stride(57, 8), 128u) << bump;
    EXPECT_EQ(D::slot_stride(56, 8), 64u) << bump;
    EXPECT_EQ(D::payload_offset(64), 64u) << bump;
    EXPECT_EQ(D::slot_stride(8, 64), 128u) << bump;
    EXPECT_EQ(D::slot_stride(1, 1), 64u) << bump;
    EXPECT_EQ(D::max_capacity, std::uint64_t{1} << 31) << bump;
}

}  // namespace
