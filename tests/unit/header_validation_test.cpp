// Region::open's layered header validation (RELIABILITY C1-C5): every way a region's header
// can be foreign, incompatible, truncated or impossible is refused with its own ErrorCode and a
// message naming the region and both sides, before the opener follows any offset.
//
// Damaged headers are made by creating a real Student cell, closing its writer, then mapping
// /dev/shm/<name> directly and changing fields (tests/support/shm_file.hpp). On Windows the
// cell's file-mapping object is kept alive past its writer (keep_alive) and mapped by name.
#include <fmt/format.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <functional>
#include <limits>
#include <random>
#include <utility>
#include <vector>

#include "expect_error.hpp"
#include "printers.hpp"
#include "shm_file.hpp"
#include "shmrec/detail/channel_setup.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/detail/region_header.hpp"
#include "shmrec/region.hpp"
#include "student.shmrec.hpp"
#include "test_names.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ErrorCode;
using shmrec::detail::RegionHeader;
using shmrec_test::fails_with;
using shmrec_test::poke_header;
using shmrec_test::shm_path;
using ::testing::HasSubstr;
using ::testing::Not;
using Clock = std::chrono::steady_clock;
using StudentCell = shmrec::Cell<school::Student>;
// What a cell of students writes into its header (and an opener expects).
shmrec::RegionSpec student_cell_spec() {
    return shmrec::detail::channel_spec<shmrec::detail::CellDescriptor, school::Student>(2);
}

constexpr std::uint64_t page = 4096;

shmrec::RegionOptions quick() {
    shmrec::RegionOptions o;
    o.init_timeout = 100ms;
    return o;
}

class HeaderValidation : public shmrec_test::RegionFixture {
  protected:
    void SetUp() override {
        ASSERT_EQ(shmrec_test::page_size(), page)
            << "these tests assume 4 KiB pages";
        region_ = name();
        path_ = shm_path(region_);
    }

    // A healthy Student cell holding one record, its writer closed again.
    void make_student_cell() {
        auto writer = StudentCell::writer(region_);
        shmrec_test::keep_alive(region_);  // Windows: the object outlives its writer
        school::Student s{};
        s.id = 42;
        ASSERT_EQ(writer.try_write(s), shmrec::WriteStatus::ok);
    }

    // Creates a region of its own spec (record type, size, kind) with Region::create.
    void make_region(const shmrec::RegionSpec& spec) {
        const auto region = shmrec::Region::create(region_, spec);
        shmrec_test::keep_alive(region_);
    }

    void poke(const std::function<void(RegionHeader&)>& f) {
        poke_header(path_, [&](RegionHeader& h, std::byte*, std::uint64_t) { f(h); });
    }

    // Opens the region as a Student reader: must fail with `code`; returns what().
    std::string open_fails_with(ErrorCode code, const shmrec::RegionOptions& options = quick()) {
        std::string what;
        EXPECT_TRUE(fails_with([&] { (void)StudentCell::reader(region_, options); }, code, &what));
        EXPECT_THAT(what, HasSubstr(region_)) << "the message must name the region";
        return what;
    }

    std::string region_;
    std::string path_;
};

TEST_F(HeaderValidation, RandomBytesAreNotARegion) {
    std::vector<std::byte> junk(page);
    std::mt19937_64 rng(1234);
    for (auto& b : junk) b = static_cast<std::byte>(rng());
    // Never the all-zero word a creator in progress shows.
    junk[0] = std::byte{0x7f};
    shmrec_test::create_file(path_, junk, junk.size());
    const auto what = open_fails_with(ErrorCode::not_a_region);
    EXPECT_THAT(what, HasSubstr(fmt::format("{:016x}", shmrec::detail::region_magic)))
        << "names the magic it expected";
    std::uint64_t theirs = 0;
    std::memcpy(&theirs, junk.data(), 8);
    EXPECT_THAT(what, HasSubstr(fmt::format("{:016x}", theirs))) << "and the one it found";
}

TEST_F(HeaderValidation, ByteSwappedMagicIsByteOrderMismatch) {
    make_student_cell();
    poke([](RegionHeader& h) { h.magic = __builtin_bswap64(shmrec::detail::region_magic); });
    const auto what = open_fails_with(ErrorCode::byte_order_mismatch);
    EXPECT_THAT(what, HasSubstr("byte order"));
}

TEST_F(HeaderValidation, OtherMajorFormatVersionIsVersionMismatch) {
    make_student_cell();
    for (const std::uint16_t other : {std::uint16_t(shmrec::format_major + 1), std::uint16_t(0)}) {
        SCOPED_TRACE(other);
        poke([&](RegionHeader& h) {
            h.format_major = other;
            h.format_minor = 7;
        });
        const auto what = open_fails_with(ErrorCode::version_mismatch);
        EXPECT_THAT(what, HasSubstr(fmt::format("{}.7", other))) << "theirs";
        EXPECT_THAT(what, HasSubstr(fmt::format("reads {}.", shmrec::format_major))) << "ours";
    }
}

TEST_F(HeaderValidation, NewerMinorFormatVersionIsAccepted) {
    make_student_cell();
    poke([](RegionHeader& h) {
        h.format_minor = static_cast<std::uint16_t>(shmrec::format_minor + 1);
    });
    auto reader = StudentCell::reader(region_, quick());
    school::Student s{};
    ASSERT_EQ(reader.try_read(s), shmrec::ReadStatus::ok);
    EXPECT_EQ(s.id, 42);
}

TEST_F(HeaderValidation, OtherAbiSignatureIsAbiMismatch) {
    make_student_cell();
    // A build with 128-byte cache lines.
    const std::uint32_t theirs = (shmrec::detail::abi_signature() & ~0xffu) | 128u;
    poke([&](RegionHeader& h) { h.abi_signature = theirs; });
    const auto what = open_fails_with(ErrorCode::abi_mismatch);
    EXPECT_THAT(what, HasSubstr(fmt::format("0x{:08x}", theirs)));
    EXPECT_THAT(what, HasSubstr(fmt::format("0x{:08x}", shmrec::detail::abi_signature())));
}

TEST_F(HeaderValidation, HeaderSizeSmallerThanTheFormatsIsCorruptHeader) {
    make_student_cell();
    poke([](RegionHeader& h) { h.header_size = 128; });
    const auto what = open_fails_with(ErrorCode::corrupt_header);
    EXPECT_THAT(what, HasSubstr("128"));
    EXPECT_THAT(what, HasSubstr("256"));
}

TEST_F(HeaderValidation, RingOpenedAsCellIsWrongKind) {
    auto spec = student_cell_spec();
    spec.kind = shmrec::ChannelKind::ring;
    make_region(spec);
    const auto what = open_fails_with(ErrorCode::wrong_kind);
    EXPECT_THAT(what, HasSubstr("ring"));
    EXPECT_THAT(what, HasSubstr("cell"));
}

TEST_F(HeaderValidation, OtherRecordTypeIsTypeMismatch) {
    make_student_cell();
    std::string what;
    ASSERT_TRUE(
        fails_with([&] { (void)shmrec::Cell<shmrec_test::Other>::reader(region_, quick()); },
                   ErrorCode::type_mismatch, &what));
    EXPECT_THAT(what, HasSubstr(region_));
    EXPECT_THAT(what, HasSubstr("school.Student"));
    EXPECT_THAT(what, HasSubstr("shmrec_test.Other"));
}

TEST_F(HeaderValidation, SameTypeNameOtherSizeIsLayoutMismatch) {
    auto spec = student_cell_spec();
    spec.record_size = 40;
    make_region(spec);
    const auto what = open_fails_with(ErrorCode::layout_mismatch);
    EXPECT_THAT(what, HasSubstr("40 bytes"));
    EXPECT_THAT(what, HasSubstr("32 bytes"));
}

TEST_F(HeaderValidation, SameTypeNameOtherAlignmentIsLayoutMismatch) {
    auto spec = student_cell_spec();
    spec.record_alignment = 4;
    make_region(spec);
    const auto what = open_fails_with(ErrorCode::layout_mismatch);
    EXPECT_THAT(what, HasSubstr("aligned to 4"));
    EXPECT_THAT(what, HasSubstr("aligned to 8"));
}

TEST_F(HeaderValidation, SameTypeNameAndSizeOtherFingerprintIsFingerprintMismatch) {
    auto spec = student_cell_spec();
    spec.fingerprint ^= 0x0102030405060708ULL;
    make_region(spec);
    const auto what = open_fails_with(ErrorCode::fingerprint_mismatch);
    EXPECT_THAT(what, HasSubstr(fmt::format("{:016x}", spec.fingerprint)));
    EXPECT_THAT(what, HasSubstr(fmt::format("{:016x}", student_cell_spec().fingerprint)));
}

TEST_F(HeaderValidation, FileTruncatedToZeroIsInitTimeoutAfterTheConfiguredWait) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: truncates the region's /dev/shm file behind its back; a Windows "
                    "file-mapping object cannot change size";
#else
    make_student_cell();
    shmrec_test::resize_file(path_, 0);
    const auto start = Clock::now();
    const auto what = open_fails_with(ErrorCode::init_timeout);
    const auto elapsed = Clock::now() - start;
    EXPECT_GE(elapsed, quick().init_timeout);
    EXPECT_LT(elapsed, quick().init_timeout + 1s);
    EXPECT_THAT(what, HasSubstr("never finished"));
#endif
}

TEST_F(HeaderValidation, FileSmallerThanTheHeaderIsTruncated) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: truncates the region's /dev/shm file behind its back; a Windows "
                    "file-mapping object cannot change size";
#else
    make_student_cell();
    for (const std::uint64_t size : {std::uint64_t{16}, std::uint64_t{255}}) {
        SCOPED_TRACE(size);
        shmrec_test::resize_file(path_, size);
        const auto what = open_fails_with(ErrorCode::truncated);
        EXPECT_THAT(what, HasSubstr(fmt::format("{} bytes", size)));
        EXPECT_THAT(what, HasSubstr(std::to_string(sizeof(RegionHeader))));
    }
#endif
}

TEST_F(HeaderValidation, FileSmallerThanTheHeaderDeclaresIsTruncated) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: truncates the region's /dev/shm file behind its back; a Windows "
                    "file-mapping object cannot change size";
#else
    make_student_cell();
    const std::uint64_t mapped = shmrec_test::file_size_of(path_);
    // Header page, board (waiter bits and reader cursors), data and schemas.
    const std::uint64_t board = (128 + 256 * 128 + page - 1) / page * page;
    ASSERT_EQ(mapped, page + board + page);
    for (const std::uint64_t size : {sizeof(RegionHeader) + 64, page + board + 64, mapped - 1}) {
        SCOPED_TRACE(size);
        shmrec_test::resize_file(path_, size);
        const auto what = open_fails_with(ErrorCode::truncated);
        EXPECT_THAT(what, HasSubstr(std::to_string(size)));
        EXPECT_THAT(what, HasSubstr(std::to_string(mapped)));
    }
#endif
}

#if defined(_WIN32)
// The Windows counterpart of the truncation tests above: an object cannot shrink, but a foreign
// one of the same name can be smaller than the header it carries says (a copy of a region's
// header page in a new, smaller mapping). Page multiples: a mapping's size is whole pages.
TEST_F(HeaderValidation, ObjectSmallerThanItsHeaderDeclaresIsTruncated) {
    make_student_cell();
    const std::uint64_t mapped = shmrec_test::file_size_of(path_);
    std::vector<std::byte> header_page(page);
    poke_header(path_, [&](RegionHeader&, std::byte* base, std::uint64_t) {
        std::memcpy(header_page.data(), base, page);
    });
    for (const std::uint64_t size : {page, mapped - page}) {
        SCOPED_TRACE(size);
        shmrec_test::release_kept_objects();  // the cell's object (or the last copy) goes
        shmrec_test::create_file(path_, header_page, size);
        const auto what = open_fails_with(ErrorCode::truncated);
        EXPECT_THAT(what, HasSubstr(std::to_string(size)));
        EXPECT_THAT(what, HasSubstr(std::to_string(mapped)));
    }
}
#endif

TEST_F(HeaderValidation, FileLargerThanTheHeaderDeclaresIsCorruptHeader) {
#if defined(_WIN32)
    GTEST_SKIP() << "Linux-only: truncates the region's /dev/shm file behind its back; a Windows "
                    "file-mapping object cannot change size";
#else
    make_student_cell();
    const std::uint64_t mapped = shmrec_test::file_size_of(path_);
    shmrec_test::resize_file(path_, mapped + page);
    const auto what = open_fails_with(ErrorCode::corrupt_header);
    EXPECT_THAT(what, HasSubstr(std::to_string(mapped + page)));
    EXPECT_THAT(what, HasSubstr(std::to_string(mapped)));
#endif
}

TEST_F(HeaderValidation, ImpossibleOffsetsAndSizesAreCorruptHeader) {
    constexpr std::uint64_t max = std::numeric_limits<std::uint64_t>::max();
    struct Case {
        const char* what;
        std::function<void(RegionHeader&)> poke;
    };
    const std::vector<Case> cases = {
        {"reader board not page aligned", [](RegionHeader& h) { h.board_offset += 8; }},
        {"reader board inside the header", [](RegionHeader& h) { h.board_offset = 0; }},
        {"reader board smaller than a ReaderBoard", [](RegionHeader& h) { h.board_size = 0; }},
        {"reader board overlapping the data",
         [](RegionHeader& h) { h.board_size += page; }},
        {"reader board size overflowing", [](RegionHeader& h) { h.board_size = max - page + 1; }},
        {"data not cache-line aligned", [](RegionHeader& h) { h.data_offset += 8; }},
        {"data_offset + data_size overflowing", [](RegionHeader& h) { h.data_size = max; }},
        {"data_offset at the end of the address space",
         [](RegionHeader& h) { h.data_offset = max - 63; }},
        {"data running into the schema", [](RegionHeader& h) { h.data_size = page; }},
        {"data size other than the cell's",
         [](RegionHeader& h) { h.data_size = student_cell_spec().data_size - 64; }},
        {"schema beyond the end", [](RegionHeader& h) { h.schema_length = h.mapped_size; }},
        {"schema offset overflowing", [](RegionHeader& h) { h.schema_offset = max; }},
        {"schema length overflowing", [](RegionHeader& h) { h.schema_length = max; }},
        {"capacity other than a cell's", [](RegionHeader& h) { h.capacity = 3; }},
        {"capacity huge", [](RegionHeader& h) { h.capacity = max; }},
        {"slot stride other than the record's", [](RegionHeader& h) { h.slot_stride = 128; }},
        {"slot stride zero", [](RegionHeader& h) { h.slot_stride = 0; }},
        {"binary schema beyond the end",
         [](RegionHeader& h) { h.binary_schema_length = h.mapped_size; }},
        {"binary schema offset overflowing",
         [](RegionHeader& h) { h.binary_schema_offset = max - 7; }},
        {"binary schema not 8-aligned", [](RegionHeader& h) { h.binary_schema_offset += 4; }},
        {"binary schema overlapping the schema text",
         [](RegionHeader& h) { h.binary_schema_offset = h.schema_offset; }},
        {"binary schema over 1 MiB",
         [](RegionHeader& h) { h.binary_schema_length = (1u << 20) + 8; }},
        {"record name unterminated",
         [](RegionHeader& h) { std::memset(h.record_name, 'x', sizeof h.record_name); }},
    };
    make_student_cell();
    std::vector<std::byte> pristine(page);
    poke_header(path_, [&](RegionHeader&, std::byte* base, std::uint64_t) {
        std::memcpy(pristine.data(), base, page);
    });
    for (const auto& c : cases) {
        SCOPED_TRACE(c.what);
        poke_header(path_, [&](RegionHeader& h, std::byte* base, std::uint64_t) {
            std::memcpy(base, pristine.data(), page);
            c.poke(h);
        });
        open_fails_with(ErrorCode::corrupt_header);
    }
    // The untouched header still opens: each failure above came from its one change.
    poke_header(path_, [&](RegionHeader&, std::byte* base, std::uint64_t) {
        std::memcpy(base, pristine.data(), page);
    });
    EXPECT_NO_THROW((void)StudentCell::reader(region_, quick()));
}

TEST_F(HeaderValidation, UnknownStateWordIsCorruptHeader) {
    make_student_cell();
    poke([](RegionHeader& h) { h.state.store(7); });
    const auto what = open_fails_with(ErrorCode::corrupt_header);
    EXPECT_THAT(what, HasSubstr("state word 7"));
}

TEST_F(HeaderValidation, GarbageBehindAValidMagicGivesASpecificErrorNotACrash) {
    make_student_cell();
    std::vector<std::byte> pristine(page);
    poke_header(path_, [&](RegionHeader&, std::byte* base, std::uint64_t) {
        std::memcpy(pristine.data(), base, page);
    });
    const std::vector<ErrorCode> header_errors = {
        ErrorCode::version_mismatch,     ErrorCode::abi_mismatch,  ErrorCode::corrupt_header,
        ErrorCode::wrong_kind,           ErrorCode::type_mismatch, ErrorCode::layout_mismatch,
        ErrorCode::fingerprint_mismatch, ErrorCode::truncated,     ErrorCode::init_timeout};
    shmrec::RegionOptions options;
    options.init_timeout = 10ms;
    std::mt19937_64 rng(20240601);
    // Edge values for the geometry words, mixed with plain random ones.
    const std::uint64_t mapped = shmrec_test::file_size_of(path_);
    const std::array<std::uint64_t, 12> edges = {0,
                                                 1,
                                                 3,
                                                 63,
                                                 64,
                                                 page - 1,
                                                 page,
                                                 2 * page,
                                                 mapped,
                                                 mapped + 1,
                                                 std::numeric_limits<std::uint64_t>::max(),
                                                 std::numeric_limits<std::uint64_t>::max() - 63};
    int accepted = 0;
    for (int round = 0; round < 600; ++round) {
        SCOPED_TRACE(round);
        poke_header(path_, [&](RegionHeader& h, std::byte* base, std::uint64_t) {
            std::memcpy(base, pristine.data(), page);
            if (round < 200) {
                // Everything after the magic is random.
                for (std::size_t i = 8; i < page; ++i) base[i] = static_cast<std::byte>(rng());
            } else {
                // A compatible header whose geometry words are edge values or random.
                auto pick = [&] { return rng() % 3 == 0 ? rng() : edges[rng() % edges.size()]; };
                h.mapped_size = pick();
                h.board_offset = pick();
                h.board_size = pick();
                h.data_offset = pick();
                h.data_size = pick();
                h.schema_offset = pick();
                h.schema_length = pick();
                if (round % 2 == 0) h.capacity = pick();
                if (round % 3 == 0) h.slot_stride = pick();
            }
        });
        try {
            auto reader = StudentCell::reader(region_, options);
            // Accepted: the geometry was self-consistent. Reading must stay inside the mapping.
            ++accepted;
            school::Student s{};
            (void)reader.try_read(s);
        } catch (const shmrec::Error& e) {
            EXPECT_NE(std::find(header_errors.begin(), header_errors.end(), e.code()),
                      header_errors.end())
                << "unexpected " << shmrec::to_string(e.code()) << ": " << e.what();
            EXPECT_THAT(e.what(), HasSubstr(region_));
        }
    }
    std::cout << "[          ] " << accepted << " of 600 garbage headers were self-consistent\n";
}

TEST_F(HeaderValidation, CreatorThatNeverFinishedIsInitTimeoutWithinTheConfiguredTimeout) {
    // A zero-filled region of the right size: what a creator leaves after sizing the file and
    // before writing the header (and what a zero-filled foreign file looks like).
    shmrec_test::create_file(path_, {}, 3 * page);
    shmrec::RegionOptions options;
    options.init_timeout = 150ms;
    const auto start = Clock::now();
    const auto what = open_fails_with(ErrorCode::init_timeout, options);
    const auto elapsed = Clock::now() - start;
    EXPECT_GE(elapsed, options.init_timeout);
    EXPECT_LT(elapsed, options.init_timeout + 1s);
    EXPECT_THAT(what, HasSubstr("zero-filled"));
    EXPECT_THAT(what, Not(HasSubstr("pid 0")));
}

TEST_F(HeaderValidation, CreatorStalledAfterTheMagicIsInitTimeoutNamingItsPid) {
    // A creator that wrote part of the header, not yet `ready`.
    make_student_cell();
    poke([](RegionHeader& h) { h.state.store(0); h.creator_pid = 4242; });
    shmrec::RegionOptions options;
    options.init_timeout = 150ms;
    const auto what = open_fails_with(ErrorCode::init_timeout, options);
    EXPECT_THAT(what, HasSubstr("'initialising'"));
    EXPECT_THAT(what, HasSubstr("creator pid 4242"));
}

TEST_F(HeaderValidation, InspectRefusesADamagedHeaderWithTheSameCode) {
    make_student_cell();
    poke([](RegionHeader& h) { h.data_size = std::numeric_limits<std::uint64_t>::max(); });
    EXPECT_TRUE(fails_with([&] { (void)shmrec::inspect_region(region_, quick()); },
                           ErrorCode::corrupt_header));
}

TEST_F(HeaderValidation, InspectRefusesARecordNoSlotCanHold) {
    // An inspector (shmrec tail, the untyped readers) copies records of the header's size at
    // its alignment: an impossible one is refused before anything is copied.
    const std::vector<std::pair<const char*, std::function<void(RegionHeader&)>>> cases = {
        {"size 0", [](RegionHeader& h) { h.record_size = 0; }},
        {"alignment 0", [](RegionHeader& h) { h.record_alignment = 0; }},
        {"alignment 12", [](RegionHeader& h) { h.record_alignment = 12; }},
        {"alignment 128", [](RegionHeader& h) { h.record_alignment = 128; }},
        {"size not a multiple of the alignment", [](RegionHeader& h) { h.record_size = 33; }},
        {"size beyond the slot", [](RegionHeader& h) { h.record_size = 0xFFFFFFF8u; }},
    };
    for (const auto& [what, change] : cases) {
        SCOPED_TRACE(what);
        make_student_cell();
        poke(change);
        std::string message;
        EXPECT_TRUE(fails_with([&] { (void)shmrec::inspect_region(region_, quick()); },
                               ErrorCode::corrupt_header, &message));
        EXPECT_THAT(message, HasSubstr("impossible record"));
        shmrec::remove_region(region_);
        shmrec_test::release_kept_objects();  // Windows: the object goes with its last handle
    }
}

}  // namespace
