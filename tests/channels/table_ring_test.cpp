// TableRing<T>: FlatBuffers tables through a byte ring, built in place or copied, verified on
// read (in place and with TableReadOptions::copy), a record that fails verification skipped
// and reported, and a ring of another schema refused with the fields named.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include "channel_test_support.hpp"
#include "enrolment.shmrec.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/table_ring.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using EnrolmentRing = shmrec::TableRing<school::Enrolment>;

school::Student student(std::int64_t id) {
    school::Student s{};
    s.id = id;
    s.name = "SecBug";
    return s;
}

// Record k: a string and a vector whose contents depend on k.
flatbuffers::Offset<school::Enrolment> build(flatbuffers::FlatBufferBuilder& fbb, std::uint64_t k) {
    const school::Student s = student(static_cast<std::int64_t>(99041232 + k));
    std::vector<std::string> courses;
    for (std::uint64_t i = 0; i < k % 5; ++i) courses.push_back("course-" + std::to_string(k + i));
    const auto course_list = courses.empty() ? 0 : fbb.CreateVectorOfStrings(courses);
    return school::CreateEnrolment(fbb, &s, course_list,
                                   fbb.CreateString("note " + std::to_string(k)),
                                   static_cast<float>(k % 100) / 4);
}

void expect_record(const school::Enrolment& e, std::uint64_t k) {
    ASSERT_NE(e.student(), nullptr);
    EXPECT_EQ(e.student()->id, static_cast<std::int64_t>(99041232 + k));
    EXPECT_EQ(e.student()->name, "SecBug");
    ASSERT_NE(e.note(), nullptr);
    EXPECT_EQ(e.note()->str(), "note " + std::to_string(k));
    EXPECT_EQ(e.grade(), static_cast<float>(k % 100) / 4);
    const std::size_t n = e.courses() ? e.courses()->size() : 0;
    ASSERT_EQ(n, k % 5);
    for (std::size_t i = 0; i < n; ++i) {
        EXPECT_EQ(e.courses()->Get(static_cast<flatbuffers::uoffset_t>(i))->str(),
                  "course-" + std::to_string(k + i));
    }
}

class TableRingTest : public shmrec_test::RegionFixture {};

TEST_F(TableRingTest, RecordsBuiltInPlaceOrCopiedArriveVerifiedAndInOrder) {
    const std::string n = name();
    auto w = EnrolmentRing::writer(n, 4096);
    auto r = EnrolmentRing::reader(n);
    for (std::uint64_t k = 0; k < 300; ++k) {
        if (k % 2 == 0) {
            auto loan = w.try_loan(256);
            ASSERT_TRUE(loan) << to_string(loan.status());
            ASSERT_EQ(loan.commit(build(loan.builder(), k)), WriteStatus::ok);
        } else {
            flatbuffers::FlatBufferBuilder fbb;
            fbb.Finish(build(fbb, k));
            ASSERT_EQ(w.try_write(fbb), WriteStatus::ok);
        }
        auto rec = r.try_peek();
        ASSERT_TRUE(rec) << to_string(rec.status());
        EXPECT_EQ(rec.sequence(), k);
        expect_record(*rec, k);
    }
    EXPECT_EQ(r.try_peek().status(), ReadStatus::empty);
    EXPECT_EQ(r.rejected(), 0u);
}

TEST_F(TableRingTest, ARecordThatOutgrowsItsLoanIsCopiedIn) {
    const std::string n = name();
    auto w = EnrolmentRing::writer(n, 4096);
    auto r = EnrolmentRing::reader(n);
    auto loan = w.try_loan(16);  // far too small for record 4
    ASSERT_TRUE(loan);
    ASSERT_EQ(loan.commit(build(loan.builder(), 4)), WriteStatus::ok);
    auto rec = r.try_peek();
    ASSERT_TRUE(rec) << to_string(rec.status());
    expect_record(*rec, 4);
}

// A record the Verifier refuses (its root offset points outside the buffer) is skipped,
// counted and described; the records around it are read.
TEST_F(TableRingTest, ARecordThatFailsVerificationIsSkippedCountedAndReported) {
    for (const bool copy : {false, true}) {
        SCOPED_TRACE(copy ? "copy" : "in place");
        const std::string n = name(copy ? "copy" : "inplace");
        auto w = EnrolmentRing::writer(n, 4096);
        shmrec::TableReadOptions options;
        options.copy = copy;
        auto r = EnrolmentRing::reader(n, {}, {}, options);
        flatbuffers::FlatBufferBuilder fbb;
        fbb.Finish(build(fbb, 1));
        std::vector<std::uint8_t> bad(fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize());
        const std::uint32_t beyond = 1u << 20;
        std::memcpy(bad.data(), &beyond, sizeof beyond);  // root offset past the end
        ASSERT_EQ(w.try_write(fbb), WriteStatus::ok);
        ASSERT_EQ(w.try_write(bad), WriteStatus::ok);
        ASSERT_EQ(w.try_write(std::span<const std::uint8_t>(bad.data(), 3)), WriteStatus::ok);
        ASSERT_EQ(w.try_write(fbb), WriteStatus::ok);
        auto first = r.try_peek();
        ASSERT_TRUE(first);
        expect_record(*first, 1);
        first.release();
        auto second = r.try_peek();
        EXPECT_EQ(second.status(), ReadStatus::corrupt);
        EXPECT_EQ(r.rejected(), 1u);
        EXPECT_EQ(r.last_rejection().sequence, 1u);
        EXPECT_NE(r.last_rejection().reason.find("Verifier"), std::string::npos);
        EXPECT_EQ(r.try_peek().status(), ReadStatus::corrupt);
        EXPECT_EQ(r.rejected(), 2u);
        EXPECT_EQ(r.last_rejection().sequence, 2u);
        auto fourth = r.try_peek();
        ASSERT_TRUE(fourth) << to_string(fourth.status());
        EXPECT_EQ(fourth.sequence(), 3u);
        expect_record(*fourth, 1);
    }
}

TEST_F(TableRingTest, AStreamFromAWriterThreadArrivesComplete) {
    const std::string n = name();
    constexpr std::uint64_t count = shmrec_test::under_sanitizer ? 5'000 : 50'000;
    auto w = EnrolmentRing::writer(n, 1 << 14);
    auto r = EnrolmentRing::reader(n);
    std::thread writer([&] {
        for (std::uint64_t k = 0; k < count; ++k) {
            auto loan = w.loan(256, 10s);
            ASSERT_TRUE(loan) << to_string(loan.status());
            ASSERT_EQ(loan.commit(build(loan.builder(), k)), WriteStatus::ok);
        }
        w.close();
    });
    std::uint64_t got = 0;
    for (;;) {
        auto rec = r.peek(10s);
        if (!rec) {
            EXPECT_EQ(rec.status(), ReadStatus::closed);
            break;
        }
        EXPECT_EQ(rec.sequence(), got);
        if (got % 997 == 0) expect_record(*rec, got);
        ++got;
    }
    writer.join();
    EXPECT_EQ(got, count);
}

// A ring of another record type, or a struct ring by the same name, is refused at open.
TEST_F(TableRingTest, ARingOfAnotherTypeIsRefused) {
    const std::string n = name();
    auto w = shmrec::ByteRing::writer(n, {"school.Other", 1}, 1024);
    try {
        (void)EnrolmentRing::reader(n);
        ADD_FAILURE() << "opened a ring of school.Other";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::type_mismatch) << e.what();
    }
}

}  // namespace
