// One end of the chaos soak (RELIABILITY R8), started and killed at random by soak_driver.
//
//   shmrec_soak_peer writer --name N --capacity C --stats FILE [--burst B --pause-us P]
//   shmrec_soak_peer reader --name N --stats FILE
//
// writer: opens the broadcast ring of shmrec_test::Checked with open_or_create (taking over a
//   dead writer's region, or reclaiming a stale name) and writes record p of the region as
//   make_checked(p): the sequence is the region's own position, so a takeover continues it and
//   a reclaimed (new) region starts again at 0.
// reader: reads everything, checks every record (checksum, all fields derived from seq,
//   seq == the position it was read from, seq monotone with every gap reported by lost()),
//   and now and then closes and reopens the region. A reopened region with another creator
//   identity is a new region: its sequence may restart ("reset").
//
// Both report counters to --stats every 100 ms and at exit, and exit 0 on SIGTERM. An
// invariant failure is printed at once and makes the exit status 3.
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <optional>
#include <random>
#include <string>
#include <thread>

#include "checked_record.hpp"
#include "shmrec/broadcast.hpp"
#include "shmrec/error.hpp"
#include "soak_stats.hpp"

namespace {

using shmrec_test::Checked;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

volatile sig_atomic_t stop_requested = 0;

void on_sigterm(int) { stop_requested = 1; }

void install_sigterm() {
    struct sigaction sa {};
    sa.sa_handler = on_sigterm;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: a sleep or futex wait returns early
    ::sigaction(SIGTERM, &sa, nullptr);
}

struct Args {
    std::string role, name, stats;
    std::uint64_t capacity = 1024;
    std::uint64_t burst = 32;
    std::uint64_t pause_us = 100;
};

Args parse(int argc, char** argv) {
    Args a;
    if (argc < 2) throw std::invalid_argument("missing role");
    a.role = argv[1];
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--name") a.name = value;
        else if (key == "--stats") a.stats = value;
        else if (key == "--capacity") a.capacity = std::stoull(value);
        else if (key == "--burst") a.burst = std::stoull(value);
        else if (key == "--pause-us") a.pause_us = std::stoull(value);
        else throw std::invalid_argument("unknown option " + key);
    }
    if (a.name.empty() || a.stats.empty()) throw std::invalid_argument("--name and --stats are required");
    return a;
}

// Stats plus the fd-count sampling and the 100 ms reporting rhythm.
class Reporter {
public:
    explicit Reporter(std::string path) : path_(std::move(path)) {}

    shmrec_soak::Stats stats;

    void sample_fds() {
        const int n = shmrec_soak::open_fd_count();
        if (n < 0) return;
        if (stats.count("fd_first") == 0) stats["fd_first"] = static_cast<std::uint64_t>(n);
        stats["fd_max"] = std::max(stats["fd_max"], static_cast<std::uint64_t>(n));
    }
    void maybe_flush() {
        if (Clock::now() < next_) return;
        flush();
    }
    void flush() {
        next_ = Clock::now() + 100ms;
        shmrec_soak::write_stats(path_, stats);
    }
    void failure(const char* what, const std::string& detail) {
        std::fprintf(stderr, "soak peer %d: INVARIANT FAILED: %s: %s\n", ::getpid(), what,
                     detail.c_str());
        ++stats[what];
        flush();
    }

private:
    std::string path_;
    Clock::time_point next_{};
};

const shmrec::RegionOptions region_options{};

int run_writer(const Args& a) {
    Reporter rep(a.stats);
    const bool existed = std::filesystem::exists("/dev/shm/" + a.name);
    std::optional<shmrec::BroadcastWriter<Checked>> writer;
    while (!writer && !stop_requested) {
        try {
            writer.emplace(shmrec::Broadcast<Checked>::writer(a.name, a.capacity,
                                                              shmrec::OpenMode::open_or_create,
                                                              region_options));
        } catch (const shmrec::Error& e) {
            // writer_active: our predecessor is still being reaped; not_found: the name went
            // between create and open. Both are races the driver's restarts create on purpose.
            ++rep.stats["open_failures"];
            if (rep.stats["open_failures"] % 100 == 1) {
                std::fprintf(stderr, "soak writer %d: open failed (%s), retrying\n", ::getpid(),
                             e.what());
            }
            std::this_thread::sleep_for(5ms);
        }
    }
    if (!writer) return 0;
    const bool created = writer->region().creator().pid == ::getpid();
    rep.stats[created ? (existed ? "reclaimed" : "created") : "took_over"] = 1;
    rep.stats["start_position"] = writer->written();
    rep.sample_fds();
    rep.flush();

    std::uint64_t published = 0;
    while (!stop_requested) {
        for (std::uint64_t i = 0; i < a.burst; ++i) {
            const auto s = writer->try_write(shmrec_test::make_checked(writer->written()));
            if (s != shmrec::WriteStatus::ok) {
                // A broadcast writer never waits and never refuses its own live handle.
                rep.failure("write_errors",
                            "try_write returned " + std::string(shmrec::to_string(s)));
                break;
            }
            ++published;
        }
        rep.stats["published"] = published;
        rep.stats["position"] = writer->written();
        if (a.pause_us != 0) std::this_thread::sleep_for(std::chrono::microseconds(a.pause_us));
        rep.sample_fds();
        rep.maybe_flush();
    }
    writer.reset();  // closes: readers see a clean end of stream
    rep.sample_fds();
    rep.flush();
    return 0;
}

struct Identity {
    std::int32_t pid;
    std::uint64_t creation_time_ns;
    bool operator==(const Identity&) const = default;
};

int run_reader(const Args& a) {
    Reporter rep(a.stats);
    auto& st = rep.stats;
    std::mt19937_64 rng(static_cast<std::uint64_t>(::getpid()) * 0x9e3779b97f4a7c15ULL);
    std::optional<Identity> last_region;  // the region last_seq belongs to
    std::uint64_t last_seq = 0;  // valid when have_last
    bool have_last = false;
    bool sampled_steady_fds = false;

    while (!stop_requested) {
        std::optional<shmrec::BroadcastReader<Checked>> reader;
        try {
            reader.emplace(shmrec::Broadcast<Checked>::reader(a.name, shmrec::StartAt::oldest,
                                                              region_options));
        } catch (const shmrec::Error&) {
            ++st["open_failures"];  // no writer yet, or one still initialising
            rep.maybe_flush();
            std::this_thread::sleep_for(5ms);
            continue;
        }
        const auto creator = reader->region().creator();
        const Identity here{creator.pid, creator.creation_time_ns};
        bool same_region = last_region && *last_region == here;
        if (last_region && !same_region) {
            ++st["resets"];  // a stale name was reclaimed: a new region, a new sequence
            have_last = false;
        }
        if (last_region) ++st["reopens"];
        last_region = here;
        // Records of this region we read before the reopen come again (StartAt::oldest).
        bool rereading = same_region;
        if (!sampled_steady_fds) {
            rep.sample_fds();  // the first open: what every later sample must match
            sampled_steady_fds = true;
        }

        auto reopen_after = Clock::now() + std::chrono::milliseconds(500 + rng() % 3000);
        Checked r{};
        while (!stop_requested) {
            const std::uint64_t lost_before = reader->lost();
            const shmrec::ReadStatus s = reader->read(r, 100ms);
            if (s == shmrec::ReadStatus::ok) {
                const std::uint64_t at = reader->position() - 1;
                if (!shmrec_test::checksum_ok(r) || !shmrec_test::matches_seq(r)) {
                    rep.failure("checksum_errors", "record at position " + std::to_string(at) +
                                                       " (seq field " + std::to_string(r.seq) + ")");
                } else if (r.seq != at) {
                    rep.failure("order_errors", "position " + std::to_string(at) +
                                                    " holds seq " + std::to_string(r.seq));
                } else if (rereading && have_last && r.seq <= last_seq) {
                    ++st["reread"];
                } else {
                    const std::uint64_t gap_lost = reader->lost() - lost_before;
                    if (have_last && r.seq <= last_seq) {
                        rep.failure("order_errors", "seq " + std::to_string(r.seq) + " after " +
                                                        std::to_string(last_seq));
                    } else if (have_last && !rereading && r.seq - last_seq - 1 != gap_lost) {
                        rep.failure("order_errors",
                                    "seq " + std::to_string(r.seq) + " after " +
                                        std::to_string(last_seq) + " but lost() grew by " +
                                        std::to_string(gap_lost));
                    } else {
                        if (have_last && rereading) st["reopen_gap"] += r.seq - last_seq - 1;
                        st["lost"] += gap_lost;
                        ++st["received"];
                        last_seq = r.seq;
                        have_last = true;
                        rereading = false;
                    }
                }
                st["last_seq"] = last_seq;
            } else if (s == shmrec::ReadStatus::corrupt) {
                rep.failure("corrupt_status", "read() returned corrupt at position " +
                                                  std::to_string(reader->position()));
                std::this_thread::sleep_for(10ms);
            } else {
                if (s == shmrec::ReadStatus::closed) ++st["saw_closed"];
                if (s == shmrec::ReadStatus::writer_gone) ++st["saw_writer_gone"];
                if (s != shmrec::ReadStatus::timeout) std::this_thread::sleep_for(5ms);
                // The region never changes under an attached reader; reopen only now and then
                // to exercise open/close, and to find a new region once the old name is gone.
                if (reader->region().health() != shmrec::RegionHealth::ok) break;
            }
            rep.maybe_flush();
            if (Clock::now() >= reopen_after) break;
        }
        // The lap counter belongs to the handle: keep the totals, drop the handle.
        reader.reset();
        rep.sample_fds();
    }
    rep.sample_fds();
    rep.flush();
    return 0;
}

}  // namespace

int main(int argc, char** argv) {
    install_sigterm();
    try {
        const Args a = parse(argc, argv);
        const int rc = a.role == "writer" ? run_writer(a)
                       : a.role == "reader" ? run_reader(a)
                                            : (std::fprintf(stderr, "unknown role\n"), 2);
        if (rc != 0) return rc;
        const auto stats = shmrec_soak::read_stats(a.stats);
        for (const char* key :
             {"checksum_errors", "order_errors", "corrupt_status", "write_errors"}) {
            if (stats.count(key) != 0 && stats.at(key) != 0) return 3;
        }
        return 0;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "shmrec_soak_peer: %s\n", e.what());
        return 2;
    }
}
