#include <fmt/format.h>
#include <fmt/ranges.h>

#include <cstring>

#include "region_header_io.hpp"
#include "schema_evolution.hpp"
#include "shmrec/error.hpp"

namespace shmrec::detail {

namespace {

constexpr std::uint64_t round_up(std::uint64_t v, std::uint64_t unit) {
    return (v + unit - 1) / unit * unit;
}

// a + b without wrapping; false when the sum does not fit.
bool checked_add(std::uint64_t a, std::uint64_t b, std::uint64_t& sum) {
    sum = a + b;  // unsigned: wraps, never undefined
    return sum >= a;
}

constexpr std::uint64_t byte_swapped(std::uint64_t v) {
    std::uint64_t out = 0;
    for (int i = 0; i < 8; ++i, v >>= 8) out = (out << 8) | (v & 0xff);
    return out;
}

[[noreturn]] void fail(ErrorCode code, const std::string& region, const std::string& message) {
    throw Error(code, region, message);
}

// ": field 'b' (offset 8) is float there, this program expects int; ..." for a fingerprint
// mismatch, from the region's embedded binary schema and ours; "" when either is missing or
// unreadable. Runs before the geometry checks (a mismatch is reported first), so the binary
// schema's place is checked here on its own, against the header's limit and the mapping.
std::string layout_differences(const HeaderSnapshot& h, std::uint64_t actual_size,
                               std::span<const std::byte> mapping, const RegionSpec& expected,
                               std::string_view record_name) {
    std::uint64_t end = 0;
    if (expected.binary_schema.empty() || h.binary_schema_length == 0 ||
        h.binary_schema_length > max_binary_schema || h.binary_schema_offset % 8 != 0 ||
        !checked_add(h.binary_schema_offset, h.binary_schema_length, end) || end > actual_size ||
        end > mapping.size()) {
        return {};
    }
    // describe_struct_mismatch copies the bytes before it reads them.
    const auto region_schema = std::span<const std::uint8_t>(
        reinterpret_cast<const std::uint8_t*>(mapping.data() + h.binary_schema_offset),
        static_cast<std::size_t>(h.binary_schema_length));
    const auto lines = describe_struct_mismatch(region_schema, expected.binary_schema, record_name);
    if (lines.empty()) return {};
    return fmt::format(": {}", fmt::join(lines, "; "));
}

}  // namespace

std::string_view kind_name(std::uint32_t kind) noexcept {
    switch (static_cast<ChannelKind>(kind)) {
        case ChannelKind::cell: return "cell";
        case ChannelKind::ring: return "ring";
        case ChannelKind::broadcast: return "broadcast ring";
        case ChannelKind::byte_ring: return "byte ring";
        case ChannelKind::byte_broadcast: return "byte broadcast";
    }
    return "unknown channel kind";
}

Geometry plan_geometry(const RegionSpec& spec, std::uint64_t page_size) {
    Geometry g;
    g.board_offset = round_up(sizeof(RegionHeader), page_size);
    g.board_size = round_up(board_bytes_with_cursors, page_size);
    g.data_offset = g.board_offset + g.board_size;
    g.data_size = spec.data_size;
    g.schema_offset = round_up(g.data_offset + g.data_size, cache_line);
    g.schema_length = spec.schema.size();
    // 8-aligned, so a reader may hand the bytes to FlatBuffers' verifier in place.
    g.binary_schema_offset = round_up(g.schema_offset + g.schema_length, 8);
    g.binary_schema_length = spec.binary_schema.size();
    g.mapped_size = round_up(g.binary_schema_offset + g.binary_schema_length, page_size);
    g.capacity = spec.capacity;
    g.slot_stride = spec.slot_stride;
    return g;
}

void write_header(std::byte* base, const RegionSpec& spec, const Geometry& g,
                  const platform::ProcessIdentity& creator) {
    auto* h = reinterpret_cast<RegionHeader*>(base);
    h->magic = region_magic;
    h->format_major = format_major;
    h->format_minor = format_minor;
    h->header_size = sizeof(RegionHeader);
    h->abi_signature = abi_signature();
    h->channel_kind = static_cast<std::uint32_t>(spec.kind);
    h->flags = 0;
    h->mapped_size = g.mapped_size;
    h->board_offset = g.board_offset;
    h->board_size = g.board_size;
    h->data_offset = g.data_offset;
    h->data_size = g.data_size;
    h->schema_offset = g.schema_offset;
    h->schema_length = g.schema_length;
    h->capacity = g.capacity;
    h->slot_stride = g.slot_stride;
    h->fingerprint = spec.fingerprint;
    h->record_size = spec.record_size;
    h->record_alignment = spec.record_alignment;
    h->creator_pid = creator.pid;
    h->reserved0 = 0;
    h->creator_start_time = creator.start_time;
    h->creation_time_ns = platform::wall_clock_ns();
    std::memset(h->record_name, 0, sizeof h->record_name);
    std::memcpy(h->record_name, spec.record_name.data(),
                std::min(spec.record_name.size(), sizeof h->record_name - 1));
    // (A message type may have no schema text: memcpy from a null pointer is undefined.)
    if (!spec.schema.empty()) std::memcpy(base + g.schema_offset, spec.schema.data(), spec.schema.size());
    h->binary_schema_offset = g.binary_schema_offset;
    h->binary_schema_length = g.binary_schema_length;
    if (!spec.binary_schema.empty()) {
        std::memcpy(base + g.binary_schema_offset, spec.binary_schema.data(),
                    spec.binary_schema.size());
    }
    h->writer_generation.store(0, std::memory_order_relaxed);
    record_writer(*h, creator);
}

void record_writer(RegionHeader& h, const platform::ProcessIdentity& writer) noexcept {
    if (h.header_size < header_size_2_1) return;
    // Relaxed: display only (WriterInfo); a reader may see a mix of two writers' fields.
    h.writer_pid.store(writer.pid, std::memory_order_relaxed);
    h.writer_start_time.store(writer.start_time, std::memory_order_relaxed);
    h.writer_since_ns.store(platform::wall_clock_ns(), std::memory_order_relaxed);
    h.writer_generation.fetch_add(1, std::memory_order_relaxed);
}

WriterInfo read_writer(const RegionHeader& h) noexcept {
    if (h.header_size < header_size_2_1) return {};
    return {h.writer_pid.load(std::memory_order_relaxed),
            h.writer_start_time.load(std::memory_order_relaxed),
            h.writer_since_ns.load(std::memory_order_relaxed),
            h.writer_generation.load(std::memory_order_relaxed)};
}

HeaderSnapshot take_snapshot(const RegionHeader& h) noexcept {
    HeaderSnapshot s{};
    s.magic = h.magic;
    s.format_major = h.format_major;
    s.format_minor = h.format_minor;
    s.header_size = h.header_size;
    s.abi_signature = h.abi_signature;
    s.channel_kind = h.channel_kind;
    // Acquire pairs with the creator's release store of `ready`: every field above was
    // written before it. (The fields are read again here after the opener saw `ready`.)
    s.state = h.state.load(std::memory_order_acquire);
    s.flags = h.flags;
    s.mapped_size = h.mapped_size;
    s.board_offset = h.board_offset;
    s.board_size = h.board_size;
    s.data_offset = h.data_offset;
    s.data_size = h.data_size;
    s.schema_offset = h.schema_offset;
    s.schema_length = h.schema_length;
    s.capacity = h.capacity;
    s.slot_stride = h.slot_stride;
    s.fingerprint = h.fingerprint;
    s.record_size = h.record_size;
    s.record_alignment = h.record_alignment;
    s.creator_pid = h.creator_pid;
    s.creator_start_time = h.creator_start_time;
    s.creation_time_ns = h.creation_time_ns;
    std::memcpy(s.record_name, h.record_name, sizeof s.record_name);
    if (s.header_size >= header_size_2_1) {
        s.binary_schema_offset = h.binary_schema_offset;
        s.binary_schema_length = h.binary_schema_length;
    }
    return s;
}

Geometry validate_header(const HeaderSnapshot& h, std::uint64_t actual_size,
                         const RegionSpec* expected_or_null, const std::string& region,
                         std::uint64_t page_size, std::span<const std::byte> mapping) {
    // An inspector expects no particular channel or record: it checks format and geometry.
    const RegionSpec any{};
    const bool check_record = expected_or_null != nullptr;
    const RegionSpec& expected = check_record ? *expected_or_null : any;
    // 1. Is this a shmrec region at all, and of our byte order?
    if (h.magic != region_magic) {
        if (h.magic == byte_swapped(region_magic)) {
            fail(ErrorCode::byte_order_mismatch, region,
                 fmt::format("{} was written by a machine of the other byte order", region));
        }
        fail(ErrorCode::not_a_region, region,
             fmt::format("{} is not a shmrec region (magic 0x{:016x}, expected 0x{:016x})",
                         region, h.magic, region_magic));
    }
    // 2. Format and ABI.
    if (h.format_major != format_major) {
        fail(ErrorCode::version_mismatch, region,
             fmt::format("{} has format version {}.{}, this build of shmrec reads {}.x; "
                         "rebuild the older side",
                         region, h.format_major, h.format_minor, format_major));
    }
    if (h.abi_signature != abi_signature()) {
        fail(ErrorCode::abi_mismatch, region,
             fmt::format("{} was created by a build with ABI signature 0x{:08x}, this build has "
                         "0x{:08x} (cache line, pointer width, atomics or OS differ; bit 15 is Windows)",
                         region, h.abi_signature, abi_signature()));
    }
    if (h.header_size < header_size_2_0) {
        fail(ErrorCode::corrupt_header, region,
             fmt::format("{} declares a {}-byte header, smaller than the {} bytes of format {}.0",
                         region, h.header_size, header_size_2_0, format_major));
    }
    // 3. State.
    if (h.state != static_cast<std::uint32_t>(RegionState::ready) &&
        h.state != static_cast<std::uint32_t>(RegionState::closed)) {
        fail(ErrorCode::corrupt_header, region,
             fmt::format("{} has an unknown state word {}", region, h.state));
    }
    // 4. Channel kind and record type.
    if (check_record && h.channel_kind != static_cast<std::uint32_t>(expected.kind)) {
        fail(ErrorCode::wrong_kind, region,
             fmt::format("{} is a {}, opened as a {}", region, kind_name(h.channel_kind),
                         kind_name(static_cast<std::uint32_t>(expected.kind))));
    }
    const void* nul = std::memchr(h.record_name, 0, sizeof h.record_name);
    if (nul == nullptr) {
        fail(ErrorCode::corrupt_header, region,
             fmt::format("{} has an unterminated record type name", region));
    }
    const std::string_view name(h.record_name);
    if (check_record && name != expected.record_name) {
        fail(ErrorCode::type_mismatch, region,
             fmt::format("{} holds {} records, this program was built for {}", region, name,
                         expected.record_name));
    }
    if (check_record && (h.record_size != expected.record_size ||
                         h.record_alignment != expected.record_alignment)) {
        fail(ErrorCode::layout_mismatch, region,
             fmt::format("{} holds {} of {} bytes aligned to {}, this program was built for {} "
                         "bytes aligned to {}",
                         region, name, h.record_size, h.record_alignment, expected.record_size,
                         expected.record_alignment));
    }
    // Any opener (an inspector too, which then copies records of this size) needs a record
    // that some slot can hold: typed openers compared both fields exactly above.
    if (h.record_size == 0 || h.record_alignment == 0 || h.record_alignment > cache_line ||
        (h.record_alignment & (h.record_alignment - 1)) != 0 ||
        h.record_size % h.record_alignment != 0 || h.record_size > h.slot_stride) {
        fail(ErrorCode::corrupt_header, region,
             fmt::format("{} has an impossible record: {} bytes aligned to {} in slots of {} "
                         "bytes",
                         region, h.record_size, h.record_alignment, h.slot_stride));
    }
    // Table records evolve: their opener compares the embedded schemas by FlatBuffers' rules
    // once the region is open (detail/table_setup), not the fingerprints.
    if (check_record && !expected.schema_evolution && h.fingerprint != expected.fingerprint) {
        fail(ErrorCode::fingerprint_mismatch, region,
             fmt::format("{} holds {} with layout fingerprint 0x{:016x}, this program was built "
                         "for 0x{:016x} (the schema changed; rebuild both sides from one schema){}",
                         region, name, h.fingerprint, expected.fingerprint,
                         layout_differences(h, actual_size, mapping, expected, name)));
    }
    // 5. Geometry against the real mapping, with overflow-checked arithmetic. Nothing is
    // followed before this passes.
    if (h.mapped_size != actual_size) {
        if (h.mapped_size > actual_size) {
            fail(ErrorCode::truncated, region,
                 fmt::format("{} is truncated: {} bytes, but its header says {}", region,
                             actual_size, h.mapped_size));
        }
        fail(ErrorCode::corrupt_header, region,
             fmt::format("{} is {} bytes, but its header says {}", region, actual_size,
                         h.mapped_size));
    }
    auto corrupt = [&](std::string_view what) {
        fail(ErrorCode::corrupt_header, region,
             fmt::format("{} has an impossible header: {}", region, what));
    };
    std::uint64_t board_end = 0, data_end = 0, schema_end = 0;
    if (h.board_offset % page_size != 0 || h.board_offset < h.header_size) {
        corrupt(fmt::format("reader board at offset {}", h.board_offset));
    }
    if (h.board_size < sizeof(ReaderBoard) || h.board_size % page_size != 0 ||
        !checked_add(h.board_offset, h.board_size, board_end) || board_end > h.data_offset) {
        corrupt(fmt::format("reader board of {} bytes at offset {} (data at {})", h.board_size,
                            h.board_offset, h.data_offset));
    }
    if (h.data_offset % cache_line != 0 || !checked_add(h.data_offset, h.data_size, data_end) ||
        data_end > h.schema_offset) {
        corrupt(fmt::format("data area of {} bytes at offset {} (schema at {})", h.data_size,
                            h.data_offset, h.schema_offset));
    }
    if (!checked_add(h.schema_offset, h.schema_length, schema_end) || schema_end > actual_size) {
        corrupt(fmt::format("schema of {} bytes at offset {} in {} bytes", h.schema_length,
                            h.schema_offset, actual_size));
    }
    std::uint64_t binary_schema_end = 0;
    if (h.binary_schema_length != 0 &&
        (h.binary_schema_offset % 8 != 0 || h.binary_schema_offset < schema_end ||
         h.binary_schema_length > max_binary_schema ||
         !checked_add(h.binary_schema_offset, h.binary_schema_length, binary_schema_end) ||
         binary_schema_end > actual_size)) {
        corrupt(fmt::format("binary schema of {} bytes at offset {} (schema text ends at {}, "
                            "region of {} bytes, at most {} bytes)",
                            h.binary_schema_length, h.binary_schema_offset, schema_end,
                            actual_size, max_binary_schema));
    }
    if (expected.capacity != 0 && h.capacity != expected.capacity) {
        corrupt(fmt::format("capacity {}, expected {}", h.capacity, expected.capacity));
    }
    if (expected.slot_stride != 0 && h.slot_stride != expected.slot_stride) {
        corrupt(fmt::format("slot stride {}, expected {}", h.slot_stride, expected.slot_stride));
    }
    if (expected.data_size != 0 && h.data_size != expected.data_size) {
        corrupt(fmt::format("data area of {} bytes, expected {}", h.data_size, expected.data_size));
    }
    Geometry g;
    g.mapped_size = h.mapped_size;
    g.board_offset = h.board_offset;
    g.board_size = h.board_size;
    g.data_offset = h.data_offset;
    g.data_size = h.data_size;
    g.schema_offset = h.schema_offset;
    g.schema_length = h.schema_length;
    if (h.binary_schema_length != 0) {
        g.binary_schema_offset = h.binary_schema_offset;
        g.binary_schema_length = h.binary_schema_length;
    }
    g.capacity = h.capacity;
    g.slot_stride = h.slot_stride;
    return g;
}

}  // namespace shmrec::detail
