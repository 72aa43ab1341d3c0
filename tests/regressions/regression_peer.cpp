// The other process of the regression tests, built with fault points: a test sets
// SHMREC_FAULT="<point>:<n>:stop" to stop it at an exact point, acts, and resumes it.
//
//   regression_peer cell-read NAME        a cell reader: "ready", then read(out, 20 s), then
//   regression_peer broadcast-read NAME   "status=<status> ms=<elapsed>"; the same for a
//   regression_peer ring-read NAME        broadcast reader and a ring consumer
//   regression_peer ring-batch NAME N     creates a ring of 16, "ready", waits for a line on
//                                         stdin, writes records 0..N-1 as one batch, "wrote
//                                         n=<count>", then waits for end of input
//   regression_peer broadcast-batch NAME N  the same with a broadcast ring of 4
//   regression_peer ring-block NAME N     creates a ring of 4, "ready", waits for a line on
//                                         stdin, then writes records 0..N-1 one by one with
//                                         write(record, 20 s) (blocking for room), "wrote
//                                         n=<count> status=<status>"
//   regression_peer byte-write NAME N     a byte ring writer (open_or_create, 128 bytes):
//                                         "ready start=<written>", waits for a line on stdin,
//                                         writes messages start..start+N-1 (write, 20 s each),
//                                         drains, "wrote n=<count> status=<status>", closes
//   regression_peer byte-write-batch NAME N  the same, in batches of 5 (ByteRingWriter::batch)
//   regression_peer byte-read NAME N      the byte ring's consumer: "ready consumed=<count>",
//                                         then N messages, "got seq=<s> ok=<0|1>" for each
//                                         before releasing it, then "done status=<status>"
//
// Every reader sleeps on its doorbell only (no spin) with a 10 s liveness interval, so a lost
// wake-up costs it seconds, which the test sees in "ms".
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <string>
#include <vector>

#include "byte_ring_review_support.hpp"
#include "checked_record.hpp"
#include "regression_support.hpp"
#include "shmrec/shmrec.hpp"
#include "test_records.shmrec.hpp"

namespace {

using shmrec_regress_test::doorbell_only;
using shmrec_test::Checked;
using Clock = std::chrono::steady_clock;

void say(const std::string& line) {
    std::cout << line << std::endl;  // flushed: the test reads it line by line
}

template <class Reader>
int read_once(Reader reader) {
    say("ready");
    Checked out{};
    const auto t0 = Clock::now();
    const shmrec::ReadStatus s = reader.read(out, std::chrono::seconds(20));
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t0);
    say("status=" + std::string(to_string(s)) + " ms=" + std::to_string(ms.count()) +
        " seq=" + std::to_string(out.seq));
    return 0;
}

// "ready", then on a line of input records 0..n-1 as one batch, "wrote n=<count>", then
// nothing until the end of input.
template <class Writer>
int write_batch(Writer writer, std::uint64_t n) {
    say("ready");
    std::string line;
    std::getline(std::cin, line);
    std::vector<Checked> batch;
    for (std::uint64_t i = 0; i < n; ++i) batch.push_back(shmrec_test::make_checked(i));
    const auto r = writer.try_write(std::span<const Checked>(batch));
    say("wrote n=" + std::to_string(r.count) + " status=" + std::string(to_string(r.status)));
    while (std::getline(std::cin, line)) {
    }
    return 0;
}

// "ready", then on a line of input records 0..n-1 one by one, each waiting up to 20 s for room.
int write_blocking(shmrec::Ring<Checked>::Writer writer, std::uint64_t n) {
    say("ready");
    std::string line;
    std::getline(std::cin, line);
    std::uint64_t i = 0;
    shmrec::WriteStatus s = shmrec::WriteStatus::ok;
    for (; i < n; ++i) {
        s = writer.write(shmrec_test::make_checked(i), std::chrono::seconds(20));
        if (s != shmrec::WriteStatus::ok) break;
    }
    say("wrote n=" + std::to_string(i) + " status=" + std::string(to_string(s)));
    return 0;
}

// Byte ring messages shmrec_review::message(k) for k = the ring's written() onwards.
int byte_write(const shmrec::Location& where, std::uint64_t n, std::size_t batch) {
    auto writer = shmrec::ByteRing::writer(where, shmrec_review::message_type,
                                           shmrec_review::small_ring, shmrec::OpenMode::open_or_create,
                                           {}, shmrec_review::quick_liveness());
    const std::uint64_t start = writer.written();
    say("ready start=" + std::to_string(start));
    std::string line;
    std::getline(std::cin, line);
    std::uint64_t i = 0;
    shmrec::WriteStatus s = shmrec::WriteStatus::ok;
    auto write = [&](std::size_t k) {
        return writer.write(shmrec_review::message(start + i + k), std::chrono::seconds(20));
    };
    while (i < n && s == shmrec::WriteStatus::ok) {
        if (batch == 0) {
            s = write(0);
            if (s == shmrec::WriteStatus::ok) ++i;
            continue;
        }
        const auto b = writer.batch(std::min<std::uint64_t>(batch, n - i), write);
        i += b.count;
        s = b.status;
    }
    if (s == shmrec::WriteStatus::ok) s = writer.drain(std::chrono::seconds(20));
    say("wrote n=" + std::to_string(i) + " status=" + std::string(to_string(s)));
    return 0;
}

int byte_read(const shmrec::Location& where, std::uint64_t n) {
    auto reader = shmrec::ByteRing::reader(where, shmrec_review::message_type, {},
                                           shmrec_review::quick_liveness());
    say("ready consumed=" + std::to_string(reader.consumed()));
    shmrec::ReadStatus s = shmrec::ReadStatus::ok;
    for (std::uint64_t i = 0; i < n; ++i) {
        auto m = reader.peek(std::chrono::seconds(20));
        if (!m) {
            s = m.status();
            break;
        }
        say("got seq=" + std::to_string(m.sequence()) +
            " ok=" + (shmrec_review::is_message(m.data(), m.sequence()) ? "1" : "0"));
        m.release();
    }
    say("done status=" + std::string(to_string(s)));
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    const std::vector<std::string> args(argv + 1, argv + argc);
    if (args.size() < 2) {
        std::cerr << "usage: regression_peer MODE NAME [N]\n";
        return 2;
    }
    const std::string& mode = args[0];
    const shmrec::Location where(args[1]);
    try {
        if (mode == "cell-read") {
            return read_once(shmrec::Cell<Checked>::reader(where, {}, doorbell_only()));
        }
        if (mode == "broadcast-read") {
            return read_once(shmrec::Broadcast<Checked>::reader(where, shmrec::StartAt::newest,
                                                                 {}, doorbell_only()));
        }
        if (mode == "ring-read") {
            return read_once(shmrec::Ring<Checked>::reader(where, {}, doorbell_only()));
        }
        if (mode == "ring-batch" && args.size() == 3) {
            return write_batch(shmrec::Ring<Checked>::writer(where, 16), std::stoull(args[2]));
        }
        if (mode == "ring-block" && args.size() == 3) {
            return write_blocking(shmrec::Ring<Checked>::writer(where, 4, shmrec::OpenMode::create_only,
                                                                {}, doorbell_only()),
                                  std::stoull(args[2]));
        }
        if (mode == "byte-write" && args.size() == 3) return byte_write(where, std::stoull(args[2]), 0);
        if (mode == "byte-write-batch" && args.size() == 3) {
            return byte_write(where, std::stoull(args[2]), 5);
        }
        if (mode == "byte-read" && args.size() == 3) return byte_read(where, std::stoull(args[2]));
        if (mode == "broadcast-batch" && args.size() == 3) {
            return write_batch(shmrec::Broadcast<Checked>::writer(where, 4), std::stoull(args[2]));
        }
    } catch (const shmrec::Error& e) {
        say(std::string("error ") + e.what());
        return 1;
    }
    std::cerr << "regression_peer: unknown mode " << mode << "\n";
    return 2;
}
