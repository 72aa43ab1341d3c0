// TableBroadcast<T>: FlatBuffers tables to several readers, each record copied and verified, a
// record that fails verification skipped and reported, a lapped reader's loss counted.
#include <gtest/gtest.h>

#include <cstdint>
#include <cstring>
#include <string>
#include <vector>

#include "channel_test_support.hpp"
#include "enrolment.shmrec.hpp"
#include "shmrec/table_broadcast.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using EnrolmentBroadcast = shmrec::TableBroadcast<school::Enrolment>;

std::vector<std::uint8_t> enrolment(std::uint64_t k) {
    flatbuffers::FlatBufferBuilder fbb;
    school::Student s{};
    s.id = static_cast<std::int64_t>(k);
    s.name = "SecBug";
    fbb.Finish(school::CreateEnrolment(fbb, &s, fbb.CreateVectorOfStrings({"c" + std::to_string(k)}),
                                       fbb.CreateString("note " + std::to_string(k)), 1.5f));
    return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

class TableBroadcastTest : public shmrec_test::RegionFixture {};

TEST_F(TableBroadcastTest, EveryReaderGetsVerifiedCopiesAndLossesAreCounted) {
    const std::string n = name();
    auto w = EnrolmentBroadcast::writer(n, 4096);
    auto a = EnrolmentBroadcast::reader(n);
    auto b = EnrolmentBroadcast::reader(n);
    for (std::uint64_t k = 0; k < 5; ++k) ASSERT_EQ(w.try_write(enrolment(k)), WriteStatus::ok);
    for (std::uint64_t k = 0; k < 5; ++k) {
        auto e = a.try_read();
        ASSERT_TRUE(e) << to_string(e.status());
        EXPECT_EQ(e.sequence(), k);
        EXPECT_EQ(e->student()->id, static_cast<std::int64_t>(k));
        EXPECT_EQ(e->note()->str(), "note " + std::to_string(k));
        EXPECT_EQ(e->courses()->Get(0)->str(), "c" + std::to_string(k));
    }
    EXPECT_EQ(a.try_read().status(), ReadStatus::empty);
    // b fell behind by far more than the 4 KiB hold: it reads the rest and counts the loss.
    for (std::uint64_t k = 5; k < 1000; ++k) ASSERT_EQ(w.try_write(enrolment(k)), WriteStatus::ok);
    std::uint64_t last = 0;
    while (auto e = b.try_read()) last = static_cast<std::uint64_t>(e->student()->id);
    EXPECT_EQ(last, 999u);
    EXPECT_EQ(b.received() + b.lost(), 1000u);
    EXPECT_GT(b.lost(), 0u);
}

TEST_F(TableBroadcastTest, ARecordThatFailsVerificationIsSkippedAndReported) {
    const std::string n = name();
    auto w = EnrolmentBroadcast::writer(n, 4096);
    auto r = EnrolmentBroadcast::reader(n);
    auto bad = enrolment(1);
    const std::uint32_t beyond = 1u << 20;
    std::memcpy(bad.data(), &beyond, sizeof beyond);  // root offset past the end
    ASSERT_EQ(w.try_write(bad), WriteStatus::ok);
    ASSERT_EQ(w.try_write(enrolment(2)), WriteStatus::ok);
    EXPECT_EQ(r.try_read().status(), ReadStatus::corrupt);
    EXPECT_EQ(r.rejected(), 1u);
    EXPECT_EQ(r.last_rejection().sequence, 0u);
    auto e = r.try_read();
    ASSERT_TRUE(e) << to_string(e.status());
    EXPECT_EQ(e->student()->id, 2);
}

}  // namespace
