// shmrec-bridge-bench-peer: the local writer (host A) and reader (host B) on either side of the
// bridge in `shmrec-bridge-bench` (main.cpp). One run per process; output on stdout, one
// result line, errors on stderr with exit status 1.
//
//   writer --name N --capacity C --count K --rate R [--times FILE]
//       creates a Broadcast<school::Student> of capacity C, prints "ready", waits for a line
//       on stdin, then writes students 0..K-1 (id = i) paced at R records/s (0: as fast as it
//       can), prints "written K seconds S start_ns T" (first write to last; T: the
//       first write's steady clock), keeps the region until stdin
//       ends, then closes it
//   reader --name N --count K --idle-ms I [--wait futex|busy_spin] [--times FILE]
//       opens the region (waits up to 10 s for it) from its oldest record, prints "ready",
//       reads (waiting for records as --wait says: asleep on the writer's doorbell, the
//       default, or polling) until it has read student K-1 or no record came for I ms; prints
//       "read R lapped P disorder D first_ns F last_ns L" (P: records this reader was lapped
//       past on B; D: records whose id was not above the one before, i.e. repeated or out of
//       order; F, L: steady clock of its first and last read). The region on B holds the
//       records the bridge delivered at consecutive positions, so ids tell what is missing.
//
// --times FILE: the writer stores, per id, the steady clock (CLOCK_MONOTONIC) just before the
// record's write, the reader the time just after its read returned, as raw int64 nanoseconds
// (-1: not received). Network namespaces share CLOCK_MONOTONIC, so the two files of one run
// give each record's one-way latency from A's writer to B's reader; the records themselves
// stay plain students.
#include <charconv>
#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <span>
#include <string>
#include <thread>
#include <vector>

#include <shmrec/broadcast.hpp>

#include "peer_options.hpp"
#include "student.shmrec.hpp"

namespace {

using namespace std::chrono_literals;
using Clock = std::chrono::steady_clock;
using shmrec_test::need;
using shmrec_test::PeerOptions;

// Pacing granularity: the writer writes what is due, then sleeps to the next tick. Sleeping
// (not spinning) leaves the second core of a small machine to the bridge.
constexpr auto tick = 1ms;
constexpr std::size_t chunk_records = 1024;

[[noreturn]] void fail(const std::string& why) {
    std::cerr << "shmrec-bridge-bench-peer: " << why << std::endl;
    std::exit(1);
}

std::int64_t nanoseconds(Clock::time_point t) {
    return std::chrono::duration_cast<std::chrono::nanoseconds>(t.time_since_epoch()).count();
}

void save_times(const PeerOptions& args, const std::vector<std::int64_t>& times) {
    const auto it = args.find("times");
    if (it == args.end()) return;
    std::ofstream out(it->second, std::ios::binary);
    out.write(reinterpret_cast<const char*>(times.data()),
              static_cast<std::streamsize>(times.size() * sizeof(std::int64_t)));
    if (!out) fail("cannot write " + it->second);
}

school::Student student(std::uint64_t id) {
    school::Student s{};
    s.id = static_cast<std::int64_t>(id);
    char text[20] = "student-";
    const auto end = std::to_chars(text + 8, text + sizeof text, id).ptr;
    s.name = std::string_view(text, static_cast<std::size_t>(end - text));
    return s;
}

int writer(const PeerOptions& args) {
    const std::uint64_t count = std::stoull(need(args, "count"));
    const double rate = std::stod(need(args, "rate"));
    const bool timed = args.contains("times");
    auto writer = shmrec::Broadcast<school::Student>::writer(need(args, "name"),
                                                             std::stoull(need(args, "capacity")));
    std::vector<std::int64_t> times(timed ? count : 0);
    std::vector<school::Student> chunk;
    chunk.reserve(chunk_records);

    std::cout << "ready" << std::endl;
    std::string line;
    if (!std::getline(std::cin, line)) return 0;

    const Clock::time_point start = Clock::now();
    Clock::time_point last = start;
    std::uint64_t written = 0;
    while (written < count) {
        const Clock::time_point now = Clock::now();
        const double elapsed = std::chrono::duration<double>(now - start).count();
        const std::uint64_t due =
            rate <= 0
                ? count
                : std::min<std::uint64_t>(count, static_cast<std::uint64_t>(rate * elapsed) + 1);
        while (written < due) {
            chunk.clear();
            for (std::uint64_t id = written; id < due && chunk.size() < chunk_records; ++id) {
                chunk.push_back(student(id));
            }
            const Clock::time_point stamp = Clock::now();
            const shmrec::BatchWrite w = writer.try_write(std::span<const school::Student>(chunk));
            if (w.status != shmrec::WriteStatus::ok || w.count != chunk.size()) {
                fail("write failed: " + std::string(shmrec::to_string(w.status)));
            }
            if (timed) {
                for (std::size_t i = 0; i < chunk.size(); ++i)
                    times[written + i] = nanoseconds(stamp);
            }
            written += chunk.size();
            last = stamp;
        }
        if (written < count && rate > 0) {
            const auto ticks = (now - start) / tick + 1;
            std::this_thread::sleep_until(start + ticks * tick);
        }
    }
    std::cout << "written " << written << " seconds "
              << std::chrono::duration<double>(last - start).count() << " start_ns "
              << nanoseconds(start) << std::endl;
    save_times(args, times);
    while (std::getline(std::cin, line)) {
    }
    writer.close();
    return 0;
}

shmrec::WaitStrategy wait_strategy_of(const PeerOptions& args) {
    const auto it = args.find("wait");
    if (it == args.end() || it->second == "futex") return shmrec::WaitStrategy::futex;
    if (it->second == "busy_spin") return shmrec::WaitStrategy::busy_spin;
    fail("--wait must be futex or busy_spin, not " + it->second);
}

int reader(const PeerOptions& args) {
    const std::uint64_t count = std::stoull(need(args, "count"));
    const auto idle = std::chrono::milliseconds(std::stoull(need(args, "idle-ms")));
    const bool timed = args.contains("times");
    shmrec::RegionOptions options;
    options.wait_for_creator = 10s;
    shmrec::WaitOptions waiting;
    waiting.strategy = wait_strategy_of(args);
    auto reader = shmrec::Broadcast<school::Student>::reader(
        need(args, "name"), shmrec::StartAt::oldest, options, waiting);
    std::vector<std::int64_t> times(timed ? count : 0, -1);
    std::vector<school::Student> batch(chunk_records);
    std::cout << "ready" << std::endl;

    std::uint64_t received = 0;
    std::uint64_t disorder = 0;
    std::uint64_t next_id = 0;  // above the last id read
    std::int64_t first_ns = 0;
    std::int64_t last_ns = 0;
    // Waits stay short so the idle limit is kept; a long silence before the first record is
    // allowed (the bridge starts its stream only after the writer starts).
    auto last_progress = Clock::now();
    while (next_id < count) {
        const shmrec::BatchRead r = reader.read(std::span<school::Student>(batch), 100ms);
        const Clock::time_point now = Clock::now();
        if (r.status == shmrec::ReadStatus::timeout || r.status == shmrec::ReadStatus::empty) {
            const auto limit = received > 0 ? idle : 10 * idle;
            if (now - last_progress > limit) break;
            continue;
        }
        if (r.status != shmrec::ReadStatus::ok) {
            fail("read failed: " + std::string(shmrec::to_string(r.status)));
        }
        for (std::size_t i = 0; i < r.count; ++i) {
            const auto id = static_cast<std::uint64_t>(batch[i].id);
            if (id < next_id || id >= count) {
                ++disorder;
                continue;
            }
            next_id = id + 1;
            ++received;
            if (timed) times[id] = nanoseconds(now);
        }
        if (first_ns == 0) first_ns = nanoseconds(now);
        last_ns = nanoseconds(now);
        last_progress = now;
    }
    std::cout << "read " << received << " lapped " << reader.lost() << " disorder " << disorder
              << " first_ns " << first_ns << " last_ns " << last_ns << std::endl;
    save_times(args, times);
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 2) fail("usage: shmrec-bridge-bench-peer writer|reader --option value ...");
    const std::string verb = argv[1];
    try {
        const auto args = shmrec_test::parse_peer_options(argc, argv);
        if (verb == "writer") return writer(args);
        if (verb == "reader") return reader(args);
    } catch (const std::exception& e) {
        fail(verb + ": " + e.what());
    }
    fail("unknown verb " + verb);
}
