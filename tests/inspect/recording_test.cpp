// Recordings (inspect/include/shmrec/inspect/recording.hpp): round trip, interrupted files,
// and files that are not what they claim. The reader treats every byte as untrusted.
#include <gtest/gtest.h>

#include <bit>
#include <cstddef>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>
#include <vector>

#include <shmrec/error.hpp>
#include <shmrec/inspect/recording.hpp>
#include <shmrec/inspect/record_schema.hpp>
#include <shmrec/record_traits.hpp>

#include "student.shmrec.hpp"
#include "test_names.hpp"

namespace {

using shmrec::ErrorCode;
using shmrec::inspect::RecordingInfo;
using shmrec::inspect::RecordingReader;
using shmrec::inspect::RecordingWriter;
using Traits = shmrec::RecordTraits<school::Student>;

RecordingInfo student_info() {
    RecordingInfo info;
    info.record_name = std::string(Traits::name);
    info.record_size = static_cast<std::uint32_t>(Traits::size);
    info.record_alignment = static_cast<std::uint32_t>(Traits::alignment);
    info.fingerprint = Traits::fingerprint;
    info.channel_kind = 3;
    info.source = "Students";
    info.start_time_ns = 1'790'000'000'000'000'000ull;
    info.schema = std::string(Traits::schema);
    info.binary_schema.assign(Traits::binary_schema.begin(), Traits::binary_schema.end());
    return info;
}

school::Student student(std::int64_t id) {
    school::Student s{};
    s.id = id;
    s.name = "SecBug";
    return s;
}

std::vector<char> read_bytes(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const char* data, std::size_t n) {
    std::ofstream out(path, std::ios::binary | std::ios::trunc);
    out.write(data, static_cast<std::streamsize>(n));
}

// Writes `count` students, ids 100.., timestamps 1000 * i, positions 7 + i.
std::string make_recording(const shmrec_test::TempDir& dir, std::size_t count,
                           std::string_view leaf = "r.shmrec") {
    const std::string path = dir.file(leaf);
    auto writer = RecordingWriter::create(path, student_info());
    for (std::size_t i = 0; i < count; ++i) {
        const auto s = student(static_cast<std::int64_t>(100 + i));
        writer.append(1000 * i, 7 + i, std::as_bytes(std::span(&s, 1)));
    }
    writer.close();
    return path;
}

ErrorCode open_error(const std::string& path) {
    try {
        (void)RecordingReader::open(path);
    } catch (const shmrec::Error& e) {
        EXPECT_NE(std::string(e.what()).find(path), std::string::npos) << e.what();
        return e.code();
    }
    ADD_FAILURE() << "opened " << path;
    return ErrorCode::invalid_argument;
}

TEST(Recording, RoundTripKeepsTypeSourceSchemasAndEveryEntry) {
    shmrec_test::TempDir dir;
    const std::string path = make_recording(dir, 5);

    auto reader = RecordingReader::open(path);
    const auto& info = reader.info();
    const auto expected = student_info();
    EXPECT_EQ(info.record_name, "school.Student");
    EXPECT_EQ(info.record_size, expected.record_size);
    EXPECT_EQ(info.record_alignment, expected.record_alignment);
    EXPECT_EQ(info.fingerprint, expected.fingerprint);
    EXPECT_EQ(info.channel_kind, 3u);
    EXPECT_EQ(info.source, "Students");
    EXPECT_EQ(info.start_time_ns, expected.start_time_ns);
    EXPECT_EQ(info.schema, expected.schema);
    EXPECT_EQ(info.binary_schema, expected.binary_schema);
    EXPECT_EQ(reader.entries(), 5u);
    EXPECT_EQ(reader.trailing_bytes(), 0u);

    const auto schema = shmrec::inspect::RecordSchema::load(
        info.binary_schema, info.record_name, info.record_size, "test");
    for (std::uint64_t i = 0; i < 5; ++i) {
        const auto entry = reader.next();
        ASSERT_TRUE(entry.has_value());
        EXPECT_EQ(entry->timestamp_ns, 1000 * i);
        EXPECT_EQ(entry->position, 7 + i);
        school::Student s{};
        ASSERT_EQ(entry->record.size(), sizeof s);
        std::memcpy(&s, entry->record.data(), sizeof s);
        EXPECT_EQ(s.id, static_cast<std::int64_t>(100 + i));
        EXPECT_EQ(schema.to_json(entry->record),
                  "{\"id\":" + std::to_string(100 + i) + ",\"name\":\"SecBug\"}");
    }
    EXPECT_FALSE(reader.next().has_value());
    EXPECT_EQ(reader.at(2).position, 9u);  // random access, then on from there
    EXPECT_EQ(reader.next()->position, 10u);
}

TEST(Recording, FileSizeIsHeaderPartsAndFixedEntries) {
    shmrec_test::TempDir dir;
    const std::string path = make_recording(dir, 3);
    const auto bytes = read_bytes(path);
    shmrec::inspect::detail::RecordingHeader header{};
    ASSERT_GE(bytes.size(), sizeof header);
    std::memcpy(&header, bytes.data(), sizeof header);
    EXPECT_EQ(header.magic, shmrec::inspect::recording_magic);
    EXPECT_EQ(header.entries_offset % 8, 0u);
    EXPECT_EQ(header.binary_schema_offset % 8, 0u);
    EXPECT_EQ(header.entry_size, shmrec::inspect::recording_entry_size(header.record_size));
    EXPECT_EQ(header.entry_size % 8, 0u);
    EXPECT_EQ(bytes.size(), header.entries_offset + 3 * header.entry_size);
}

TEST(Recording, AnEmptyRecordingHasNoEntries) {
    shmrec_test::TempDir dir;
    auto reader = RecordingReader::open(make_recording(dir, 0));
    EXPECT_EQ(reader.entries(), 0u);
    EXPECT_FALSE(reader.next().has_value());
}

TEST(Recording, CreateRefusesAnExistingFileUnlessOverwrite) {
    shmrec_test::TempDir dir;
    const std::string path = make_recording(dir, 2);
    try {
        (void)RecordingWriter::create(path, student_info());
        FAIL() << "overwrote " << path;
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::already_exists);
    }
    RecordingWriter::create(path, student_info(), true).close();
    EXPECT_EQ(RecordingReader::open(path).entries(), 0u);
}

TEST(Recording, WriterRefusesImpossibleTypesAndWrongRecordSizes) {
    shmrec_test::TempDir dir;
    auto info = student_info();
    info.record_size = 0;
    EXPECT_THROW((void)RecordingWriter::create(dir.file("zero"), info), shmrec::Error);
    info = student_info();
    info.record_name.clear();
    EXPECT_THROW((void)RecordingWriter::create(dir.file("noname"), info), shmrec::Error);

    auto writer = RecordingWriter::create(dir.file("ok"), student_info());
    const std::byte short_record[3]{};
    try {
        writer.append(0, 0, short_record);
        FAIL() << "appended a 3-byte record";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), ErrorCode::invalid_argument);
    }
}

// An interrupted recording: a partial last entry is left out and reported, never read.
TEST(Recording, APartialLastEntryIsReadUpToTheLastWholeEntry) {
    shmrec_test::TempDir dir;
    const std::string path = make_recording(dir, 4);
    auto bytes = read_bytes(path);
    const auto entry_size = shmrec::inspect::recording_entry_size(Traits::size);
    bytes.resize(bytes.size() - entry_size + 5);
    write_bytes(path, bytes.data(), bytes.size());

    auto reader = RecordingReader::open(path);
    EXPECT_EQ(reader.entries(), 3u);
    EXPECT_EQ(reader.trailing_bytes(), 5u);
    std::size_t n = 0;
    while (reader.next()) ++n;
    EXPECT_EQ(n, 3u);
}

// Truncated at every length: each prefix either opens (with fewer entries) or is refused with
// an Error, never a crash and never an entry read from beyond the end.
TEST(Recording, TruncationAtEveryLengthIsRefusedOrReadPartially) {
    shmrec_test::TempDir dir;
    const std::string path = make_recording(dir, 3);
    const auto bytes = read_bytes(path);
    shmrec::inspect::detail::RecordingHeader header{};
    std::memcpy(&header, bytes.data(), sizeof header);
    const std::string cut = dir.file("cut");
    for (std::size_t length = 0; length <= bytes.size(); ++length) {
        write_bytes(cut, bytes.data(), length);
        if (length < header.entries_offset) {
            const ErrorCode code = open_error(cut);
            EXPECT_TRUE(code == ErrorCode::truncated || code == ErrorCode::not_a_region)
                << "length " << length << ": " << shmrec::to_string(code);
            if (length >= 1) {
                EXPECT_EQ(code, ErrorCode::truncated) << "length " << length;
            }
            continue;
        }
        auto reader = RecordingReader::open(cut);
        const std::uint64_t body = length - header.entries_offset;
        EXPECT_EQ(reader.entries(), body / header.entry_size) << "length " << length;
        EXPECT_EQ(reader.trailing_bytes(), body % header.entry_size) << "length " << length;
        std::uint64_t n = 0;
        while (reader.next()) ++n;
        EXPECT_EQ(n, reader.entries());
    }
}

TEST(Recording, GarbageIsNotARecording) {
    shmrec_test::TempDir dir;
    const std::string path = dir.file("garbage");
    std::vector<char> garbage(4096);
    std::uint32_t x = 12345;
    for (char& c : garbage) {
        x = x * 1103515245u + 12345u;
        c = static_cast<char>(x >> 24);
    }
    write_bytes(path, garbage.data(), garbage.size());
    EXPECT_EQ(open_error(path), ErrorCode::not_a_region);
    EXPECT_FALSE(shmrec::inspect::is_recording(path));

    write_bytes(path, garbage.data(), 0);
    EXPECT_EQ(open_error(path), ErrorCode::not_a_region);
    EXPECT_EQ(open_error(dir.file("missing")), ErrorCode::not_found);
    EXPECT_EQ(open_error(dir.path().string()), ErrorCode::not_a_region);  // a directory
}

TEST(Recording, IsRecordingTellsARecordingFromOtherFiles) {
    shmrec_test::TempDir dir;
    EXPECT_TRUE(shmrec::inspect::is_recording(make_recording(dir, 1)));
    EXPECT_FALSE(shmrec::inspect::is_recording(dir.file("missing")));
}

// A header field changed in place: each is refused with the error a person can act on.
class RecordingCorruption : public ::testing::Test {
protected:
    void SetUp() override {
        path_ = make_recording(dir_, 2);
        bytes_ = read_bytes(path_);
        std::memcpy(&header_, bytes_.data(), sizeof header_);
    }
    ErrorCode open_with(const shmrec::inspect::detail::RecordingHeader& header) {
        auto bytes = bytes_;
        std::memcpy(bytes.data(), &header, sizeof header);
        write_bytes(path_, bytes.data(), bytes.size());
        return open_error(path_);
    }

    shmrec_test::TempDir dir_;
    std::string path_;
    std::vector<char> bytes_;
    shmrec::inspect::detail::RecordingHeader header_{};
};

TEST_F(RecordingCorruption, OtherByteOrder) {
    auto h = header_;
    h.magic = __builtin_bswap64(h.magic);
    EXPECT_EQ(open_with(h), ErrorCode::byte_order_mismatch);
}

TEST_F(RecordingCorruption, ARegionMagicIsNotARecording) {
    auto h = header_;
    h.magic = 0x53484D5245431A01ull;
    EXPECT_EQ(open_with(h), ErrorCode::not_a_region);
}

TEST_F(RecordingCorruption, OtherMajorVersion) {
    auto h = header_;
    h.format_major = 2;
    EXPECT_EQ(open_with(h), ErrorCode::version_mismatch);
}

TEST_F(RecordingCorruption, RecordSizeZeroOrAbsurd) {
    for (std::uint32_t size : {0u, 0x7fffffffu, 0xffffffffu}) {
        auto h = header_;
        h.record_size = size;
        EXPECT_EQ(open_with(h), ErrorCode::corrupt_header) << size;
    }
}

TEST_F(RecordingCorruption, EntrySizeThatDisagreesWithTheRecord) {
    auto h = header_;
    h.entry_size += 8;
    EXPECT_EQ(open_with(h), ErrorCode::corrupt_header);
}

TEST_F(RecordingCorruption, AlignmentNotAPowerOfTwo) {
    auto h = header_;
    h.record_alignment = 3;
    EXPECT_EQ(open_with(h), ErrorCode::corrupt_header);
}

TEST_F(RecordingCorruption, UnterminatedRecordName) {
    auto h = header_;
    std::memset(h.record_name, 'x', sizeof h.record_name);
    EXPECT_EQ(open_with(h), ErrorCode::corrupt_header);
}

TEST_F(RecordingCorruption, LengthsAndOffsetsBeyondTheFile) {
    auto h = header_;
    h.binary_schema_length = 1u << 19;  // within the limit, beyond the file
    EXPECT_EQ(open_with(h), ErrorCode::truncated);
    h = header_;
    h.binary_schema_length = ~0ull;
    EXPECT_EQ(open_with(h), ErrorCode::corrupt_header);
    h = header_;
    h.schema_offset = ~0ull & ~7ull;
    EXPECT_EQ(open_with(h), ErrorCode::truncated);
    h = header_;
    h.entries_offset = h.entries_offset + (1u << 20);
    EXPECT_EQ(open_with(h), ErrorCode::truncated);
}

TEST_F(RecordingCorruption, OverlappingOrMisalignedParts) {
    auto h = header_;
    h.schema_offset = h.source_offset;  // overlaps the source name
    EXPECT_EQ(open_with(h), ErrorCode::corrupt_header);
    h = header_;
    h.binary_schema_offset += 1;
    EXPECT_EQ(open_with(h), ErrorCode::corrupt_header);
    h = header_;
    h.header_size = 8;
    EXPECT_EQ(open_with(h), ErrorCode::corrupt_header);
    h = header_;
    h.channel_kind = 9;
    EXPECT_EQ(open_with(h), ErrorCode::corrupt_header);
}

// Every byte of the header flipped in turn: refused or opened, never a crash; when it opens,
// iterating is bounded by the file.
TEST_F(RecordingCorruption, EveryHeaderByteFlippedNeverCrashes) {
    for (std::size_t i = 0; i < sizeof header_; ++i) {
        auto bytes = bytes_;
        bytes[i] = static_cast<char>(bytes[i] ^ 0xA5);
        write_bytes(path_, bytes.data(), bytes.size());
        try {
            auto reader = RecordingReader::open(path_);
            std::uint64_t n = 0;
            while (reader.next()) ++n;
            EXPECT_EQ(n, reader.entries());
            EXPECT_LE(reader.entries() * shmrec::inspect::recording_entry_size(reader.info().record_size),
                      bytes.size());
        } catch (const shmrec::Error&) {
        }
    }
}

}  // namespace
