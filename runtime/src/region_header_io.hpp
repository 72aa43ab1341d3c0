// Internal: laying out, writing and validating a region header. No system calls here; the
// OS side lives in region.cpp.
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

#include "platform/process.hpp"
#include "shmrec/region.hpp"

namespace shmrec::detail {

// Offsets and sizes of a new region for `spec` with the given OS page size.
Geometry plan_geometry(const RegionSpec& spec, std::uint64_t page_size);

// Fills every header field except `state` and copies the schema text and binary schema. The caller publishes
// the header afterwards by storing RegionState::ready with release ordering.
void write_header(std::byte* base, const RegionSpec& spec, const Geometry& geometry,
                  const platform::ProcessIdentity& creator);

// Each field read exactly once from shared memory; validation works on this copy only, so a
// peer changing the header meanwhile cannot make a checked value differ from a used one.
struct HeaderSnapshot {
    std::uint64_t magic;
    std::uint16_t format_major, format_minor;
    std::uint32_t header_size, abi_signature, channel_kind, state, flags;
    std::uint64_t mapped_size, board_offset, board_size, data_offset, data_size;
    std::uint64_t schema_offset, schema_length, capacity, slot_stride, fingerprint;
    std::uint32_t record_size, record_alignment;
    std::int32_t creator_pid;
    std::uint64_t creator_start_time, creation_time_ns;
    char record_name[max_record_name];
    // Format 2.1 (zero when header_size says 2.0).
    std::uint64_t binary_schema_offset, binary_schema_length;
};

HeaderSnapshot take_snapshot(const RegionHeader& header) noexcept;

// Records `writer` as the process holding the writer role (a creator, or a writer taking a
// region over). Nothing on a format 2.0 region, whose header has no room for it.
void record_writer(RegionHeader& header, const platform::ProcessIdentity& writer) noexcept;
WriterInfo read_writer(const RegionHeader& header) noexcept;

// Checks the snapshot in layers: magic, format version, ABI, state, kind, record name, size
// and alignment, fingerprint, then every offset and size against the real mapped size.
// Throws Error with the specific code; returns the validated geometry. With a null
// `expected` (an inspector) the channel kind and record type are not checked. `mapping`
// (the region's bytes, when the caller has them) lets a fingerprint mismatch explain itself
// field by field from the two binary schemas; nothing else is read from it.
Geometry validate_header(const HeaderSnapshot& h, std::uint64_t actual_size,
                         const RegionSpec* expected, const std::string& display_name,
                         std::uint64_t page_size, std::span<const std::byte> mapping = {});

std::string_view kind_name(std::uint32_t kind) noexcept;

}  // namespace shmrec::detail
