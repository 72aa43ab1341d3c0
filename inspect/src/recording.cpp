// Recordings (recording.hpp, docs/recording-format.md): a writer that appends fixed-size
// entries behind a header it never rewrites, and a reader that trusts nothing in the file.
#include "shmrec/inspect/recording.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <bit>
#include <cerrno>
#include <cstring>
#include <stddef.h>
#include <type_traits>
#include <utility>

#include <fmt/format.h>
#include <shmrec/error.hpp>

namespace shmrec::inspect {

using detail::RecordingHeader;

static_assert(std::is_standard_layout_v<RecordingHeader>);
static_assert(std::is_trivially_copyable_v<RecordingHeader>);
// Bump recording_format_major if one of these fails and an older reader would misread it.
static_assert(sizeof(RecordingHeader) == recording_header_size);
static_assert(offsetof(RecordingHeader, magic) == 0);
static_assert(offsetof(RecordingHeader, format_major) == 8);
static_assert(offsetof(RecordingHeader, format_minor) == 10);
static_assert(offsetof(RecordingHeader, header_size) == 12);
static_assert(offsetof(RecordingHeader, entry_size) == 16);
static_assert(offsetof(RecordingHeader, record_size) == 20);
static_assert(offsetof(RecordingHeader, record_alignment) == 24);
static_assert(offsetof(RecordingHeader, channel_kind) == 28);
static_assert(offsetof(RecordingHeader, fingerprint) == 32);
static_assert(offsetof(RecordingHeader, start_time_ns) == 40);
static_assert(offsetof(RecordingHeader, source_offset) == 48);
static_assert(offsetof(RecordingHeader, source_length) == 56);
static_assert(offsetof(RecordingHeader, schema_offset) == 64);
static_assert(offsetof(RecordingHeader, schema_length) == 72);
static_assert(offsetof(RecordingHeader, binary_schema_offset) == 80);
static_assert(offsetof(RecordingHeader, binary_schema_length) == 88);
static_assert(offsetof(RecordingHeader, entries_offset) == 96);
static_assert(offsetof(RecordingHeader, flags) == 104);
static_assert(offsetof(RecordingHeader, reserved0) == 108);
static_assert(offsetof(RecordingHeader, record_name) == 112);
static_assert(offsetof(RecordingHeader, reserved1) == 224);

namespace {

constexpr std::uint64_t align8(std::uint64_t n) noexcept { return (n + 7) & ~std::uint64_t{7}; }

[[noreturn]] void fail(ErrorCode code, const std::string& path, std::string_view what) {
    throw Error(code, path, fmt::format("recording '{}': {}", path, what));
}

[[noreturn]] void fail_errno(const std::string& path, std::string_view doing, int err) {
    const ErrorCode code = err == ENOENT                    ? ErrorCode::not_found
                           : err == EACCES || err == EPERM  ? ErrorCode::permission_denied
                           : err == EEXIST                  ? ErrorCode::already_exists
                           : err == ENOSPC || err == EDQUOT ? ErrorCode::no_space
                                                            : ErrorCode::system_error;
    fail(code, path, fmt::format("{}: {}", doing, std::strerror(err)));
}

bool valid_kind(std::uint32_t kind) noexcept { return kind >= 1 && kind <= 3; }

// Reads exactly n bytes at `offset`; false at the end of the file.
bool read_at(int fd, std::uint64_t offset, void* out, std::size_t n) {
    auto* p = static_cast<char*>(out);
    while (n > 0) {
        const ssize_t got = ::pread(fd, p, n, static_cast<off_t>(offset));
        if (got < 0) {
            if (errno == EINTR) continue;
            return false;
        }
        if (got == 0) return false;
        p += got;
        n -= static_cast<std::size_t>(got);
        offset += static_cast<std::uint64_t>(got);
    }
    return true;
}

void write_all(std::FILE* file, const std::string& path, const void* data, std::size_t n) {
    if (n != 0 && std::fwrite(data, 1, n, file) != n) fail_errno(path, "write", errno);
}

void check_info(const RecordingInfo& info, const std::string& path) {
    if (info.record_size == 0 || info.record_size > recording_max_record_size) {
        fail(ErrorCode::invalid_argument, path,
             fmt::format("record size {} (1 to {} bytes)", info.record_size,
                         recording_max_record_size));
    }
    if (info.record_name.empty() || info.record_name.size() >= sizeof(RecordingHeader::record_name)) {
        fail(ErrorCode::invalid_argument, path,
             fmt::format("record name '{}' (1 to {} characters)", info.record_name,
                         sizeof(RecordingHeader::record_name) - 1));
    }
    if (info.record_name.find('\0') != std::string::npos) {
        fail(ErrorCode::invalid_argument, path, "record name contains a NUL");
    }
    if (!valid_kind(info.channel_kind)) {
        fail(ErrorCode::invalid_argument, path, fmt::format("channel kind {}", info.channel_kind));
    }
    if (info.source.size() > recording_max_source_length ||
        info.schema.size() > recording_max_schema_length ||
        info.binary_schema.size() > recording_max_binary_schema_length) {
        fail(ErrorCode::invalid_argument, path, "source name, schema or binary schema too long");
    }
}

}  // namespace

bool is_recording(const std::string& path) noexcept {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) return false;
    std::uint64_t magic = 0;
    const bool got = read_at(fd, 0, &magic, sizeof magic);
    ::close(fd);
    return got && (magic == recording_magic || magic == __builtin_bswap64(recording_magic));
}

// ---------------------------------------------------------------------------------------------
// RecordingWriter

RecordingWriter::RecordingWriter(std::string path, std::FILE* file, RecordingInfo info) noexcept
    : path_(std::move(path)), file_(file), info_(std::move(info)) {}

RecordingWriter::RecordingWriter(RecordingWriter&& other) noexcept
    : path_(std::move(other.path_)),
      file_(std::exchange(other.file_, nullptr)),
      info_(std::move(other.info_)),
      entries_(other.entries_),
      entry_(std::move(other.entry_)) {}

RecordingWriter& RecordingWriter::operator=(RecordingWriter&& other) noexcept {
    if (this != &other) {
        if (file_ != nullptr) std::fclose(file_);
        path_ = std::move(other.path_);
        file_ = std::exchange(other.file_, nullptr);
        info_ = std::move(other.info_);
        entries_ = other.entries_;
        entry_ = std::move(other.entry_);
    }
    return *this;
}

RecordingWriter::~RecordingWriter() {
    if (file_ != nullptr) {
        std::fflush(file_);
        ::fsync(::fileno(file_));
        std::fclose(file_);
    }
}

RecordingWriter RecordingWriter::create(const std::string& path, const RecordingInfo& info,
                                        bool overwrite) {
    check_info(info, path);

    RecordingHeader header{};
    header.magic = recording_magic;
    header.format_major = recording_format_major;
    header.format_minor = recording_format_minor;
    header.header_size = recording_header_size;
    header.entry_size = static_cast<std::uint32_t>(recording_entry_size(info.record_size));
    header.record_size = info.record_size;
    header.record_alignment = info.record_alignment;
    header.channel_kind = info.channel_kind;
    header.fingerprint = info.fingerprint;
    header.start_time_ns = info.start_time_ns;
    header.source_offset = recording_header_size;
    header.source_length = info.source.size();
    header.schema_offset = align8(header.source_offset + header.source_length);
    header.schema_length = info.schema.size();
    header.binary_schema_offset = align8(header.schema_offset + header.schema_length);
    header.binary_schema_length = info.binary_schema.size();
    header.entries_offset = align8(header.binary_schema_offset + header.binary_schema_length);
    std::memcpy(header.record_name, info.record_name.data(), info.record_name.size());

    const int flags = O_WRONLY | O_CREAT | O_CLOEXEC | O_NOCTTY | (overwrite ? O_TRUNC : O_EXCL);
    const int fd = ::open(path.c_str(), flags, 0644);
    if (fd < 0) fail_errno(path, "cannot create", errno);
    std::FILE* file = ::fdopen(fd, "wb");
    if (file == nullptr) {
        const int err = errno;
        ::close(fd);
        fail_errno(path, "fdopen", err);
    }
    RecordingWriter writer(path, file, info);
    writer.entry_.resize(static_cast<std::size_t>(header.entry_size));

    // Header, then each part at its offset, zero padding between them.
    static constexpr char zeros[8] = {};
    std::uint64_t at = 0;
    auto put = [&](std::uint64_t offset, const void* data, std::size_t n) {
        write_all(file, path, zeros, static_cast<std::size_t>(offset - at));
        write_all(file, path, data, n);
        at = offset + n;
    };
    put(0, &header, sizeof header);
    put(header.source_offset, info.source.data(), info.source.size());
    put(header.schema_offset, info.schema.data(), info.schema.size());
    put(header.binary_schema_offset, info.binary_schema.data(), info.binary_schema.size());
    put(header.entries_offset, nullptr, 0);
    return writer;
}

void RecordingWriter::check_open() const {
    if (file_ == nullptr) {
        throw Error(ErrorCode::invalid_argument, path_,
                    fmt::format("recording '{}': already closed (or moved from)", path_));
    }
}

void RecordingWriter::append(std::uint64_t timestamp_ns, std::uint64_t position,
                             std::span<const std::byte> record) {
    check_open();
    if (record.size() != info_.record_size) {
        fail(ErrorCode::invalid_argument, path_,
             fmt::format("a record of {} bytes appended to a recording of {}-byte records",
                         record.size(), info_.record_size));
    }
    std::memcpy(entry_.data(), &timestamp_ns, 8);
    std::memcpy(entry_.data() + 8, &position, 8);
    std::memcpy(entry_.data() + recording_entry_prefix, record.data(), record.size());
    // The padding after the record stays zero: entry_ was zero-filled and only this range moves.
    write_all(file_, path_, entry_.data(), entry_.size());
    ++entries_;
}

void RecordingWriter::flush() {
    check_open();
    if (std::fflush(file_) != 0) fail_errno(path_, "write", errno);
}

void RecordingWriter::close() {
    if (file_ == nullptr) return;
    std::FILE* file = std::exchange(file_, nullptr);
    int err = 0;
    if (std::fflush(file) != 0) err = errno;
    if (err == 0 && ::fsync(::fileno(file)) != 0) err = errno;
    if (std::fclose(file) != 0 && err == 0) err = errno;
    if (err != 0) fail_errno(path_, "close", err);
}

// ---------------------------------------------------------------------------------------------
// RecordingReader

RecordingReader::RecordingReader(std::string path, std::FILE* file, RecordingInfo info,
                                 std::uint64_t entries_offset, std::uint64_t entries,
                                 std::uint64_t trailing_bytes) noexcept
    : path_(std::move(path)),
      file_(file),
      info_(std::move(info)),
      entries_offset_(entries_offset),
      entries_(entries),
      trailing_bytes_(trailing_bytes) {}

RecordingReader::RecordingReader(RecordingReader&& other) noexcept
    : path_(std::move(other.path_)),
      file_(std::exchange(other.file_, nullptr)),
      info_(std::move(other.info_)),
      entries_offset_(other.entries_offset_),
      entries_(other.entries_),
      trailing_bytes_(other.trailing_bytes_),
      next_index_(other.next_index_),
      entry_(std::move(other.entry_)) {}

RecordingReader& RecordingReader::operator=(RecordingReader&& other) noexcept {
    if (this != &other) {
        if (file_ != nullptr) std::fclose(file_);
        path_ = std::move(other.path_);
        file_ = std::exchange(other.file_, nullptr);
        info_ = std::move(other.info_);
        entries_offset_ = other.entries_offset_;
        entries_ = other.entries_;
        trailing_bytes_ = other.trailing_bytes_;
        next_index_ = other.next_index_;
        entry_ = std::move(other.entry_);
    }
    return *this;
}

RecordingReader::~RecordingReader() {
    if (file_ != nullptr) std::fclose(file_);
}

RecordingReader RecordingReader::open(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) fail_errno(path, "cannot open", errno);
    // From here on the descriptor belongs to `file` (closed by the reader or on a throw).
    std::FILE* file = ::fdopen(fd, "rb");
    if (file == nullptr) {
        const int err = errno;
        ::close(fd);
        fail_errno(path, "fdopen", err);
    }
    struct Closer {
        std::FILE* file;
        ~Closer() {
            if (file != nullptr) std::fclose(file);
        }
    } closer{file};

    struct stat st {};
    if (::fstat(fd, &st) != 0) fail_errno(path, "stat", errno);
    if (!S_ISREG(st.st_mode)) fail(ErrorCode::not_a_region, path, "not a regular file");
    const auto size = static_cast<std::uint64_t>(st.st_size);

    // Layer 1: the magic, in this machine's byte order.
    RecordingHeader header{};
    const std::size_t have = static_cast<std::size_t>(std::min<std::uint64_t>(size, sizeof header));
    if (!read_at(fd, 0, &header, have)) fail_errno(path, "read", errno != 0 ? errno : EIO);
    if (size == 0) fail(ErrorCode::not_a_region, path, "not a recording (an empty file)");
    if (size < sizeof header.magic) {
        const auto magic = recording_magic;
        if (std::memcmp(&header.magic, &magic, have) == 0) {
            fail(ErrorCode::truncated, path,
                 fmt::format("truncated: {} bytes, not even the whole magic", size));
        }
        fail(ErrorCode::not_a_region, path, fmt::format("not a recording ({} bytes)", size));
    }
    if (header.magic == __builtin_bswap64(recording_magic)) {
        fail(ErrorCode::byte_order_mismatch, path,
             "recorded on a machine of the other byte order (records are stored in the "
             "recorder's byte order); replay it on a machine like the recorder's");
    }
    if (header.magic != recording_magic) {
        fail(ErrorCode::not_a_region, path,
             header.magic == 0x53484D5245431A01ull
                 ? "a shmrec region file, not a recording (use it as a region: --file is "
                   "accepted by info and tail)"
                 : "not a recording (the first 8 bytes are not the recording magic)");
    }

    // Layer 2: version and header size.
    if (size < 16) {
        fail(ErrorCode::truncated, path, fmt::format("truncated: {} bytes, header cut short", size));
    }
    if (header.format_major != recording_format_major) {
        fail(ErrorCode::version_mismatch, path,
             fmt::format("recording format {}.{}; this build reads format {}.x",
                         header.format_major, header.format_minor, recording_format_major));
    }
    if (header.header_size < recording_header_size || header.header_size > 65536 ||
        header.header_size % 8 != 0) {
        fail(ErrorCode::corrupt_header, path,
             fmt::format("header size {} (at least {}, a multiple of 8, at most 65536)",
                         header.header_size, recording_header_size));
    }
    if (size < header.header_size) {
        fail(ErrorCode::truncated, path,
             fmt::format("truncated: {} bytes, shorter than its {}-byte header", size,
                         header.header_size));
    }

    // Layer 3: the record type.
    if (header.record_size == 0 || header.record_size > recording_max_record_size) {
        fail(ErrorCode::corrupt_header, path,
             fmt::format("record size {} (1 to {} bytes)", header.record_size,
                         recording_max_record_size));
    }
    if (header.record_alignment == 0 || header.record_alignment > 64 ||
        !std::has_single_bit(header.record_alignment) ||
        header.record_size % header.record_alignment != 0) {
        fail(ErrorCode::corrupt_header, path,
             fmt::format("record alignment {} for a {}-byte record (a power of two up to 64 "
                         "dividing the size)",
                         header.record_alignment, header.record_size));
    }
    if (header.entry_size != recording_entry_size(header.record_size)) {
        fail(ErrorCode::corrupt_header, path,
             fmt::format("entry size {}, but {}-byte records make {}-byte entries",
                         header.entry_size, header.record_size,
                         recording_entry_size(header.record_size)));
    }
    if (!valid_kind(header.channel_kind)) {
        fail(ErrorCode::corrupt_header, path,
             fmt::format("channel kind {} (1 cell, 2 ring, 3 broadcast)", header.channel_kind));
    }
    const auto name_end = std::find(std::begin(header.record_name), std::end(header.record_name), '\0');
    if (name_end == std::end(header.record_name) || name_end == std::begin(header.record_name)) {
        fail(ErrorCode::corrupt_header, path, "record name empty or not NUL-terminated");
    }

    // Layer 4: the variable parts, in order, each 8-aligned, each within the file.
    struct Part {
        const char* name;
        std::uint64_t offset;
        std::uint64_t length;
        std::uint64_t limit;
    };
    const Part parts[] = {
        {"source name", header.source_offset, header.source_length, recording_max_source_length},
        {"schema text", header.schema_offset, header.schema_length, recording_max_schema_length},
        {"binary schema", header.binary_schema_offset, header.binary_schema_length,
         recording_max_binary_schema_length},
    };
    std::uint64_t end = header.header_size;
    for (const Part& part : parts) {
        if (part.length > part.limit) {
            fail(ErrorCode::corrupt_header, path,
                 fmt::format("{} of {} bytes (at most {})", part.name, part.length, part.limit));
        }
        if (part.offset % 8 != 0 || part.offset < end) {
            fail(ErrorCode::corrupt_header, path,
                 fmt::format("{} at offset {} (8-aligned, at or after {})", part.name,
                             part.offset, end));
        }
        if (part.offset > size || part.length > size - part.offset) {
            fail(ErrorCode::truncated, path,
                 fmt::format("truncated: the {} ({} bytes at offset {}) lies beyond the end "
                             "of the {}-byte file",
                             part.name, part.length, part.offset, size));
        }
        end = part.offset + part.length;
    }
    if (header.entries_offset % 8 != 0 || header.entries_offset < end) {
        fail(ErrorCode::corrupt_header, path,
             fmt::format("entries at offset {} (8-aligned, at or after {})",
                         header.entries_offset, end));
    }
    if (header.entries_offset > size) {
        fail(ErrorCode::truncated, path,
             fmt::format("truncated: entries start at offset {}, beyond the end of the {}-byte "
                         "file",
                         header.entries_offset, size));
    }

    RecordingInfo info;
    info.format_major = header.format_major;
    info.format_minor = header.format_minor;
    info.record_name.assign(std::begin(header.record_name), name_end);
    info.record_size = header.record_size;
    info.record_alignment = header.record_alignment;
    info.fingerprint = header.fingerprint;
    info.channel_kind = header.channel_kind;
    info.start_time_ns = header.start_time_ns;
    auto read_part = [&](const Part& part, auto& out) {
        out.resize(static_cast<std::size_t>(part.length));
        if (part.length != 0 && !read_at(fd, part.offset, out.data(), out.size())) {
            fail(ErrorCode::truncated, path, fmt::format("truncated while reading the {}", part.name));
        }
    };
    read_part(parts[0], info.source);
    read_part(parts[1], info.schema);
    read_part(parts[2], info.binary_schema);

    const std::uint64_t body = size - header.entries_offset;
    RecordingReader reader(path, std::exchange(closer.file, nullptr), std::move(info),
                           header.entries_offset, body / header.entry_size,
                           body % header.entry_size);
    reader.entry_.resize(static_cast<std::size_t>(header.entry_size));
    return reader;
}

std::optional<RecordingReader::Entry> RecordingReader::next() {
    if (next_index_ >= entries_) return std::nullopt;
    return at(next_index_);
}

RecordingReader::Entry RecordingReader::at(std::uint64_t index) {
    if (file_ == nullptr || index >= entries_) {
        throw Error(ErrorCode::invalid_argument, path_,
                    fmt::format("recording '{}': no entry {} (it has {})", path_, index, entries_));
    }
    const std::uint64_t offset = entries_offset_ + index * entry_.size();
    if (!read_at(::fileno(file_), offset, entry_.data(), entry_.size())) {
        fail(ErrorCode::truncated, path_,
             fmt::format("entry {} could not be read: the file shrank while it was read", index));
    }
    next_index_ = index + 1;
    Entry entry;
    std::memcpy(&entry.timestamp_ns, entry_.data(), 8);
    std::memcpy(&entry.position, entry_.data() + 8, 8);
    entry.record = std::span<const std::byte>(entry_).subspan(recording_entry_prefix,
                                                              info_.record_size);
    return entry;
}

}  // namespace shmrec::inspect
