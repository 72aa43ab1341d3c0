// Format 2.1's additions to the region header: the embedded binary schema, the identity of the
// current writer, and the reader cursors on the board; and that a format 2.0 region (which has
// none of them) still opens.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#if !defined(_WIN32)
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <chrono>
#include <cstring>
#include <vector>

#include "shm_file.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/detail/region_header.hpp"
#include "shmrec/region.hpp"
#include "student.shmrec.hpp"
#include "test_names.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::detail::RegionHeader;
using StudentCell = shmrec::Cell<school::Student>;

class SelfDescribing : public shmrec_test::RegionFixture {};

TEST_F(SelfDescribing, RegionEmbedsTheBinarySchemaOfItsRecord) {
    const std::string region = name();
    auto writer = StudentCell::writer(region);
    const auto info = shmrec::inspect_region(region);
    const auto expected = shmrec::RecordTraits<school::Student>::binary_schema;
    ASSERT_FALSE(expected.empty());
    EXPECT_EQ(info.binary_schema, std::vector<std::uint8_t>(expected.begin(), expected.end()));
    EXPECT_EQ(info.geometry.binary_schema_length, expected.size());
    EXPECT_EQ(info.geometry.binary_schema_offset % 8, 0u);
    EXPECT_GE(info.geometry.binary_schema_offset,
              info.geometry.schema_offset + info.geometry.schema_length);
    EXPECT_EQ(info.format_minor, 1);
    // The schema text is still there, for people.
    EXPECT_EQ(info.schema, shmrec::RecordTraits<school::Student>::schema);
}

TEST_F(SelfDescribing, EveryRecordOfAHeaderSharesItsSchemaFilesBinarySchema) {
    const auto a = shmrec::RecordTraits<shmrec_test::Checked>::binary_schema;
    const auto b = shmrec::RecordTraits<shmrec_test::Other>::binary_schema;
    EXPECT_EQ(a.data(), b.data());
    EXPECT_NE(a.data(), shmrec::RecordTraits<school::Student>::binary_schema.data());
}

TEST_F(SelfDescribing, HeaderNamesTheWriterThatTookTheRegionOverNotItsCreator) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: fork()s a creator that dies holding the region; on Windows the process "
                 "tests take over a dead writer's region (Lifecycle/WriterTakeover)";
#else
    const std::string region = name();
    const pid_t creator = ::fork();
    ASSERT_GE(creator, 0);
    if (creator == 0) {
        auto writer = StudentCell::writer(region);
        ::_exit(0);  // dies holding the region: no close, no removal
    }
    int status = 0;
    ASSERT_EQ(::waitpid(creator, &status, 0), creator);
    ASSERT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);

    const auto before = shmrec::inspect_region(region);
    EXPECT_EQ(before.creator.pid, creator);
    EXPECT_EQ(before.writer.pid, creator);
    EXPECT_EQ(before.writer.generation, 1u);
    EXPECT_FALSE(before.writer_alive);

    auto takeover = StudentCell::writer(region, shmrec::OpenMode::open_only);
    const auto after = shmrec::inspect_region(region);
    EXPECT_EQ(after.creator.pid, creator) << "the creator stays the creator";
    EXPECT_EQ(after.writer.pid, ::getpid());
    EXPECT_EQ(after.writer.generation, 2u);
    EXPECT_GE(after.writer.since_ns, before.writer.since_ns);
    EXPECT_TRUE(after.writer_alive);
#endif
}

TEST_F(SelfDescribing, BoardHasACursorLineForEveryReaderSlot) {
    const std::string region = name();
    auto writer = StudentCell::writer(region);
    const auto info = shmrec::inspect_region(region);
    EXPECT_GE(info.geometry.board_size, shmrec::detail::board_bytes_with_cursors);
}

TEST_F(SelfDescribing, AFormat20RegionStillOpensAndHasNoneOfTheAdditions) {
    const std::string region = name();
    {
        auto writer = StudentCell::writer(region);
        shmrec_test::keep_alive(region);  // Windows: the object outlives its writer
        school::Student s{};
        s.id = 7;
        ASSERT_EQ(writer.try_write(s), shmrec::WriteStatus::ok);
    }
    // What a 2.0 creator wrote: a 256-byte header, the rest of its page zero.
    shmrec_test::poke_header(shmrec_test::shm_path(region),
                             [](RegionHeader& h, std::byte* base, std::uint64_t) {
                                 h.format_minor = 0;
                                 h.header_size = shmrec::detail::header_size_2_0;
                                 std::memset(base + 256, 0, sizeof(RegionHeader) - 256);
                             });
    const auto info = shmrec::inspect_region(region);
    EXPECT_EQ(info.format_minor, 0);
    EXPECT_TRUE(info.binary_schema.empty());
    EXPECT_EQ(info.writer.generation, 0u) << "unknown, not made up";
    auto reader = StudentCell::reader(region);
    school::Student s{};
    EXPECT_EQ(reader.try_read(s), shmrec::ReadStatus::ok);
    EXPECT_EQ(s.id, 7);
    // A 2.1 writer taking a 2.0 region over leaves the 2.0 header as it was.
    auto writer = StudentCell::writer(region, shmrec::OpenMode::open_only);
    EXPECT_EQ(shmrec::inspect_region(region).writer.generation, 0u);
}

}  // namespace
