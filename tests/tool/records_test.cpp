// End-to-end tests of the verbs that read and write records: tail, stat, record, replay. The
// built `shmrec` binary (SHMREC_TOOL) runs as a real process against regions written here by
// typed writers; a follower (-f) runs as a ChildProcess whose stdout is read line by line.
// Every wait is bounded.
#include <gtest/gtest.h>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <regex>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>
#include <shmrec/shmrec.hpp>

#include "child_process.hpp"
#include "student.shmrec.hpp"
#include "test_names.hpp"
#include "tool_runner.hpp"

namespace {

using namespace std::chrono_literals;
using json = nlohmann::json;
using shmrec_test::ChildProcess;
using shmrec_tool_test::RunResult;
using shmrec_tool_test::shmrec;
using Clock = std::chrono::steady_clock;

constexpr std::int64_t first_id = 99041232;

school::Student student(std::int64_t id) {
    school::Student s{};
    s.id = id;
    s.name = "SecBug";
    return s;
}

std::string student_json(std::int64_t id) {
    return "{\"id\":" + std::to_string(id) + ",\"name\":\"SecBug\"}";
}

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::size_t at = 0;
    while (at < text.size()) {
        const auto nl = text.find('\n', at);
        if (nl == std::string::npos) {
            lines.push_back(text.substr(at));
            break;
        }
        lines.push_back(text.substr(at, nl - at));
        at = nl + 1;
    }
    return lines;
}

std::int64_t id_of(const std::string& line) { return json::parse(line).at("id").get<std::int64_t>(); }

bool contains(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
}

// Seconds the tool says a replay took ("... in 0.52 s; closed it").
std::optional<double> replay_seconds(const std::string& err) {
    std::smatch m;
    if (!std::regex_search(err, m, std::regex(R"(replayed \d+ of \d+ records into .* in ([0-9.]+) s)"))) {
        return std::nullopt;
    }
    return std::stod(m[1]);
}

// Waits (bounded) until `name` has at least `n` attached readers.
bool wait_for_readers(const std::string& name, std::uint32_t n, std::chrono::milliseconds limit = 10s) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        try {
            if (shmrec::inspect_region(shmrec::Location::memory(name)).readers >= n) return true;
        } catch (const shmrec::Error&) {
        }
        std::this_thread::sleep_for(10ms);
    }
    return false;
}

// Writes students from, from + 1, ... every `period` on its own thread until stopped.
template <class Writer>
class Pacer {
public:
    Pacer(Writer& writer, std::chrono::microseconds period, std::int64_t from = first_id) {
        thread_ = std::thread([this, &writer, period, from] {
            for (std::int64_t i = 0; !stop_.load(); ++i) {
                (void)writer.try_write(student(from + i));
                written_.store(i + 1);
                std::this_thread::sleep_for(period);
            }
        });
    }
    ~Pacer() { stop(); }
    void stop() {
        stop_.store(true);
        if (thread_.joinable()) thread_.join();
    }
    std::int64_t written() const { return written_.load(); }

private:
    std::atomic<bool> stop_{false};
    std::atomic<std::int64_t> written_{0};
    std::thread thread_;
};

class ToolRecords : public shmrec_test::RegionFixture {
protected:
    shmrec_test::TempDir dir_;
};

// ---- tail ------------------------------------------------------------------------------------

TEST_F(ToolRecords, TailCellPrintsItsLatestValueDecoded) {
    const std::string n = name();
    auto writer = shmrec::Cell<school::Student>::writer(n);
    ASSERT_EQ(writer.try_write(student(first_id)), shmrec::WriteStatus::ok);
    const RunResult r = shmrec({"tail", n});
    ASSERT_EQ(r.code(), 0) << r.describe();
    EXPECT_EQ(r.out, "{\"id\":99041232,\"name\":\"SecBug\"}\n") << r.describe();
}

TEST_F(ToolRecords, TailFollowsACellWhileItsWriterWrites) {
    const std::string n = name();
    auto writer = shmrec::Cell<school::Student>::writer(n);
    ASSERT_EQ(writer.try_write(student(first_id)), shmrec::WriteStatus::ok);
    ChildProcess tail(SHMREC_TOOL, {"tail", "-f", "--max", "4", n});
    ASSERT_EQ(tail.read_line(10s).value_or(""), student_json(first_id));
    Pacer pacer(writer, 20ms, first_id + 1);
    std::int64_t last = first_id;
    for (int i = 0; i < 3; ++i) {
        const auto line = tail.read_line(10s);
        ASSERT_TRUE(line.has_value()) << "no change seen";
        const auto id = id_of(*line);
        EXPECT_GT(id, last) << *line;  // each change, newer than the one before
        EXPECT_EQ(*line, student_json(id));
        last = id;
    }
    EXPECT_EQ(tail.wait_exit(10s), shmrec_test::ExitStatus::code_of(0));
}

TEST_F(ToolRecords, TailNPrintsTheLastNRecordsOfABroadcast) {
    const std::string n = name();
    auto writer = shmrec::Broadcast<school::Student>::writer(n, 64);
    for (int i = 0; i < 20; ++i) ASSERT_EQ(writer.try_write(student(first_id + i)), shmrec::WriteStatus::ok);
    const RunResult r = shmrec({"tail", "-n", "5", n});
    ASSERT_EQ(r.code(), 0) << r.describe();
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 5u) << r.describe();
    for (int i = 0; i < 5; ++i) EXPECT_EQ(lines[static_cast<std::size_t>(i)], student_json(first_id + 15 + i));

    // --positions: each record's position in the channel (0-based), around the record.
    const RunResult p = shmrec({"tail", "-n", "2", "--positions", n});
    ASSERT_EQ(p.code(), 0) << p.describe();
    EXPECT_EQ(p.out, "{\"position\":18,\"record\":" + student_json(first_id + 18) + "}\n" +
                         "{\"position\":19,\"record\":" + student_json(first_id + 19) + "}\n");
}

TEST_F(ToolRecords, TailHexPrintsARecordsBytes) {
    const std::string n = name();
    auto writer = shmrec::Cell<school::Student>::writer(n);
    ASSERT_EQ(writer.try_write(student(first_id)), shmrec::WriteStatus::ok);
    const RunResult r = shmrec({"tail", "--hex", n});
    ASSERT_EQ(r.code(), 0) << r.describe();
    // id 99041232 = 0x05e73fd0, little endian; then "SecBug" and NULs to 20 bytes; padding.
    std::string expected = "{\"hex\":\"d03fe70500000000" "536563427567";
    expected += std::string(2 * (sizeof(school::Student) - 8 - 6), '0') + "\"}\n";
    EXPECT_EQ(r.out, expected) << r.describe();
}

TEST_F(ToolRecords, TailFollowsABroadcastAsAnOrdinaryReader) {
    const std::string n = name();
    auto writer = shmrec::Broadcast<school::Student>::writer(n, 1024);
    ChildProcess tail(SHMREC_TOOL, {"tail", "-f", "-n", "0", "--max", "20", n});
    ASSERT_TRUE(wait_for_readers(n, 1));
    Pacer pacer(writer, 2ms);
    std::vector<std::string> lines;
    for (int i = 0; i < 20; ++i) {
        const auto line = tail.read_line(10s);
        ASSERT_TRUE(line.has_value()) << "after " << i << " lines";
        lines.push_back(*line);
    }
    EXPECT_EQ(tail.wait_exit(10s), shmrec_test::ExitStatus::code_of(0));
    // Consecutive records: a broadcast reader sees every one (1024 slots, no lap at 500/s).
    const auto first = id_of(lines[0]);
    for (std::size_t i = 0; i < lines.size(); ++i) {
        EXPECT_EQ(lines[i], student_json(first + static_cast<std::int64_t>(i)));
    }
}

TEST_F(ToolRecords, TailObservesARingWithoutStealingFromItsConsumer) {
    const std::string n = name();
    constexpr std::int64_t total = 300;
    auto writer = shmrec::Ring<school::Student>::writer(n, 1024);
    auto consumer = shmrec::Ring<school::Student>::reader(n);
    ChildProcess tail(SHMREC_TOOL, {"tail", "-f", "--max", "5", n});
    // The observer holds no role, so nothing tells us it is attached: give it a moment, then
    // write slowly enough for it to see records pass.
    std::this_thread::sleep_for(300ms);
    std::thread produce([&] {
        for (std::int64_t i = 0; i < total; ++i) {
            (void)writer.write(student(first_id + i), 5s);
            std::this_thread::sleep_for(2ms);
        }
    });
    std::vector<std::int64_t> consumed;
    const auto deadline = Clock::now() + 20s;
    while (static_cast<std::int64_t>(consumed.size()) < total && Clock::now() < deadline) {
        school::Student s{};
        if (consumer.read(s, 100ms) == shmrec::ReadStatus::ok) consumed.push_back(s.id);
    }
    produce.join();
    // The consumer got every record, in order: the observer took none.
    ASSERT_EQ(consumed.size(), static_cast<std::size_t>(total));
    for (std::int64_t i = 0; i < total; ++i) EXPECT_EQ(consumed[static_cast<std::size_t>(i)], first_id + i);
    // And the observer saw records pass, decoded.
    const auto& lines = tail.read_all(10s);
    ASSERT_EQ(lines.size(), 5u);
    for (const auto& line : lines) EXPECT_EQ(line, student_json(id_of(line)));
    EXPECT_EQ(tail.wait_exit(10s), shmrec_test::ExitStatus::code_of(0));
}

TEST_F(ToolRecords, TailOnAMissingNameExitsThreeNamingTheNearest) {
    const std::string n = name();
    auto writer = shmrec::Cell<school::Student>::writer(n);
    const RunResult r = shmrec({"tail", n + "x"});
    EXPECT_EQ(r.code(), 3) << r.describe();
    EXPECT_TRUE(contains(r.err, n)) << r.describe();
}

TEST_F(ToolRecords, CtrlCEndsTailFollowCleanly) {
    const std::string n = name();
    auto writer = shmrec::Cell<school::Student>::writer(n);
    ASSERT_EQ(writer.try_write(student(first_id)), shmrec::WriteStatus::ok);
    ChildProcess tail(SHMREC_TOOL, {"tail", "-f", n});
    ASSERT_EQ(tail.read_line(10s).value_or(""), student_json(first_id));
    ASSERT_TRUE(tail.running());
    tail.signal(SIGINT);
    EXPECT_EQ(tail.wait_exit(5s), shmrec_test::ExitStatus::code_of(0));
}

// ---- record, replay, tail --file ---------------------------------------------------------------

// Records `count` students written every `gap` by a broadcast writer; returns the file.
std::string record_broadcast(const std::string& region, const std::string& file, int count,
                             std::chrono::milliseconds gap) {
    auto writer = shmrec::Broadcast<school::Student>::writer(region, 256);
    ChildProcess record(SHMREC_TOOL, {"record", region, "-o", file, "-n", std::to_string(count)});
    EXPECT_TRUE(wait_for_readers(region, 1));
    for (int i = 0; i < count; ++i) {
        EXPECT_EQ(writer.try_write(student(first_id + i)), shmrec::WriteStatus::ok);
        std::this_thread::sleep_for(gap);
    }
    EXPECT_EQ(record.wait_exit(20s), shmrec_test::ExitStatus::code_of(0));
    return file;
}

TEST_F(ToolRecords, RecordThenReplayThenTailGivesBackTheSameRecords) {
    const std::string source = name("source");
    const std::string file = dir_.file("students.shmrec");
    record_broadcast(source, file, 10, 50ms);

    // The recording itself, as tail reads it.
    const RunResult recorded = shmrec({"tail", "--file", file, "-n", "100"});
    ASSERT_EQ(recorded.code(), 0) << recorded.describe();
    const auto lines = lines_of(recorded.out);
    ASSERT_EQ(lines.size(), 10u) << recorded.describe();
    for (int i = 0; i < 10; ++i) EXPECT_EQ(lines[static_cast<std::size_t>(i)], student_json(first_id + i));

    // As fast as possible: much faster than the ~450 ms the records took.
    const std::string fast = name("fast");
    const RunResult replay_fast = shmrec({"replay", file, fast, "--rate", "0"});
    ASSERT_EQ(replay_fast.code(), 0) << replay_fast.describe();
    const auto fast_s = replay_seconds(replay_fast.err);
    ASSERT_TRUE(fast_s.has_value()) << replay_fast.describe();
    EXPECT_LT(*fast_s, 0.2) << replay_fast.describe();
    const RunResult tail_fast = shmrec({"tail", fast, "-n", "100"});
    ASSERT_EQ(tail_fast.code(), 0) << tail_fast.describe();
    EXPECT_EQ(tail_fast.out, recorded.out);

    // At the recorded pace: about the 450 ms between the first record and the last.
    const std::string paced = name("paced");
    const RunResult replay_paced = shmrec({"replay", file, paced, "--rate", "1"});
    ASSERT_EQ(replay_paced.code(), 0) << replay_paced.describe();
    const auto paced_s = replay_seconds(replay_paced.err);
    ASSERT_TRUE(paced_s.has_value()) << replay_paced.describe();
    EXPECT_GT(*paced_s, 0.35) << replay_paced.describe();
    EXPECT_LT(*paced_s, 5.0) << replay_paced.describe();
    EXPECT_GT(*paced_s, *fast_s);
    const RunResult tail_paced = shmrec({"tail", paced, "-n", "100"});
    EXPECT_EQ(tail_paced.out, recorded.out) << tail_paced.describe();

    // The replayed region is self-describing again: info shows the recorded record type.
    const RunResult info = shmrec({"info", paced, "--json"});
    ASSERT_EQ(info.code(), 0) << info.describe();
    EXPECT_EQ(json::parse(info.out).at("record").at("name"), "school.Student");
}

// A recorder the writer laps (stopped with SIGSTOP while 200 records go through 64 slots) loses
// records, and the recording's positions show where: the records it kept are the newest.
TEST_F(ToolRecords, ALappedRecorderKeepsRecordingAndItsPositionsShowTheLoss) {
    const std::string n = name();
    const std::string file = dir_.file("lapped.shmrec");
    auto writer = shmrec::Broadcast<school::Student>::writer(n, 64);
    ChildProcess record(SHMREC_TOOL, {"record", n, "-o", file, "--duration", "2"});
    ASSERT_TRUE(wait_for_readers(n, 1));
    record.signal(SIGSTOP);
    ASSERT_TRUE(record.wait_stopped(5s));
    for (int i = 0; i < 200; ++i) ASSERT_EQ(writer.try_write(student(first_id + i)), shmrec::WriteStatus::ok);
    record.signal(SIGCONT);
    ASSERT_EQ(record.wait_exit(20s), shmrec_test::ExitStatus::code_of(0));

    const RunResult r = shmrec({"tail", "--file", file, "-n", "1000", "--positions"});
    ASSERT_EQ(r.code(), 0) << r.describe();
    const auto lines = lines_of(r.out);
    ASSERT_FALSE(lines.empty()) << r.describe();
    EXPECT_LE(lines.size(), 64u) << r.describe();  // at most what the ring still held
    std::uint64_t previous = 0;
    for (std::size_t i = 0; i < lines.size(); ++i) {
        const json j = json::parse(lines[i]);
        const auto position = j.at("position").get<std::uint64_t>();
        EXPECT_EQ(j.at("record").at("id").get<std::int64_t>(), first_id + static_cast<std::int64_t>(position));
        if (i > 0) {
            EXPECT_GT(position, previous);
        }
        previous = position;
    }
    EXPECT_EQ(previous, 199u);  // it caught up with the newest
    EXPECT_GT(json::parse(lines[0]).at("position").get<std::uint64_t>(), 0u);  // and lost the first
}

TEST_F(ToolRecords, RecordACellKeepsEachChange) {
    const std::string n = name();
    const std::string file = dir_.file("cell.shmrec");
    auto writer = shmrec::Cell<school::Student>::writer(n);
    ChildProcess record(SHMREC_TOOL, {"record", n, "-o", file, "-n", "3"});
    ASSERT_TRUE(wait_for_readers(n, 1));
    for (int i = 0; i < 3; ++i) {
        ASSERT_EQ(writer.try_write(student(first_id + i)), shmrec::WriteStatus::ok);
        std::this_thread::sleep_for(150ms);  // each change long enough for the recorder to see
    }
    ASSERT_EQ(record.wait_exit(20s), shmrec_test::ExitStatus::code_of(0));
    const RunResult r = shmrec({"tail", "--file", file});
    ASSERT_EQ(r.code(), 0) << r.describe();
    EXPECT_EQ(r.out, student_json(first_id) + "\n" + student_json(first_id + 1) + "\n" +
                         student_json(first_id + 2) + "\n");
    // Replayed as a cell (the recorded kind), its latest value is the last change.
    const std::string replayed = name("replayed");
    ASSERT_EQ(shmrec({"replay", file, replayed, "--rate", "max"}).code(), 0);
    EXPECT_EQ(shmrec({"tail", replayed}).out, student_json(first_id + 2) + "\n");
}

TEST_F(ToolRecords, ATruncatedRecordingIsReadToItsLastWholeEntry) {
    const std::string file = record_broadcast(name(), dir_.file("cut.shmrec"), 4, 5ms);
    const auto size = std::filesystem::file_size(file);
    std::filesystem::resize_file(file, size - 3);  // a partial last entry
    const RunResult r = shmrec({"tail", "--file", file});
    ASSERT_EQ(r.code(), 0) << r.describe();
    EXPECT_EQ(lines_of(r.out).size(), 3u) << r.describe();
    EXPECT_TRUE(contains(r.err, "partial entry")) << r.describe();

    // Cut inside the header: refused with a message, no output.
    std::filesystem::resize_file(file, 100);
    const RunResult cut = shmrec({"tail", "--file", file});
    EXPECT_EQ(cut.code(), 1) << cut.describe();
    EXPECT_TRUE(contains(cut.err, "truncated")) << cut.describe();
    EXPECT_EQ(cut.out, "");
}

TEST_F(ToolRecords, ReplayRefusesGarbage) {
    const std::string file = dir_.file("garbage");
    {
        std::ofstream out(file, std::ios::binary);
        out << std::string(4096, 'Q');
    }
    const RunResult r = shmrec({"replay", file, name()});
    EXPECT_EQ(r.code(), 1) << r.describe();
    EXPECT_TRUE(contains(r.err, "not a recording")) << r.describe();

    const RunResult missing = shmrec({"replay", dir_.file("missing.shmrec"), name()});
    EXPECT_EQ(missing.code(), 3) << missing.describe();
}

// ---- stat --------------------------------------------------------------------------------------

TEST_F(ToolRecords, StatJsonReportsAPlausibleRateWhileAWriterWrites) {
    const std::string n = name();
    auto writer = shmrec::Broadcast<school::Student>::writer(n, 1024);
    auto reader = shmrec::Broadcast<school::Student>::reader(n);
    Pacer pacer(writer, 1ms);  // at most 1000 records/s
    const RunResult r = shmrec({"stat", n, "--json", "--count", "2", "--interval", "0.5"});
    pacer.stop();
    ASSERT_EQ(r.code(), 0) << r.describe();
    const auto lines = lines_of(r.out);
    ASSERT_EQ(lines.size(), 2u) << r.describe();
    std::uint64_t previous_written = 0;
    for (const auto& line : lines) {
        const json j = json::parse(line);
        EXPECT_EQ(j.at("kind"), "broadcast");
        EXPECT_EQ(j.at("record"), "school.Student");
        const double rate = j.at("records_per_s").get<double>();
        EXPECT_GT(rate, 20.0) << line;    // a loaded machine still writes dozens per second
        EXPECT_LT(rate, 1200.0) << line;  // never more than the pacer can write
        EXPECT_DOUBLE_EQ(j.at("bytes_per_s").get<double>(), rate * sizeof(school::Student));
        EXPECT_TRUE(j.at("writer_alive").get<bool>());
        ASSERT_EQ(j.at("readers").size(), 1u) << line;  // our reader, which reads nothing
        EXPECT_GT(j.at("readers")[0].at("lag").get<std::uint64_t>(), 0u) << line;
        EXPECT_GT(j.at("written").get<std::uint64_t>(), previous_written);
        previous_written = j.at("written").get<std::uint64_t>();
    }
}

TEST_F(ToolRecords, CtrlCEndsStatCleanly) {
    const std::string n = name();
    auto writer = shmrec::Broadcast<school::Student>::writer(n, 64);
    ChildProcess stat(SHMREC_TOOL, {"stat", n, "--json", "--interval", "0.1"});
    ASSERT_TRUE(stat.read_line(10s).has_value());
    stat.signal(SIGINT);
    EXPECT_EQ(stat.wait_exit(5s), shmrec_test::ExitStatus::code_of(0));
}

}  // namespace
