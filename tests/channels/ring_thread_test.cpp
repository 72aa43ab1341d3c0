// Ring<T> with its writer and consumer on threads of one process (each end with its own open
// of the region, as two processes would have). These are the ThreadSanitizer targets
// (RELIABILITY M2); the cross-process behaviour is in ring_process_test.cpp.
#include <gtest/gtest.h>

#include <cstdint>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

#include "channel_test_support.hpp"
#include "shmrec/broadcast.hpp"
#include "shmrec/ring.hpp"
#include "student.shmrec.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using chantest::Clock;
using chantest::StreamCheck;
using shmrec::ReadStatus;
using shmrec::WriteStatus;
using shmrec_test::Checked;
using CheckedRing = shmrec::Ring<Checked>;

constexpr std::uint64_t stream_records = shmrec_test::under_sanitizer ? 100'000 : 300'000;

enum class Form { blocking, try_spin, batch, zero_copy };

const char* form_name(Form f) {
    switch (f) {
        case Form::blocking: return "Blocking";
        case Form::try_spin: return "TrySpin";
        case Form::batch: return "Batch";
        case Form::zero_copy: return "LoanPeek";
    }
    return "?";
}

struct StreamParam {
    std::uint64_t capacity;
    Form form;
};

// For ctest's listing: "capacity 2, Batch" rather than the parameter's bytes.
void PrintTo(const StreamParam& p, std::ostream* os) {
    *os << "capacity " << p.capacity << ", " << form_name(p.form);
}

class RingThreadStream : public shmrec_test::RegionFixture,
                         public ::testing::WithParamInterface<StreamParam> {};

// Writes `count` records with the given form; returns the first non-ok status (ok if none).
WriteStatus write_stream(CheckedRing::Writer& w, std::uint64_t count, Form form) {
    std::uint64_t seq = 0;
    switch (form) {
        case Form::blocking:
            for (; seq < count; ++seq) {
                if (auto s = w.write(chantest::make_checked(seq), 10s); s != WriteStatus::ok) return s;
            }
            break;
        case Form::try_spin:
            while (seq < count) {
                const auto s = w.try_write(chantest::make_checked(seq));
                if (s == WriteStatus::ok) {
                    ++seq;
                } else if (s == WriteStatus::full) {
                    std::this_thread::yield();
                } else {
                    return s;
                }
            }
            break;
        case Form::batch: {
            // 100: not a power of two, so batches straddle the ring's end and partial batches
            // (room for fewer than asked) happen with every capacity.
            std::vector<Checked> batch(100);
            while (seq < count) {
                const auto n = static_cast<std::size_t>(std::min<std::uint64_t>(batch.size(), count - seq));
                for (std::size_t i = 0; i < n; ++i) batch[i] = chantest::make_checked(seq + i);
                const auto r = w.write(std::span<const Checked>(batch.data(), n), 10s);
                seq += r.count;
                if (r.status != WriteStatus::ok) return r.status;
                if (r.count != n) return WriteStatus::timeout;
            }
            break;
        }
        case Form::zero_copy:
            while (seq < count) {
                auto loan = w.try_loan();
                if (!loan) {
                    if (loan.status() != WriteStatus::full) return loan.status();
                    std::this_thread::yield();
                    continue;
                }
                *loan = chantest::make_checked(seq++);
                if (const auto s = loan.commit(); s != WriteStatus::ok) return s;
            }
            break;
    }
    return WriteStatus::ok;
}

// Reads until the stream ends; returns the status that ended it.
ReadStatus read_stream(CheckedRing::Reader& r, StreamCheck& check, Form form) {
    Checked rec;
    switch (form) {
        case Form::blocking:
            for (;;) {
                const auto s = r.read(rec, 10s);
                if (s != ReadStatus::ok) return s;
                check.see(rec);
            }
        case Form::try_spin:
            for (;;) {
                const auto s = r.try_read(rec);
                if (s == ReadStatus::ok) {
                    check.see(rec);
                } else if (s == ReadStatus::empty) {
                    std::this_thread::yield();
                } else {
                    return s;
                }
            }
        case Form::batch: {
            std::vector<Checked> batch(64);
            for (;;) {
                const auto b = r.read(std::span<Checked>(batch), 10s);
                for (std::size_t i = 0; i < b.count; ++i) check.see(batch[i]);
                if (b.status != ReadStatus::ok) return b.status;
                if (b.count == 0) return ReadStatus::timeout;
            }
        }
        case Form::zero_copy:
            for (;;) {
                auto sample = r.try_peek();
                if (sample) {
                    check.see(*sample);  // checked in place, in the slot; consumed when dropped
                    continue;
                }
                if (sample.status() != ReadStatus::empty) return sample.status();
                std::this_thread::yield();
            }
    }
    return ReadStatus::corrupt;
}

// Every record arrives exactly once, in order, intact; the stream ends with closed.
TEST_P(RingThreadStream, DeliversEveryRecordOnceInOrder) {
    const auto [capacity, form_param] = GetParam();
    const auto form = form_param;  // a plain variable: lambdas may capture it (clang 14)
    const std::string region = name("stream");
    auto writer = CheckedRing::writer(region, capacity);
    auto reader = CheckedRing::reader(region);

    const auto start = Clock::now();
    WriteStatus wstatus = WriteStatus::ok;
    std::thread producer([&] {
        wstatus = write_stream(writer, stream_records, form);
        writer.close();
    });
    StreamCheck check;
    const ReadStatus end = read_stream(reader, check, form);
    producer.join();
    const double ms = chantest::ms_since(start);

    RecordProperty("records", std::to_string(check.count));
    RecordProperty("ms", std::to_string(ms));
    std::printf("  capacity %llu, %s: %llu records in %.1f ms\n",
                static_cast<unsigned long long>(capacity), form_name(form),
                static_cast<unsigned long long>(check.count), ms);
    EXPECT_EQ(wstatus, WriteStatus::ok);
    EXPECT_EQ(end, ReadStatus::closed);
    EXPECT_EQ(check.count, stream_records);
    EXPECT_EQ(check.bad, 0u) << "first bad seq " << check.first_bad_seq;
    EXPECT_EQ(check.out_of_order, 0u) << "first out-of-order seq " << check.first_bad_seq;
    EXPECT_EQ(reader.consumed(), stream_records);
    EXPECT_EQ(writer.written(), stream_records);
}

std::vector<StreamParam> stream_params() {
    std::vector<StreamParam> out;
    for (std::uint64_t cap : {1u, 2u, 1024u}) {
        for (Form f : {Form::blocking, Form::try_spin, Form::batch, Form::zero_copy}) {
            out.push_back({cap, f});
        }
    }
    return out;
}

INSTANTIATE_TEST_SUITE_P(Forms, RingThreadStream, ::testing::ValuesIn(stream_params()),
                         [](const ::testing::TestParamInfo<StreamParam>& p) {
                             return "Capacity" + std::to_string(p.param.capacity) +
                                    form_name(p.param.form);
                         });

class RingThreads : public shmrec_test::RegionFixture {};

TEST_F(RingThreads, TryWriteReportsFullAndTryReadReportsEmpty) {
    const std::string region = name("full");
    auto writer = CheckedRing::writer(region, 4);
    auto reader = CheckedRing::reader(region);
    Checked r;
    EXPECT_EQ(reader.try_read(r), ReadStatus::empty);
    EXPECT_EQ(reader.try_peek().status(), ReadStatus::empty);
    std::vector<Checked> out(8);
    EXPECT_EQ(reader.try_read(std::span<Checked>(out)).status, ReadStatus::empty);

    int accepted = 0;
    for (std::uint64_t i = 0; i < 10; ++i) {
        if (writer.try_write(chantest::make_checked(i)) != WriteStatus::ok) break;
        ++accepted;
    }
    EXPECT_EQ(accepted, 4);
    EXPECT_EQ(writer.try_write(chantest::make_checked(4)), WriteStatus::full);
    EXPECT_EQ(writer.try_loan().status(), WriteStatus::full);
    const std::vector<Checked> more{chantest::make_checked(4), chantest::make_checked(5)};
    const auto b = writer.try_write(std::span<const Checked>(more));
    EXPECT_EQ(b.count, 0u);
    EXPECT_EQ(b.status, WriteStatus::full);
    const auto t0 = Clock::now();
    EXPECT_EQ(writer.write(chantest::make_checked(4), 30ms), WriteStatus::timeout);
    EXPECT_GE(chantest::ms_since(t0), 29.0);

    // One read makes room for exactly one more (a partial batch).
    ASSERT_EQ(reader.try_read(r), ReadStatus::ok);
    EXPECT_EQ(r.seq, 0u);
    const auto b2 = writer.try_write(std::span<const Checked>(more));
    EXPECT_EQ(b2.count, 1u);
    EXPECT_EQ(b2.status, WriteStatus::full);

    const auto got = reader.try_read(std::span<Checked>(out));
    ASSERT_EQ(got.count, 4u);
    EXPECT_EQ(got.status, ReadStatus::ok);
    for (std::size_t i = 0; i < 4; ++i) {
        EXPECT_EQ(out[i].seq, i + 1);
        EXPECT_TRUE(chantest::checksum_ok(out[i]));
    }
    EXPECT_EQ(reader.try_read(r), ReadStatus::empty);
    const auto t1 = Clock::now();
    EXPECT_EQ(reader.read(r, 30ms), ReadStatus::timeout);
    EXPECT_GE(chantest::ms_since(t1), 29.0);
    EXPECT_EQ(writer.written(), 5u);
    EXPECT_EQ(reader.consumed(), 5u);
}

TEST_F(RingThreads, ReaderGetsClosedAfterDrainingEverything) {
    const std::string region = name("closed");
    auto writer = CheckedRing::writer(region, 8);
    auto reader = CheckedRing::reader(region);
    for (std::uint64_t i = 0; i < 5; ++i) ASSERT_EQ(writer.try_write(chantest::make_checked(i)), WriteStatus::ok);
    writer.close();
    Checked r;
    for (std::uint64_t i = 0; i < 5; ++i) {
        ASSERT_EQ(reader.read(r, 1s), ReadStatus::ok);
        EXPECT_EQ(r.seq, i);
    }
    const auto t0 = Clock::now();
    EXPECT_EQ(reader.read(r, 5s), ReadStatus::closed);
    EXPECT_LT(chantest::ms_since(t0), 100.0);
    EXPECT_EQ(reader.try_read(r), ReadStatus::closed);
    std::vector<Checked> out(4);
    EXPECT_EQ(reader.read(std::span<Checked>(out), 1s).status, ReadStatus::closed);
    EXPECT_TRUE(reader.closed());
}

// A consumer sleeping in read() is woken by close(), not by its timeout.
TEST_F(RingThreads, CloseWakesABlockedReader) {
    const std::string region = name("closewake");
    auto writer = CheckedRing::writer(region, 8);
    auto reader = CheckedRing::reader(region);
    ReadStatus s = ReadStatus::ok;
    double ms = 0;
    std::thread t([&] {
        const auto t0 = Clock::now();
        Checked r;
        s = reader.read(r, 10s);
        ms = chantest::ms_since(t0);
    });
    std::this_thread::sleep_for(100ms);
    writer.close();
    t.join();
    EXPECT_EQ(s, ReadStatus::closed);
    EXPECT_LT(ms, 1000.0);
}

TEST_F(RingThreads, OpeningARingAsABroadcastIsWrongKind) {
    const std::string region = name("kind");
    auto writer = CheckedRing::writer(region, 8);
    try {
        auto b = shmrec::Broadcast<Checked>::reader(region);
        FAIL() << "opened a ring as a broadcast";
    } catch (const shmrec::Error& e) {
        EXPECT_EQ(e.code(), shmrec::ErrorCode::wrong_kind) << e.what();
    }
}

TEST_F(RingThreads, OpeningWithAnotherRecordTypeIsTypeMismatch) {
    const std::string region = name("type");
    auto writer = CheckedRing::writer(region, 8);
    for (int which = 0; which < 2; ++which) {
        try {
            if (which == 0) {
                auto r = shmrec::Ring<shmrec_test::Other>::reader(region);
            } else {
                auto r = shmrec::Ring<school::Student>::reader(region);
            }
            ADD_FAILURE() << "opened a Checked ring with another record type";
        } catch (const shmrec::Error& e) {
            EXPECT_EQ(e.code(), shmrec::ErrorCode::type_mismatch) << e.what();
        }
    }
}

TEST_F(RingThreads, CapacityNotAPowerOfTwoIsInvalidArgument) {
    for (std::uint64_t cap : {std::uint64_t{0}, std::uint64_t{3}, std::uint64_t{1000},
                              std::uint64_t{1} << 32}) {
        const std::string region = name("cap");
        try {
            auto w = CheckedRing::writer(region, cap);
            ADD_FAILURE() << "capacity " << cap << " accepted";
        } catch (const shmrec::Error& e) {
            EXPECT_EQ(e.code(), shmrec::ErrorCode::invalid_argument) << cap << ": " << e.what();
        }
        EXPECT_FALSE(shmrec::remove_region(region)) << "capacity " << cap << " left a region behind";
    }
}

TEST_F(RingThreads, SecondConsumerIsReaderActiveUntilTheFirstLeaves) {
    const std::string region = name("consumer");
    auto writer = CheckedRing::writer(region, 8);
    for (std::uint64_t i = 0; i < 4; ++i) ASSERT_EQ(writer.try_write(chantest::make_checked(i)), WriteStatus::ok);
    {
        auto first = CheckedRing::reader(region);
        Checked r;
        ASSERT_EQ(first.try_read(r), ReadStatus::ok);
        try {
            auto second = CheckedRing::reader(region);
            ADD_FAILURE() << "a second consumer attached";
        } catch (const shmrec::Error& e) {
            EXPECT_EQ(e.code(), shmrec::ErrorCode::reader_active) << e.what();
        }
    }
    // The role is free again; the next consumer continues at the head.
    auto next = CheckedRing::reader(region);
    EXPECT_EQ(next.consumed(), 1u);
    Checked r;
    ASSERT_EQ(next.try_read(r), ReadStatus::ok);
    EXPECT_EQ(r.seq, 1u);
}

// In-process version of RELIABILITY L/B rows for the consumer: once it is gone, a writer
// waiting for room learns it within a liveness interval instead of waiting out its timeout.
TEST_F(RingThreads, WriterOnFullRingGetsReaderGoneAfterConsumerLeaves) {
    const std::string region = name("readergone");
    auto writer = CheckedRing::writer(region, 2);
    // Never attached: a full ring says so (no_reader), both at once and after waiting, and
    // drain() tells "nobody ever read" from a timeout too.
    ASSERT_EQ(writer.try_write(chantest::make_checked(0)), WriteStatus::ok);
    ASSERT_EQ(writer.try_write(chantest::make_checked(1)), WriteStatus::ok);
    EXPECT_FALSE(writer.consumer_attached());
    EXPECT_EQ(writer.try_write(chantest::make_checked(2)), WriteStatus::no_reader);
    EXPECT_EQ(writer.write(chantest::make_checked(2), 60ms), WriteStatus::no_reader);
    EXPECT_EQ(writer.drain(30ms), WriteStatus::no_reader);
    { auto reader = CheckedRing::reader(region); }
    EXPECT_TRUE(writer.consumer_attached());
    EXPECT_FALSE(writer.consumer_alive());
    const auto t0 = Clock::now();
    EXPECT_EQ(writer.write(chantest::make_checked(2), 10s), WriteStatus::reader_gone);
    EXPECT_LT(chantest::ms_since(t0), 500.0);
}

// RELIABILITY C12, 32-bit word wrap. Test hook: a first writer creates the ring; through
// its writable mapping (detail::RingView, laid out as detail::RingControl followed by the
// slots) the test sets head = tail = P = 2^32 - 100 and gives the slots of positions
// [P - capacity, P) the seq a previous lap leaves (p + 1), as if P records had gone through.
// That writer is then destroyed and the writer role re-taken with OpenMode::open_only: the
// new writer's constructor picks up tail P (as a replacing writer would), and the consumer,
// attached afterwards, starts at head P. 10 000 records then cross the point where the low
// 32 bits of every seq/head wrap to 0. Doorbell-only waits (no spin) on both sides, so both
// sides actually sleep and are woken across the wrap.
void run_across_position(std::uint64_t start, std::uint64_t capacity, const std::string& region,
                         std::uint64_t records) {
    {
        auto first = CheckedRing::writer(region, capacity);
        shmrec_test::keep_alive(region);  // Windows: the object outlives `first`
        shmrec::detail::RingView<Checked> view(first.region());
        view.control->head.store(start);
        view.control->tail.store(start);
        for (std::uint64_t p = start - capacity; p != start; ++p) {
            const Checked old = chantest::make_checked(p);
            std::memcpy(view.payload(p), &old, sizeof(Checked));
            view.slot(p).seq.store(p + 1);
        }
    }
    shmrec::WaitOptions wait;
    wait.strategy = shmrec::WaitStrategy::futex;
    wait.spin_iterations = 0;
    auto writer = CheckedRing::writer(region, 0, shmrec::OpenMode::open_only, {}, wait);
    ASSERT_EQ(writer.written(), start);
    auto reader = CheckedRing::reader(region, {}, wait);
    ASSERT_EQ(reader.consumed(), start);

    WriteStatus ws = WriteStatus::ok;
    std::thread producer([&] {
        for (std::uint64_t i = 0; i < records && ws == WriteStatus::ok; ++i) {
            ws = writer.write(chantest::make_checked(start + i), 5s);
        }
        writer.close();
    });
    StreamCheck check(start);
    Checked r;
    ReadStatus end;
    while ((end = reader.read(r, 5s)) == ReadStatus::ok) check.see(r);
    producer.join();
    EXPECT_EQ(ws, WriteStatus::ok);
    EXPECT_EQ(end, ReadStatus::closed);
    EXPECT_EQ(check.count, records);
    EXPECT_EQ(check.bad, 0u);
    EXPECT_EQ(check.out_of_order, 0u) << "first out-of-order seq " << check.first_bad_seq;
    EXPECT_EQ(reader.consumed(), start + records);
}

TEST_F(RingThreads, PositionsCrossThe32BitFutexWordWrap) {
    const std::uint64_t start = (std::uint64_t{1} << 32) - 100;
    for (std::uint64_t cap : {1u, 4u, 1024u}) {
        SCOPED_TRACE("capacity " + std::to_string(cap));
        run_across_position(start, cap, name("wrap32"), 10'000);
    }
}

}  // namespace

namespace {
// RELIABILITY C12: the 64-bit positions themselves start at 2^64 - 100 and cross zero; every
// comparison in the ring is modular (detail::ahead), so nothing reads as "from the future".
TEST_F(RingThreads, PositionsCrossThe64BitWrap) {
    const std::uint64_t start = std::uint64_t{0} - 100;
    for (std::uint64_t cap : {1u, 4u, 1024u}) {
        SCOPED_TRACE("capacity " + std::to_string(cap));
        run_across_position(start, cap, name("wrap64"), 10'000);
    }
}
}  // namespace

namespace {
double thread_cpu_ms() {
    timespec ts{};
    ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return static_cast<double>(ts.tv_sec) * 1e3 + static_cast<double>(ts.tv_nsec) / 1e6;
}

// With the futex strategy a blocked call sleeps: a 300 ms wait costs (far) less than 30 ms of
// CPU, on either side.
TEST_F(RingThreads, BlockedCallsSleepRatherThanSpin) {
    const std::string region = name("sleep");
    auto writer = CheckedRing::writer(region, 2);
    auto reader = CheckedRing::reader(region);
    Checked r;
    double c0 = thread_cpu_ms();
    auto t0 = Clock::now();
    EXPECT_EQ(reader.read(r, 300ms), ReadStatus::timeout);
    const double reader_cpu = thread_cpu_ms() - c0;
    const double reader_wall = chantest::ms_since(t0);

    ASSERT_EQ(writer.try_write(chantest::make_checked(0)), WriteStatus::ok);
    ASSERT_EQ(writer.try_write(chantest::make_checked(1)), WriteStatus::ok);
    c0 = thread_cpu_ms();
    t0 = Clock::now();
    EXPECT_EQ(writer.write(chantest::make_checked(2), 300ms), WriteStatus::timeout);
    const double writer_cpu = thread_cpu_ms() - c0;
    const double writer_wall = chantest::ms_since(t0);
    std::printf("  read(300ms): %.1f ms wall, %.1f ms cpu; write(300ms): %.1f ms wall, %.1f ms cpu\n",
                reader_wall, reader_cpu, writer_wall, writer_cpu);
    EXPECT_LT(reader_cpu, 30.0);
    EXPECT_LT(writer_cpu, 30.0);
}
}  // namespace
