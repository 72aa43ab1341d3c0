// Cell<T> in one process: reading, writing, change tracking, fixed-size strings, and
// read(timeout)'s timeout, wake-up and close paths. The threaded tests double as the
// ThreadSanitizer target for the seqlock (build with -DSHMREC_SANITIZE=thread).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <thread>

#include "checked_record.hpp"
#include "printers.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/fixed_string.hpp"
#include "student.shmrec.hpp"
#include "test_names.hpp"
#include "test_records.shmrec.hpp"
#include "timing.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec_test::Checked;
using shmrec_test::Clock;
using shmrec_test::make_checked;
using shmrec_test::when_waiting;
using CheckedCell = shmrec::Cell<Checked>;
using StudentCell = shmrec::Cell<school::Student>;

class CellTest : public shmrec_test::RegionFixture {};

TEST_F(CellTest, ReadingAnEmptyCellReturnsEmpty) {
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    auto reader = CheckedCell::reader(n);
    Checked out = make_checked(99);
    EXPECT_EQ(reader.try_read(out), ReadStatus::empty);
    EXPECT_EQ(out.seq, 99u) << "an empty read leaves the output alone";
    EXPECT_FALSE(reader.try_read().has_value());
    EXPECT_FALSE(reader.has_update());
    EXPECT_EQ(reader.sequence(), 0u);
    EXPECT_EQ(writer.written(), 0u);
}

TEST_F(CellTest, PublishedRecordReadsBackUnchanged) {
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    auto reader = CheckedCell::reader(n);
    ASSERT_EQ(writer.try_write(make_checked(1)), WriteStatus::ok);
    Checked out{};
    ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
    EXPECT_TRUE(shmrec_test::matches_seq(out));
    EXPECT_EQ(out.seq, 1u);
    EXPECT_EQ(reader.sequence(), 1u);

    // A record whose size is not a multiple of 8 (the payload is copied in words).
    const auto n2 = name();
    auto other_writer = shmrec::Cell<shmrec_test::Other>::writer(n2);
    auto other_reader = shmrec::Cell<shmrec_test::Other>::reader(n2);
    shmrec_test::Other o{};
    o.x = -123456;
    o.y = 321;
    ASSERT_EQ(other_writer.try_write(o), WriteStatus::ok);
    const auto back = other_reader.try_read();
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->x, -123456);
    EXPECT_EQ(back->y, 321);
}

TEST_F(CellTest, RecordPublishedBeforeTheReaderOpenedIsReadable) {
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    ASSERT_EQ(writer.try_write(make_checked(5)), WriteStatus::ok);
    auto reader = CheckedCell::reader(n);
    EXPECT_TRUE(reader.has_update());
    EXPECT_EQ(reader.try_read().value().seq, 5u);
}

TEST_F(CellTest, LatestPublishedRecordWins) {
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    auto reader = CheckedCell::reader(n);
    for (std::uint64_t i = 1; i <= 10; ++i) {
        ASSERT_EQ(writer.try_write(make_checked(i)), WriteStatus::ok);
    }
    Checked out{};
    ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
    EXPECT_EQ(out.seq, 10u);
    EXPECT_TRUE(shmrec_test::matches_seq(out));
    EXPECT_EQ(reader.sequence(), 10u);
    EXPECT_EQ(writer.written(), 10u);
    // Reading again gives the same record, now reported as unchanged.
    out = Checked{};
    ASSERT_EQ(reader.try_read(out), ReadStatus::unchanged);
    EXPECT_EQ(out.seq, 10u);
    EXPECT_TRUE(shmrec_test::matches_seq(out)) << "unchanged still copies the record";
    EXPECT_EQ(reader.sequence(), 10u);
    EXPECT_EQ(reader.try_read().value().seq, 10u) << "the optional form returns it too";
}

TEST_F(CellTest, HasUpdateAndSequenceFollowThePublishCount) {
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    auto reader = CheckedCell::reader(n);
    EXPECT_FALSE(reader.has_update());
    ASSERT_EQ(writer.try_write(make_checked(100)), WriteStatus::ok);
    EXPECT_TRUE(reader.has_update());
    EXPECT_EQ(reader.sequence(), 0u) << "sequence moves on read, not on publish";
    ASSERT_TRUE(reader.try_read().has_value());
    EXPECT_FALSE(reader.has_update());
    EXPECT_EQ(reader.sequence(), 1u);
    ASSERT_EQ(writer.try_write(make_checked(200)), WriteStatus::ok);
    ASSERT_EQ(writer.try_write(make_checked(300)), WriteStatus::ok);
    EXPECT_TRUE(reader.has_update());
    EXPECT_EQ(reader.try_read().value().seq, 300u);
    EXPECT_EQ(reader.sequence(), 3u) << "the publish number, not the record's contents";
    EXPECT_FALSE(reader.has_update());
}

TEST_F(CellTest, ReadersAreIndependentOfEachOther) {
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    auto first = CheckedCell::reader(n);
    auto second = CheckedCell::reader(n);
    ASSERT_EQ(writer.try_write(make_checked(1)), WriteStatus::ok);
    ASSERT_TRUE(first.try_read().has_value());
    EXPECT_FALSE(first.has_update());
    EXPECT_TRUE(second.has_update()) << "one reader's read does not consume another's update";
}

TEST_F(CellTest, StringFieldIsTruncatedToLeaveRoomForTheNul) {
    school::Student s{};
    EXPECT_TRUE(shmrec::set_string(s.name, "Ada"));
    EXPECT_EQ(shmrec::get_string(s.name), "Ada");
    EXPECT_EQ(s.name[3], 0);

    const std::string nineteen(19, 'n');
    EXPECT_TRUE(shmrec::set_string(s.name, nineteen)) << "19 characters fit a 20-byte field";
    EXPECT_EQ(shmrec::get_string(s.name), nineteen);
    EXPECT_EQ(s.name[19], 0);

    EXPECT_FALSE(shmrec::set_string(s.name, std::string(20, 't'))) << "reports truncation";
    EXPECT_EQ(shmrec::get_string(s.name), std::string(19, 't'));
    EXPECT_EQ(s.name[19], 0);
    EXPECT_FALSE(shmrec::set_string(s.name, std::string(500, 'l')));
    EXPECT_EQ(shmrec::get_string(s.name).size(), 19u);

    // A shorter value zero-fills the rest: no stale bytes of the previous value.
    EXPECT_TRUE(shmrec::set_string(s.name, "Bo"));
    for (std::size_t i = 2; i < s.name.size(); ++i) EXPECT_EQ(s.name[i], 0) << i;
    EXPECT_TRUE(shmrec::set_string(s.name, ""));
    EXPECT_EQ(shmrec::get_string(s.name), "");
    EXPECT_EQ(shmrec::to_string(s.name), "");
}

TEST_F(CellTest, StringFieldWithoutNulFromAPeerReadsAllItsBytes) {
    school::Student s{};
    s.name.fill('z');  // a peer that wrote no NUL
    EXPECT_EQ(shmrec::get_string(s.name).size(), 20u);
    EXPECT_EQ(shmrec::to_string(s.name), std::string(20, 'z'));
    // An embedded NUL ends the text.
    shmrec::set_string(s.name, std::string_view("ab\0cd", 5));
    EXPECT_EQ(shmrec::get_string(s.name), "ab");
}

TEST_F(CellTest, StringSurvivesTheRoundTripThroughACell) {
    const auto n = name();
    auto writer = StudentCell::writer(n);
    auto reader = StudentCell::reader(n);
    school::Student s{};
    s.id = 7;
    shmrec::set_string(s.name, "Grace Brewster Hopper");  // 21 characters
    ASSERT_EQ(writer.try_write(s), WriteStatus::ok);
    const auto back = reader.try_read().value();
    EXPECT_EQ(back.id, 7);
    EXPECT_EQ(shmrec::to_string(back.name), "Grace Brewster Hopp");  // 19 of 21
}

TEST_F(CellTest, ReadWithTimeoutTimesOutAfterTheTimeout) {
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    auto reader = CheckedCell::reader(n);
    Checked out = make_checked(99);
    for (const auto timeout : {200ms, 30ms}) {
        SCOPED_TRACE(timeout.count());
        const auto start = Clock::now();
        EXPECT_EQ(reader.read(out, timeout), ReadStatus::timeout);
        const auto elapsed = Clock::now() - start;
        EXPECT_GE(elapsed, timeout);
        EXPECT_LT(elapsed, timeout + 1s);
    }
    const auto start = Clock::now();
    EXPECT_EQ(reader.read(out, 0ms), ReadStatus::timeout);
    EXPECT_LT(Clock::now() - start, 100ms) << "a zero timeout polls once";
    EXPECT_EQ(out.seq, 99u) << "a timed-out read leaves the output alone";
}

TEST_F(CellTest, ReadWithTimeoutReturnsAtOnceWhenARecordIsAlreadyNew) {
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    auto reader = CheckedCell::reader(n);
    ASSERT_EQ(writer.try_write(make_checked(1)), WriteStatus::ok);
    Checked out{};
    const auto start = Clock::now();
    EXPECT_EQ(reader.read(out, 5s), ReadStatus::ok);
    EXPECT_LT(Clock::now() - start, 100ms);
    EXPECT_EQ(out.seq, 1u);
    EXPECT_TRUE(shmrec_test::matches_seq(out));
    EXPECT_EQ(reader.read(out, 10ms), ReadStatus::timeout) << "the read consumed the change";
    // A record read with try_read() counts as read too.
    ASSERT_EQ(writer.try_write(make_checked(2)), WriteStatus::ok);
    ASSERT_EQ(reader.try_read(out), ReadStatus::ok);
    EXPECT_EQ(reader.read(out, 10ms), ReadStatus::timeout) << "try_read consumed the change";
}

TEST_F(CellTest, ReadWithTimeoutWakesWhenAnotherThreadWrites) {
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    for (const auto strategy : {shmrec::WaitStrategy::futex, shmrec::WaitStrategy::spin_yield,
                                shmrec::WaitStrategy::busy_spin}) {
        SCOPED_TRACE(static_cast<int>(strategy));
        shmrec::WaitOptions options;
        options.strategy = strategy;
        options.liveness_interval = 10s;  // a missed wake-up would show as a 5 s timeout
        auto reader = CheckedCell::reader(n, shmrec::RegionOptions{}, options);
        Checked out{};
        if (writer.written() > 0) {
            ASSERT_EQ(reader.try_read(out), ReadStatus::ok) << "catch up with earlier records";
        }
        const std::uint64_t next = writer.written() + 1;
        std::thread publisher;
        if (strategy == shmrec::WaitStrategy::futex) {
            publisher = when_waiting(
                reader, [&writer, next] { (void)writer.try_write(make_checked(next)); });
        } else {
            // The spinning strategies never register on the board.
            publisher = std::thread([&writer, next] {
                std::this_thread::sleep_for(20ms);
                (void)writer.try_write(make_checked(next));
            });
        }
        const auto start = Clock::now();
        const auto status = reader.read(out, 5s);
        const auto elapsed = Clock::now() - start;
        publisher.join();
        EXPECT_EQ(status, ReadStatus::ok);
        EXPECT_LT(elapsed, 1s);
        EXPECT_EQ(out.seq, next);
        EXPECT_TRUE(shmrec_test::matches_seq(out));
        EXPECT_EQ(writer.written(), next);
        EXPECT_FALSE(shmrec_test::reader_waiting(reader.region())) << "the reader unregistered";
    }
}

TEST_F(CellTest, ReadWithTimeoutReturnsClosedAfterTheWriterCloses) {
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    auto reader = CheckedCell::reader(n);
    Checked out{};
    // Blocked reader: close wakes it.
    auto closer = when_waiting(reader, [&writer] { writer.close(); });
    const auto start = Clock::now();
    const auto status = reader.read(out, 5s);
    const auto elapsed = Clock::now() - start;
    closer.join();
    EXPECT_EQ(status, ReadStatus::closed);
    EXPECT_LT(elapsed, 1s);
    EXPECT_TRUE(reader.closed());
    EXPECT_TRUE(reader.writer_alive()) << "closed, but the handle still holds the writer role";
    // And again without blocking.
    EXPECT_EQ(reader.read(out, 5s), ReadStatus::closed);
    writer.close();  // idempotent
}

TEST_F(CellTest, RecordWrittenBeforeCloseIsStillNews) {
    const auto n = name();
    auto reader_writer = CheckedCell::writer(n);
    auto reader = CheckedCell::reader(n);
    ASSERT_EQ(reader_writer.try_write(make_checked(1)), WriteStatus::ok);
    reader_writer.close();
    Checked out{};
    EXPECT_EQ(reader.read(out, 1s), ReadStatus::ok);
    EXPECT_EQ(out.seq, 1u);
    EXPECT_EQ(reader.read(out, 1s), ReadStatus::closed);
}

TEST_F(CellTest, WriterReopenedWithOpenOrCreateContinuesTheCell) {
    const auto n = name();
    auto reader_of = [&] { return CheckedCell::reader(n); };
    {
        auto writer = CheckedCell::writer(n, shmrec::OpenMode::open_or_create);  // creates
        shmrec_test::keep_alive(n);  // Windows: the object outlives its writer
        EXPECT_EQ(writer.written(), 0u);
        ASSERT_EQ(writer.try_write(make_checked(1)), WriteStatus::ok);
        ASSERT_EQ(writer.try_write(make_checked(2)), WriteStatus::ok);
    }
    auto reader = reader_of();
    EXPECT_TRUE(reader.closed());
    EXPECT_EQ(reader.try_read().value().seq, 2u);
    {
        auto writer = CheckedCell::writer(n, shmrec::OpenMode::open_or_create);  // opens
        EXPECT_EQ(writer.written(), 2u);
        EXPECT_FALSE(reader.closed()) << "the new writer re-opened the cell";
        EXPECT_TRUE(reader.writer_alive());
        ASSERT_EQ(writer.try_write(make_checked(3)), WriteStatus::ok);
        Checked out{};
        ASSERT_EQ(reader.read(out, 1s), ReadStatus::ok);
        EXPECT_EQ(out.seq, 3u);
        EXPECT_EQ(reader.sequence(), 3u);
        ASSERT_EQ(reader.try_read(out), ReadStatus::unchanged);
        EXPECT_EQ(out.seq, 3u);
    }
    Checked out{};
    EXPECT_EQ(reader.read(out, 1s), ReadStatus::closed);
}

TEST_F(CellTest, MovedFromHandlesRefuseWithoutTouchingTheCell) {
    const auto n = name();
    auto first_writer = CheckedCell::writer(n);
    auto first_reader = CheckedCell::reader(n);
    auto writer = std::move(first_writer);
    auto reader = std::move(first_reader);
    // NOLINTBEGIN(bugprone-use-after-move): using the moved-from handles is the point.
    EXPECT_EQ(first_writer.try_write(make_checked(1)), WriteStatus::moved_from);
    EXPECT_EQ(first_writer.write(make_checked(1), 10ms), WriteStatus::moved_from);
    EXPECT_EQ(first_writer.written(), 0u);
    first_writer.close();  // nothing to close
    Checked out = make_checked(99);
    EXPECT_EQ(first_reader.try_read(out), ReadStatus::moved_from);
    EXPECT_EQ(first_reader.read(out, 10ms), ReadStatus::moved_from);
    EXPECT_EQ(out.seq, 99u) << "a refused read leaves the output alone";
    EXPECT_FALSE(first_reader.try_read().has_value());
    EXPECT_FALSE(first_reader.has_update());
    EXPECT_FALSE(first_reader.writer_alive());
    EXPECT_FALSE(first_reader.closed());
    // NOLINTEND(bugprone-use-after-move)

    // The handles they were moved to work, and the cell was neither written nor closed.
    EXPECT_FALSE(reader.closed()) << "closing a moved-from writer closed the cell";
    EXPECT_FALSE(reader.has_update());
    ASSERT_EQ(writer.try_write(make_checked(1)), WriteStatus::ok);
    EXPECT_EQ(writer.written(), 1u);
    ASSERT_EQ(reader.read(out, 1s), ReadStatus::ok);
    EXPECT_EQ(out.seq, 1u);
    EXPECT_TRUE(reader.writer_alive());
}

TEST_F(CellTest, ConcurrentReaderNeverSeesATornRecord) {
    const auto n = name();
    auto writer = CheckedCell::writer(n);
    auto reader = CheckedCell::reader(n);
    constexpr std::uint64_t count = 200'000;
    std::atomic<bool> go{false};
    std::atomic<std::uint64_t> refused{0};
    std::thread publisher([&] {
        while (!go.load()) std::this_thread::yield();
        for (std::uint64_t i = 1; i <= count; ++i) {
            if (writer.try_write(make_checked(i)) != WriteStatus::ok) ++refused;
        }
        writer.close();
    });
    go.store(true);
    std::uint64_t last = 0, distinct = 0, torn = 0, backwards = 0, contended = 0;
    std::uint64_t repeated_as_ok = 0, unchanged_but_new = 0;
    const auto give_up = Clock::now() + 30s;
    for (;;) {
        const bool was_closed = reader.closed();
        Checked out{};
        const auto r = reader.try_read(out);
        if (r == ReadStatus::ok || r == ReadStatus::unchanged) {
            if (!shmrec_test::intact(out)) ++torn;
            if (out.seq < last) ++backwards;
            if (r == ReadStatus::ok && out.seq == last) ++repeated_as_ok;
            if (r == ReadStatus::unchanged && out.seq != last) ++unchanged_but_new;
            if (out.seq > last) ++distinct;
            last = std::max(last, out.seq);
        } else if (r == ReadStatus::contended) {
            ++contended;
        } else {
            ASSERT_EQ(r, ReadStatus::empty);
        }
        if (was_closed || Clock::now() > give_up) break;
    }
    publisher.join();
    EXPECT_EQ(refused.load(), 0u);
    EXPECT_EQ(torn, 0u);
    EXPECT_EQ(backwards, 0u);
    EXPECT_EQ(repeated_as_ok, 0u) << "ok only for a record newer than the last one read";
    EXPECT_EQ(unchanged_but_new, 0u) << "unchanged only for the record read last";
    EXPECT_EQ(last, count) << "the read after close sees the last record";
    EXPECT_GE(distinct, 1u);
    std::cout << "[          ] distinct records seen " << distinct << " of " << count
              << ", contended reads " << contended << '\n';
}

}  // namespace
