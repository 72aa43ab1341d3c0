// Recordings: the records of a live region kept in a self-describing file, with the time each
// one arrived (`shmrec record` writes them, `shmrec replay` and `shmrec tail --file` read them).
//
// A recording is a fixed header, the source region's name, the record's schema text and binary
// schema, then fixed-size entries appended as records arrive:
//
//   [RecordingHeader: 256 bytes][source][schema text][binary schema][entry][entry]...
//   entry = { u64 timestamp_ns since the start (steady clock), u64 source position,
//             record bytes, zero padded to a multiple of 8 }
//
// Every entry has the same size, so the count is file-size arithmetic, nothing in the header
// has to be rewritten as the file grows, and an interrupted recording (a partial last entry)
// is read up to its last whole entry. Byte by byte: docs/recording-format.md.
//
//   auto out = shmrec::inspect::RecordingWriter::create("students.shmrec", description);
//   out.append(elapsed_ns, position, record_bytes);
//   out.close();                                   // flushes and fsyncs
//
//   auto in = shmrec::inspect::RecordingReader::open("students.shmrec");
//   while (auto entry = in.next()) use(entry->timestamp_ns, entry->record);
#pragma once

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shmrec::inspect {

namespace detail {

// The fixed header at offset 0, in the recorder's byte order. A wire format: see
// docs/recording-format.md, and bump recording_format_major when an older reader would
// misread a change.
struct RecordingHeader {
    std::uint64_t magic;
    std::uint16_t format_major;
    std::uint16_t format_minor;
    std::uint32_t header_size;
    std::uint32_t entry_size;
    std::uint32_t record_size;
    std::uint32_t record_alignment;
    std::uint32_t channel_kind;  // as the region header's: 1 cell, 2 ring, 3 broadcast
    std::uint64_t fingerprint;
    std::uint64_t start_time_ns;  // CLOCK_REALTIME when recording started, ns since the epoch
    std::uint64_t source_offset;
    std::uint64_t source_length;
    std::uint64_t schema_offset;
    std::uint64_t schema_length;
    std::uint64_t binary_schema_offset;
    std::uint64_t binary_schema_length;
    std::uint64_t entries_offset;
    std::uint32_t flags;  // 0
    std::uint32_t reserved0;
    char record_name[112];  // qualified, NUL-terminated and NUL-padded
    std::uint8_t reserved1[32];
};

}  // namespace detail

// "SHMREC" 0x1A 'R': read back byte-swapped it says the file came from a machine of the other
// byte order. The region magic ends in 0x01 instead, so neither is mistaken for the other.
inline constexpr std::uint64_t recording_magic = 0x53484D5245431A52ull;
inline constexpr std::uint16_t recording_format_major = 1;
inline constexpr std::uint16_t recording_format_minor = 0;
inline constexpr std::uint32_t recording_header_size = 256;
inline constexpr std::uint64_t recording_entry_prefix = 16;  // timestamp + position

// Limits a reader enforces on an untrusted file (and a writer on what it is given).
inline constexpr std::uint32_t recording_max_record_size = 16u << 20;
inline constexpr std::uint64_t recording_max_source_length = 4096;
inline constexpr std::uint64_t recording_max_schema_length = 16u << 20;
inline constexpr std::uint64_t recording_max_binary_schema_length = 1u << 20;

// What a recording says about itself.
struct RecordingInfo {
    std::uint16_t format_major = recording_format_major;
    std::uint16_t format_minor = recording_format_minor;
    std::string record_name;  // "school.Student"
    std::uint32_t record_size = 0;
    std::uint32_t record_alignment = 0;
    std::uint64_t fingerprint = 0;
    std::uint32_t channel_kind = 0;  // of the source region: 1 cell, 2 ring, 3 broadcast
    std::string source;              // the source region's name (or path)
    std::uint64_t start_time_ns = 0;  // wall clock, ns since the epoch
    std::string schema;                       // schema text
    std::vector<std::uint8_t> binary_schema;  // .bfbs; may be empty
};

// Bytes one entry takes for a record of `record_size` bytes: 16 + the record padded to 8.
constexpr std::uint64_t recording_entry_size(std::uint32_t record_size) noexcept {
    return recording_entry_prefix + ((std::uint64_t{record_size} + 7) & ~std::uint64_t{7});
}

// True when the file at `path` starts with the recording magic (in either byte order). False
// for anything else, including a file that cannot be read.
bool is_recording(const std::string& path) noexcept;

// Appends entries to a new recording. Move-only; the destructor closes (without throwing).
class RecordingWriter {
public:
    // Writes the header, source, schema text and binary schema. Refuses an existing file
    // (ErrorCode::already_exists) unless `overwrite`; invalid_argument for a record size of 0
    // or beyond the limits, or lengths beyond them.
    static RecordingWriter create(const std::string& path, const RecordingInfo& info,
                                  bool overwrite = false);

    RecordingWriter(RecordingWriter&& other) noexcept;
    RecordingWriter& operator=(RecordingWriter&& other) noexcept;
    RecordingWriter(const RecordingWriter&) = delete;
    RecordingWriter& operator=(const RecordingWriter&) = delete;
    ~RecordingWriter();

    // One entry. `record` must be exactly info().record_size bytes (invalid_argument);
    // buffered: flush() or close() makes it reach the file.
    void append(std::uint64_t timestamp_ns, std::uint64_t position,
                std::span<const std::byte> record);
    void flush();
    // Flushes, fsyncs and closes; system_error (e.g. the disk is full) is reported here.
    void close();

    const RecordingInfo& info() const noexcept { return info_; }
    std::uint64_t entries() const noexcept { return entries_; }
    const std::string& path() const noexcept { return path_; }

private:
    RecordingWriter(std::string path, std::FILE* file, RecordingInfo info) noexcept;
    void check_open() const;

    std::string path_;
    std::FILE* file_ = nullptr;
    RecordingInfo info_;
    std::uint64_t entries_ = 0;
    std::vector<std::byte> entry_;  // one entry's bytes, reused
};

// Reads a recording, treating the whole file as untrusted input: every field, length and
// offset is checked against the limits and the real file size before it is used. Errors are
// shmrec::Error naming the file: not_a_region (not a recording), byte_order_mismatch,
// version_mismatch, truncated (the header or a part it announces lies beyond the end),
// corrupt_header (impossible fields), not_found, permission_denied, system_error.
class RecordingReader {
public:
    struct Entry {
        std::uint64_t timestamp_ns = 0;  // since the recording started (steady clock)
        std::uint64_t position = 0;      // the record's position in its source channel
        std::span<const std::byte> record;  // record_size bytes, valid until the next call
    };

    static RecordingReader open(const std::string& path);

    RecordingReader(RecordingReader&& other) noexcept;
    RecordingReader& operator=(RecordingReader&& other) noexcept;
    RecordingReader(const RecordingReader&) = delete;
    RecordingReader& operator=(const RecordingReader&) = delete;
    ~RecordingReader();

    const RecordingInfo& info() const noexcept { return info_; }
    // Whole entries in the file when it was opened.
    std::uint64_t entries() const noexcept { return entries_; }
    // Bytes after the last whole entry: an interrupted recording's partial entry (0 normally).
    std::uint64_t trailing_bytes() const noexcept { return trailing_bytes_; }
    const std::string& path() const noexcept { return path_; }

    // The next entry in file order, or nothing after the last whole one.
    std::optional<Entry> next();
    // Entry `index` (< entries()); the next next() continues after it.
    Entry at(std::uint64_t index);

private:
    RecordingReader(std::string path, std::FILE* file, RecordingInfo info,
                    std::uint64_t entries_offset, std::uint64_t entries,
                    std::uint64_t trailing_bytes) noexcept;

    std::string path_;
    std::FILE* file_ = nullptr;
    RecordingInfo info_;
    std::uint64_t entries_offset_ = 0;
    std::uint64_t entries_ = 0;
    std::uint64_t trailing_bytes_ = 0;
    std::uint64_t next_index_ = 0;
    std::vector<std::byte> entry_;
};

}  // namespace shmrec::inspect
