// `shmrec tail` on a byte ring of table records (TableRing<school::Enrolment>): the built tool
// runs as a real process against a ring written and consumed here; its lines are parsed as
// JSON and compared with what was written. Every wait is bounded.
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <shmrec/shmrec.hpp>
#include <shmrec/table_ring.hpp>

#include "child_process.hpp"
#include "enrolment.shmrec.hpp"
#include "test_names.hpp"
#include "tool_runner.hpp"

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using shmrec_test::ChildProcess;
using shmrec_tool_test::RunResult;
using shmrec_tool_test::shmrec;
using EnrolmentRing = shmrec::TableRing<school::Enrolment>;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t first_id = 99041232;

// Record k: a student, k % 4 courses, a note and a grade, all depending on k.
std::vector<std::uint8_t> enrolment(std::uint64_t k) {
    flatbuffers::FlatBufferBuilder fbb;
    school::Student s{};
    s.id = first_id + static_cast<std::int64_t>(k);
    s.name = "SecBug";
    std::vector<std::string> courses;
    for (std::uint64_t i = 0; i < k % 4; ++i) courses.push_back("course-" + std::to_string(k + i));
    const auto list = fbb.CreateVectorOfStrings(courses);
    fbb.Finish(school::CreateEnrolment(fbb, &s, list, fbb.CreateString("note " + std::to_string(k)),
                                       static_cast<float>(k % 8) / 4));
    return {fbb.GetBufferPointer(), fbb.GetBufferPointer() + fbb.GetSize()};
}

// The line tail prints for record k is that record, field by field.
void expect_enrolment(const std::string& line, std::uint64_t k) {
    SCOPED_TRACE(line);
    const json j = json::parse(line);  // throws (fails the test) if it is not JSON
    ASSERT_TRUE(j.is_object());
    EXPECT_EQ(j.at("student").at("id").get<std::int64_t>(), first_id + static_cast<std::int64_t>(k));
    std::vector<std::string> courses;
    for (std::uint64_t i = 0; i < k % 4; ++i) courses.push_back("course-" + std::to_string(k + i));
    EXPECT_EQ(j.at("courses").get<std::vector<std::string>>(), courses);
    EXPECT_EQ(j.at("note").get<std::string>(), "note " + std::to_string(k));
    EXPECT_DOUBLE_EQ(j.at("grade").get<double>(), static_cast<double>(k % 8) / 4);
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto nl = text.find('\n', at);
        lines.push_back(text.substr(at, nl == std::string::npos ? std::string::npos : nl - at));
        if (nl == std::string::npos) break;
        at = nl + 1;
    }
    return lines;
}

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

class ToolTables : public shmrec_test::RegionFixture {};

TEST_F(ToolTables, TailPrintsTheTableRecordsTheConsumerHasNotTakenAsJson) {
    const std::string n = name();
    auto writer = EnrolmentRing::writer(n, 4096);
    auto reader = EnrolmentRing::reader(n);
    for (std::uint64_t k = 0; k < 6; ++k) ASSERT_EQ(writer.try_write(enrolment(k)), shmrec::WriteStatus::ok);
    ASSERT_TRUE(reader.try_peek());  // releases record 0 at once: consumed

    const RunResult all = shmrec({"tail", n});
    ASSERT_EQ(all.code(), 0) << all.describe();
    const auto lines = lines_of(all.out);
    ASSERT_EQ(lines.size(), 5u) << all.describe();
    for (std::uint64_t k = 1; k < 6; ++k) expect_enrolment(lines[k - 1], k);

    const RunResult last = shmrec({"tail", "-n", "2", "--positions", n});
    ASSERT_EQ(last.code(), 0) << last.describe();
    const auto two = lines_of(last.out);
    ASSERT_EQ(two.size(), 2u) << last.describe();
    for (std::uint64_t i = 0; i < 2; ++i) {
        const json j = json::parse(two[i]);
        EXPECT_EQ(j.at("position").get<std::uint64_t>(), 4 + i);  // the sequence number
        expect_enrolment(j.at("record").dump(), 4 + i);
    }

    // --hex: the record's bytes as written.
    const RunResult hex = shmrec({"tail", "-n", "1", "--hex", n});
    ASSERT_EQ(hex.code(), 0) << hex.describe();
    std::string expected = "{\"hex\":\"";
    for (const std::uint8_t b : enrolment(5)) {
        static constexpr char digits[] = "0123456789abcdef";
        expected += digits[b >> 4];
        expected += digits[b & 15];
    }
    EXPECT_EQ(hex.out, expected + "\"}\n");

    // tail took nothing: the consumer still reads 1..5.
    for (std::uint64_t k = 1; k < 6; ++k) {
        auto r = reader.try_peek();
        ASSERT_TRUE(r) << k;
        EXPECT_EQ(r->student()->id, first_id + static_cast<std::int64_t>(k));
    }
}

TEST_F(ToolTables, ARecordThatFailsVerificationIsReportedAndTailGoesOn) {
    const std::string n = name();
    auto writer = EnrolmentRing::writer(n, 4096);
    auto reader = EnrolmentRing::reader(n);
    std::vector<std::uint8_t> bad = enrolment(1);
    const std::uint32_t far = 1u << 20;
    std::memcpy(bad.data(), &far, sizeof far);  // the root offset points past the end
    ASSERT_EQ(writer.try_write(enrolment(0)), shmrec::WriteStatus::ok);
    ASSERT_EQ(writer.try_write(bad), shmrec::WriteStatus::ok);
    ASSERT_EQ(writer.try_write(std::span<const std::uint8_t>(bad.data(), 3)), shmrec::WriteStatus::ok);
    ASSERT_EQ(writer.try_write(enrolment(3)), shmrec::WriteStatus::ok);
    const RunResult r = shmrec({"tail", n});
    ASSERT_EQ(r.code(), 0) << r.describe();
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.describe();
    expect_enrolment(lines[0], 0);
    expect_enrolment(lines[1], 3);
    EXPECT_TRUE(contains(r.err, "message 1 (")) << r.err;
    EXPECT_TRUE(contains(r.err, "not a valid school.Enrolment")) << r.err;
    EXPECT_TRUE(contains(r.err, "message 2 (3 bytes) not shown")) << r.err;
}

TEST_F(ToolTables, TailFollowsARingAsItsConsumerTakesEveryRecord) {
    const std::string n = name();
    constexpr std::uint64_t most = 10'000;  // 2 ms apart: at most 20 s
    auto writer = EnrolmentRing::writer(n, 1 << 16);
    auto reader = EnrolmentRing::reader(n);
    ChildProcess tail(SHMREC_TOOL, {"tail", "-f", "--start", "newest", "--max", "5", n});
    // The observer holds no role, so nothing tells us when it is attached: write slowly, and
    // until it has printed its 5 records and ended (a fixed number of records raced a tool
    // that started late, under load).
    std::atomic<bool> tail_done{false};
    std::uint64_t produced = 0;
    std::thread produce([&] {
        for (; produced < most && !tail_done.load(); ++produced) {
            if (writer.write(enrolment(produced), 5s) != shmrec::WriteStatus::ok) break;
            std::this_thread::sleep_for(2ms);
        }
        writer.close();
    });
    std::uint64_t consumed = 0;
    std::thread consume([&] {
        for (;;) {
            auto r = reader.peek(10s);
            if (!r) return;  // closed once everything was taken
            EXPECT_EQ(r->student()->id, first_id + static_cast<std::int64_t>(consumed));
            ++consumed;
        }
    });
    const auto& lines = tail.read_all(30s);
    tail_done = true;
    produce.join();
    consume.join();
    EXPECT_EQ(consumed, produced);
    ASSERT_EQ(lines.size(), 5u);
    std::int64_t previous = -1;
    for (const auto& line : lines) {
        const auto id = json::parse(line).at("student").at("id").get<std::int64_t>();
        const auto k = static_cast<std::uint64_t>(id - first_id);
        expect_enrolment(line, k);
        EXPECT_GT(static_cast<std::int64_t>(k), previous);
        previous = static_cast<std::int64_t>(k);
    }
    EXPECT_EQ(tail.wait_exit(10s), shmrec_test::ExitStatus::code_of(0));
}

TEST_F(ToolTables, TailOfAClosedRingPrintsItsRecordsThenSaysSo) {
    const std::string n = name();
    auto writer = EnrolmentRing::writer(n, 4096);
    auto reader = EnrolmentRing::reader(n);
    ASSERT_EQ(writer.try_write(enrolment(0)), shmrec::WriteStatus::ok);
    writer.close();
    const RunResult r = shmrec({"tail", "-f", n});
    ASSERT_EQ(r.code(), 0) << r.describe();
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 1u) << r.describe();
    expect_enrolment(lines[0], 0);
    EXPECT_TRUE(contains(r.err, "closed")) << r.err;
}

TEST_F(ToolTables, InfoDescribesAByteRingInBytesAndMessages) {
    const std::string n = name();
    auto writer = EnrolmentRing::writer(n, 4096);
    auto reader = EnrolmentRing::reader(n);
    for (std::uint64_t k = 0; k < 3; ++k) ASSERT_EQ(writer.try_write(enrolment(k)), shmrec::WriteStatus::ok);
    ASSERT_TRUE(reader.try_peek());
    const RunResult r = shmrec({"info", "--json", n});
    ASSERT_EQ(r.code(), 0) << r.describe();
    const json j = json::parse(r.out);
    EXPECT_EQ(j.at("record").at("name"), "school.Enrolment") << r.out;
    const RunResult text = shmrec({"info", n});
    ASSERT_EQ(text.code(), 0) << text.describe();
    EXPECT_TRUE(contains(text.out, "byte")) << text.out;
    EXPECT_TRUE(contains(text.out, "4096")) << text.out;
}

}  // namespace
