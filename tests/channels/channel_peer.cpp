// shmrec_channel_peer: the other process of the multi-process channel tests
// (channel_process_test.cpp). It speaks "word key=value ..." lines on stdout and reads
// commands (one word a line) from stdin. Exit status 0 on success, 1 on a failed check or an
// unexpected status, 2 on bad arguments, 3 on an exception.
//
//   ring-write <name> <capacity> <count> <single|batch|loan> <close|pause> <pace_us> <create|open>
//       create (or take over, 'open') a ring as its writer; print "ready"; wait for "go" on
//       stdin; write `count` Checked records (seq continues at writer.written(), so a replacing
//       writer carries on its predecessor's stream), pacing each by pace_us; print
//       "written n=... ms=..."; then close (exit) or pause until killed.
//   ring-hold <name> <count>
//       take the ring's consumer role; print "attached"; read `count` records; print
//       "ready read=..."; then pause until killed (a consumer that stopped consuming).
//   broadcast-read <name> <slow_every> <slow_us>
//       attach to a broadcast (StartAt::oldest); print "ready"; read until closed, sleeping
//       slow_us after every slow_every records (0: never); print "done received=... lost=...
//       position=... start=... bad=... nonincreasing=... posmismatch=... status=...".
//   ring-observe <name>
//       observe a ring (untyped::ring_observer); print "ready start=..."; copy records until
//       the ring is closed; print "done received=... missed=... position=... start=... bad=...
//       posmismatch=... status=..." (posmismatch: a record whose seq is not its position).
//   broadcast-cursor <name> <count>
//       attach an untyped broadcast reader; print "ready"; read `count` records; print
//       "read n=... position=..."; then pause until killed (a reader that dies holding a slot).
//   ring-peek-release <name> <peek> <first_release>
//       take the ring's consumer role with untyped::ring_reader; print "attached consumed=...";
//       peek up to `peek` records (peek_batch, 10 s) and print "peeked count=... first=...
//       last=... consumed=... bad=..." (first/last: the seqs copied); release(first_release),
//       print "released n=... consumed=...", then release the rest and print the same again;
//       exit. Built also as shmrec_channel_fault_peer (fault points compiled in): with
//       SHMREC_FAULT="consume.before_release:<N>:kill" it dies inside the N-th release.
//   echo <in_ring> <out_ring>
//       create out_ring (futex, no spin); print "ready"; open in_ring as consumer; echo every
//       record from in to out with 1 s timeouts until in is closed; print "done echoed=...
//       timeouts=... status=...".
#if !defined(_WIN32)
#include <unistd.h>
#endif

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "channel_test_support.hpp"
#include "shmrec/broadcast.hpp"
#include "shmrec/ring.hpp"
#include "shmrec/untyped.hpp"
#include "test_records.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using shmrec_test::Checked;
using chantest::Clock;

void say(const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

bool wait_for_word(const std::string& word) {
    std::string line;
    while (std::getline(std::cin, line)) {
        if (line == word) return true;
    }
    return false;
}

[[noreturn]] void pause_forever() {
#if defined(_WIN32)
    for (;;) std::this_thread::sleep_for(std::chrono::hours(1));  // until TerminateProcess
#else
    for (;;) ::pause();
#endif
}

int ring_write(const std::vector<std::string>& a) {
    if (a.size() != 7) return 2;
    const std::string& name = a[0];
    const std::uint64_t capacity = std::stoull(a[1]);
    const std::uint64_t count = std::stoull(a[2]);
    const std::string& form = a[3];
    const bool pause_at_end = a[4] == "pause";
    const auto pace = std::chrono::microseconds(std::stoll(a[5]));
    const auto mode = a[6] == "open" ? shmrec::OpenMode::open_only : shmrec::OpenMode::create_only;

    auto writer = shmrec::Ring<Checked>::writer(name, capacity, mode);
    const std::uint64_t first = writer.written();
    say("ready first=" + std::to_string(first));
    if (!wait_for_word("go")) return 1;

    const auto start = Clock::now();
    std::uint64_t seq = first;
    const std::uint64_t end = first + count;
    if (form == "batch") {
        std::vector<Checked> batch(256);
        while (seq < end) {
            const std::size_t n = static_cast<std::size_t>(std::min<std::uint64_t>(256, end - seq));
            for (std::size_t i = 0; i < n; ++i) batch[i] = chantest::make_checked(seq + i);
            const auto r = writer.write(std::span<const Checked>(batch.data(), n), 30s);
            seq += r.count;
            if (r.status != shmrec::WriteStatus::ok) {
                say("error status=" + std::string(to_string(r.status)) + " at=" + std::to_string(seq));
                return 1;
            }
        }
    } else if (form == "loan") {
        while (seq < end) {
            auto loan = writer.try_loan();
            if (!loan) {
                std::this_thread::yield();
                continue;
            }
            *loan = chantest::make_checked(seq);
            if (loan.commit() != shmrec::WriteStatus::ok) {
                say("error commit at=" + std::to_string(seq));
                return 1;
            }
            ++seq;
        }
    } else {
        for (; seq < end; ++seq) {
            const auto s = writer.write(chantest::make_checked(seq), 30s);
            if (s != shmrec::WriteStatus::ok) {
                say("error status=" + std::string(to_string(s)) + " at=" + std::to_string(seq));
                return 1;
            }
            if (pace.count() > 0) shmrec_test::sleep_at_least(pace);
        }
    }
    say("written n=" + std::to_string(seq - first) + " ms=" + std::to_string(chantest::ms_since(start)));
    if (pause_at_end) pause_forever();
    return 0;  // the writer's destructor closes the ring
}

int ring_hold(const std::vector<std::string>& a) {
    if (a.size() != 2) return 2;
    auto reader = shmrec::Ring<Checked>::reader(a[0]);
    say("attached");
    const std::uint64_t count = std::stoull(a[1]);
    chantest::StreamCheck check;
    for (std::uint64_t i = 0; i < count; ++i) {
        Checked r;
        const auto s = reader.read(r, 10s);
        if (s != shmrec::ReadStatus::ok) {
            say("error status=" + std::string(to_string(s)));
            return 1;
        }
        check.see(r);
    }
    say("ready read=" + std::to_string(check.count) + " bad=" + std::to_string(check.bad + check.out_of_order));
    pause_forever();
}

int broadcast_read(const std::vector<std::string>& a) {
    if (a.size() != 3) return 2;
    const std::uint64_t slow_every = std::stoull(a[1]);
    const auto slow = std::chrono::microseconds(std::stoll(a[2]));
    auto reader = shmrec::Broadcast<Checked>::reader(a[0], shmrec::StartAt::oldest);
    say("ready start=" + std::to_string(reader.start_position()));
    std::uint64_t bad = 0, nonincreasing = 0, posmismatch = 0, timeouts = 0;
    std::uint64_t last = UINT64_MAX;
    shmrec::ReadStatus s{};
    for (;;) {
        Checked r;
        s = reader.read(r, 5s);
        if (s == shmrec::ReadStatus::timeout) {
            // read() also reports timeout when it was lapped on every retry; give up only
            // after many in a row.
            if (++timeouts > 4) break;
            continue;
        }
        if (s != shmrec::ReadStatus::ok) break;
        if (!chantest::checksum_ok(r)) ++bad;
        if (last != UINT64_MAX && r.seq <= last) ++nonincreasing;
        if (r.seq != reader.position() - 1) ++posmismatch;
        last = r.seq;
        if (slow_every != 0 && reader.received() % slow_every == 0) shmrec_test::sleep_at_least(slow);
    }
    say("done received=" + std::to_string(reader.received()) + " lost=" + std::to_string(reader.lost()) +
        " position=" + std::to_string(reader.position()) + " start=" +
        std::to_string(reader.start_position()) + " bad=" + std::to_string(bad) +
        " nonincreasing=" + std::to_string(nonincreasing) + " posmismatch=" +
        std::to_string(posmismatch) + " status=" + std::string(to_string(s)));
    return 0;
}

int echo(const std::vector<std::string>& a) {
    if (a.size() != 2) return 2;
    shmrec::WaitOptions wait;
    wait.strategy = shmrec::WaitStrategy::futex;
    wait.spin_iterations = 0;
    auto out = shmrec::Ring<Checked>::writer(a[1], 1, shmrec::OpenMode::create_only, {}, wait);
    say("ready");
    auto in = shmrec::Ring<Checked>::reader(a[0], {}, wait);
    std::uint64_t echoed = 0, timeouts = 0;
    shmrec::ReadStatus s{};
    for (;;) {
        Checked r;
        s = in.read(r, 1s);
        if (s == shmrec::ReadStatus::timeout) {
            if (++timeouts > 10) break;
            continue;
        }
        if (s != shmrec::ReadStatus::ok) break;
        if (out.write(r, 1s) != shmrec::WriteStatus::ok) {
            ++timeouts;
            break;
        }
        ++echoed;
    }
    say("done echoed=" + std::to_string(echoed) + " timeouts=" + std::to_string(timeouts) +
        " status=" + std::string(to_string(s)));
    return 0;
}

}  // namespace

int ring_observe(const std::vector<std::string>& a) {
    if (a.size() != 1) return 2;
    auto observer = shmrec::untyped::ring_observer(a[0]);
    say("ready start=" + std::to_string(observer.start_position()));
    std::vector<std::byte> out(observer.type().size);
    std::uint64_t bad = 0;
    std::uint64_t posmismatch = 0;
    shmrec::ReadStatus s;
    while ((s = observer.read(out, 10s)) == shmrec::ReadStatus::ok) {
        Checked r{};
        std::memcpy(&r, out.data(), sizeof(r));
        if (!chantest::intact(r)) ++bad;
        if (r.seq + 1 != observer.position()) ++posmismatch;
    }
    say("done received=" + std::to_string(observer.received()) +
        " missed=" + std::to_string(observer.missed()) +
        " position=" + std::to_string(observer.position()) +
        " start=" + std::to_string(observer.start_position()) + " bad=" + std::to_string(bad) +
        " posmismatch=" + std::to_string(posmismatch) + " status=" + std::string(to_string(s)));
    return s == shmrec::ReadStatus::closed ? 0 : 1;
}

int ring_peek_release(const std::vector<std::string>& a) {
    if (a.size() != 3) return 2;
    auto reader = shmrec::untyped::ring_reader(a[0]);
    const std::size_t peek = std::stoull(a[1]);
    const std::size_t first_release = std::stoull(a[2]);
    const std::size_t size = reader.type().size;
    say("attached consumed=" + std::to_string(reader.consumed()));
    std::vector<std::byte> out(peek * size);
    const auto r = reader.peek_batch(out, 10s);
    if (r.status != shmrec::ReadStatus::ok) {
        say("error status=" + std::string(to_string(r.status)));
        return 1;
    }
    std::uint64_t bad = 0;
    std::uint64_t first = UINT64_MAX, last = UINT64_MAX;
    for (std::size_t i = 0; i < r.count; ++i) {
        Checked c{};
        std::memcpy(&c, out.data() + i * size, sizeof(c));
        if (!chantest::intact(c) || c.seq != reader.consumed() + i) ++bad;
        if (i == 0) first = c.seq;
        last = c.seq;
    }
    say("peeked count=" + std::to_string(r.count) + " first=" + std::to_string(first) +
        " last=" + std::to_string(last) + " consumed=" + std::to_string(reader.consumed()) +
        " bad=" + std::to_string(bad));
    std::size_t n = reader.release(first_release);
    say("released n=" + std::to_string(n) + " consumed=" + std::to_string(reader.consumed()));
    n = reader.release(r.count);
    say("released n=" + std::to_string(n) + " consumed=" + std::to_string(reader.consumed()));
    return bad == 0 ? 0 : 1;
}

int broadcast_cursor(const std::vector<std::string>& a) {
    if (a.size() != 2) return 2;
    auto reader = shmrec::untyped::broadcast_reader(a[0]);
    const std::uint64_t count = std::stoull(a[1]);
    say("ready");
    std::vector<std::byte> out(reader.type().size);
    for (std::uint64_t i = 0; i < count; ++i) {
        const auto s = reader.read(out, 10s);
        if (s != shmrec::ReadStatus::ok) {
            say("error status=" + std::string(to_string(s)));
            return 1;
        }
    }
    say("read n=" + std::to_string(reader.received()) +
        " position=" + std::to_string(reader.position()));
    pause_forever();
}

int main(int argc, char** argv) {
    shmrec_test::die_plainly_on_crash();  // Windows: no debugger on a crash
    if (argc < 2) return 2;
    const std::string mode = argv[1];
    const std::vector<std::string> args(argv + 2, argv + argc);
    try {
        if (mode == "ring-write") return ring_write(args);
        if (mode == "ring-hold") return ring_hold(args);
        if (mode == "broadcast-read") return broadcast_read(args);
        if (mode == "echo") return echo(args);
        if (mode == "ring-observe") return ring_observe(args);
        if (mode == "broadcast-cursor") return broadcast_cursor(args);
        if (mode == "ring-peek-release") return ring_peek_release(args);
    } catch (const std::exception& e) {
        say(std::string("exception what=") + e.what());
        return 3;
    }
    return 2;
}
