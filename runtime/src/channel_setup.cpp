#include "shmrec/detail/channel_setup.hpp"

#include <fmt/format.h>

#include "region_names.hpp"
#include "schema_evolution.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/error.hpp"

namespace shmrec::detail {

namespace {

bool valid_capacity(std::uint64_t c, std::uint64_t min, std::uint64_t max) {
    return c >= min && c <= max && (c & (c - 1)) == 0;
}

}  // namespace

void check_capacity(const Location& where, std::string_view channel, std::uint64_t capacity,
                    std::uint64_t min_capacity, std::uint64_t max_capacity) {
    if (!valid_capacity(capacity, min_capacity, max_capacity)) {
        throw Error(ErrorCode::invalid_argument, where.name,
                    fmt::format("{}: {} capacity {} is not a power of two between {} and {}",
                                display_name(where), channel, capacity, min_capacity, max_capacity));
    }
}

void check_slot_geometry(const Region& region, std::uint64_t control_size,
                         std::uint64_t slot_stride, std::uint64_t min_capacity,
                         std::uint64_t max_capacity) {
    const auto& g = region.geometry();
    const std::string name = display_name(Location(region.backing(), region.name()));
    auto fail = [&](const std::string& what) {
        throw Error(ErrorCode::corrupt_header, region.name(),
                    fmt::format("{} has an impossible header: {}", name, what));
    };
    if (!valid_capacity(g.capacity, min_capacity, max_capacity)) {
        fail(fmt::format("capacity {} is not a power of two between {} and {}", g.capacity,
                         min_capacity, max_capacity));
    }
    if (g.slot_stride != slot_stride) {
        fail(fmt::format("slot stride {}, expected {}", g.slot_stride, slot_stride));
    }
    // capacity <= 2^31 and stride < 2^33 (from a 32-bit record size): no overflow.
    const std::uint64_t expected = control_size + g.capacity * slot_stride;
    if (g.data_size != expected) {
        fail(fmt::format("data area of {} bytes, {} slots of {} bytes need {}", g.data_size,
                         g.capacity, slot_stride, expected));
    }
}

void check_record(const Location& where, const RecordIdentity& record) {
    auto fail = [&](const std::string& what) {
        throw Error(ErrorCode::invalid_argument, where.name,
                    fmt::format("{}: record type '{}' {}", display_name(where), record.name, what));
    };
    if (record.name.empty() || record.name.size() >= max_record_name) {
        fail(fmt::format("has a name of {} bytes (1 to {} allowed)", record.name.size(),
                         max_record_name - 1));
    }
    if (record.size == 0) fail("has a size of 0 bytes");
    if (record.alignment == 0 || record.alignment > cache_line ||
        (record.alignment & (record.alignment - 1)) != 0) {
        fail(fmt::format("has an alignment of {} (a power of two up to {} allowed)",
                         record.alignment, cache_line));
    }
    if (record.size % record.alignment != 0) {
        fail(fmt::format("has a size of {} bytes, not a multiple of its alignment {}",
                         record.size, record.alignment));
    }
}

void check_schema_evolution(const Region& region, const RecordIdentity& record) {
    const std::string shown = display_name(Location(region.backing(), region.name()));
    if (RegionAccess::header(region).fingerprint == record.fingerprint) return;
    const std::vector<std::uint8_t> theirs = region.binary_schema();
    if (theirs.empty()) {
        throw Error(ErrorCode::corrupt_schema, region.name(),
                    fmt::format("{} holds {} records of another schema version and embeds no "
                                "schema to compare with this reader's",
                                shown, record.name));
    }
    const EvolutionResult result = check_table_evolution(theirs, record.binary_schema, record.name);
    if (!result.error.empty()) {
        throw Error(ErrorCode::corrupt_schema, region.name(),
                    fmt::format("{}: cannot compare its schema of {} with this reader's: {}", shown,
                                record.name, result.error));
    }
    if (!result.compatible) {
        throw Error(ErrorCode::incompatible_schema, region.name(),
                    explain_incompatibility(result, shown, record.name));
    }
}

}  // namespace shmrec::detail
