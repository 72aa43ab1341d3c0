// The chaos soak of RELIABILITY R8, bounded: a broadcast writer and two readers
// (shmrec_soak_peer) run while the driver, every 0.1-2 s, picks one of them and kills it with
// -9, stops it gracefully with SIGTERM, or freezes it with SIGSTOP and thaws it with SIGCONT
// 20-500 ms later; one time in eight it kills all three at once (a stale region: reclaimed by
// the next writer, or taken over if a reader opens it first). A killed or stopped peer is
// restarted at once.
//
//   shmrec_soak_driver --seconds N --peer PATH [--capacity C] [--seed S] [--name NAME]
//   (`make soak SOAK_SECONDS=N`)
//
// At the end every peer is stopped with SIGTERM and the run fails (exit 1) unless:
//   - no reader found a record with a bad checksum, a field not derived from its seq, a seq
//     other than its position, or a seq out of order other than a gap lost() reported;
//   - no read returned `corrupt`, no peer exited on its own or ignored SIGTERM for 5 s;
//   - /dev/shm never held more than one entry of the soak's name, and none after cleanup;
//   - the driver's open descriptors are as many as at the start, and no peer's grew;
//   - records were written and each reader received some.
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "shmrec/error.hpp"
#include "shmrec/region.hpp"
#include "soak_stats.hpp"

namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;
using shmrec_soak::Stats;

struct Options {
    double seconds = 60;
    std::string peer;
    std::string name;
    std::uint64_t capacity = 1024;
    std::uint64_t seed = 0;
};

struct Peer {
    std::string role;   // "writer", "reader0", "reader1"
    pid_t pid = -1;
    bool stopped = false;
    Clock::time_point cont_at{};
    int instances = 0;
    std::string stats_path;  // of the running instance
};

std::vector<std::string> failures;
std::map<std::string, std::uint64_t> restarts;  // by kind
Stats writer_totals;
std::array<Stats, 2> reader_totals;

void fail(const std::string& what) {
    std::fprintf(stderr, "soak: FAILED: %s\n", what.c_str());
    failures.push_back(what);
}

std::size_t shm_entries(const std::string& name) {
    std::size_t n = 0;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator("/dev/shm", ec)) {
        if (e.path().filename().string().rfind(name, 0) == 0) ++n;
    }
    return n;
}

class Driver {
public:
    Driver(Options o, fs::path dir) : opt_(std::move(o)), dir_(std::move(dir)), rng_(opt_.seed) {
        peers_[0].role = "writer";
        peers_[1].role = "reader0";
        peers_[2].role = "reader1";
    }

    int run();

private:
    void start(Peer& p);
    void account(Peer& p, int status, bool expected_exit);
    void reap_unexpected();
    bool wait_exit(Peer& p, std::chrono::milliseconds limit, int& status);
    void act();
    void shutdown();
    void progress(const char* prefix);

    Options opt_;
    fs::path dir_;
    std::mt19937_64 rng_;
    std::array<Peer, 3> peers_;
    std::size_t shm_max_ = 0;
};

void Driver::start(Peer& p) {
    p.stats_path = (dir_ / (p.role + "-" + std::to_string(p.instances++) + ".stats")).string();
    std::vector<std::string> args{opt_.peer, p.role == "writer" ? "writer" : "reader", "--name",
                                  opt_.name, "--stats", p.stats_path};
    if (p.role == "writer") {
        args.insert(args.end(), {"--capacity", std::to_string(opt_.capacity)});
    }
    const pid_t parent = ::getpid();
    const pid_t pid = ::fork();
    if (pid < 0) {
        fail("fork failed");
        return;
    }
    if (pid == 0) {
        // A peer must not outlive a driver that was killed itself.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != parent) ::_exit(0);
        std::vector<char*> argv;
        for (auto& a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    p.pid = pid;
    p.stopped = false;
}

// Adds a finished instance's last report to the totals.
void Driver::account(Peer& p, int status, bool expected_exit) {
    const Stats s = shmrec_soak::read_stats(p.stats_path);
    Stats& totals = p.role == "writer" ? writer_totals : reader_totals[p.role == "reader0" ? 0 : 1];
    for (const auto& [key, value] : s) {
        if (key == "fd_first" || key == "fd_max" || key == "last_seq" || key == "position" ||
            key == "start_position") {
            continue;
        }
        totals[key] += value;
    }
    if (s.count("fd_first") != 0 && s.at("fd_max") > s.at("fd_first")) {
        fail(p.role + " pid " + std::to_string(p.pid) + ": open descriptors grew from " +
             std::to_string(s.at("fd_first")) + " to " + std::to_string(s.at("fd_max")));
    }
    ++totals["fd_samples"];
    if (!expected_exit) {
        fail(p.role + " pid " + std::to_string(p.pid) + " exited on its own (status 0x" +
             [&] { char b[16]; std::snprintf(b, sizeof b, "%x", status); return std::string(b); }() +
             ")");
    } else if (WIFEXITED(status) && WEXITSTATUS(status) != 0) {
        fail(p.role + " pid " + std::to_string(p.pid) + " exited with status " +
             std::to_string(WEXITSTATUS(status)));
    }
    std::error_code ec;
    fs::remove(p.stats_path, ec);
    fs::remove(p.stats_path + ".tmp", ec);
    p.pid = -1;
}

void Driver::reap_unexpected() {
    for (auto& p : peers_) {
        if (p.pid < 0) continue;
        int status = 0;
        if (::waitpid(p.pid, &status, WNOHANG) == p.pid) {
            account(p, status, false);
            ++restarts["after_unexpected_exit"];
            start(p);
        }
    }
}

bool Driver::wait_exit(Peer& p, std::chrono::milliseconds limit, int& status) {
    const auto deadline = Clock::now() + limit;
    while (Clock::now() < deadline) {
        if (::waitpid(p.pid, &status, WNOHANG) == p.pid) return true;
        std::this_thread::sleep_for(2ms);
    }
    return false;
}

// One random disturbance of one running, not stopped peer.
void Driver::act() {
    std::vector<Peer*> candidates;
    for (auto& p : peers_) {
        if (p.pid > 0 && !p.stopped) candidates.push_back(&p);
    }
    if (candidates.empty()) return;
    int status = 0;
    if (rng_() % 8 == 0) {
        // Everybody dies at once: the next opener finds a stale region. A writer first
        // reclaims the name (a new region, the sequence restarts); a reader first keeps the
        // old region alive and the writer takes it over.
        for (auto& q : peers_) {
            if (q.pid < 0) continue;
            ::kill(q.pid, SIGKILL);
            ::waitpid(q.pid, &status, 0);
            q.stopped = false;
            account(q, status, true);
        }
        ++restarts["kill9_all"];
        // The first one gets a head start, so that it really is first to open.
        const std::size_t first = rng_() % 2 == 0 ? 0 : 1 + rng_() % 2;  // writer: half the time
        start(peers_[first]);
        std::this_thread::sleep_for(std::chrono::milliseconds(50 + rng_() % 100));
        for (std::size_t i = 1; i < peers_.size(); ++i) start(peers_[(first + i) % peers_.size()]);
        return;
    }
    Peer& p = *candidates[rng_() % candidates.size()];
    switch (rng_() % 3) {
        case 0:
            ::kill(p.pid, SIGKILL);
            ::waitpid(p.pid, &status, 0);
            ++restarts["kill9_" + p.role];
            account(p, status, true);
            start(p);
            break;
        case 1:
            ::kill(p.pid, SIGTERM);
            if (!wait_exit(p, 5000ms, status)) {
                fail(p.role + " pid " + std::to_string(p.pid) + " ignored SIGTERM for 5 s");
                ::kill(p.pid, SIGKILL);
                ::waitpid(p.pid, &status, 0);
            }
            ++restarts["sigterm_" + p.role];
            account(p, status, true);
            start(p);
            break;
        default:
            ::kill(p.pid, SIGSTOP);
            p.stopped = true;
            p.cont_at = Clock::now() + std::chrono::milliseconds(20 + rng_() % 480);
            ++restarts["sigstop_" + p.role];
            break;
    }
}

void Driver::shutdown() {
    for (auto& p : peers_) {
        if (p.pid > 0 && p.stopped) ::kill(p.pid, SIGCONT);
    }
    // Readers first, so the writer's close is not what they see last.
    for (int i : {1, 2, 0}) {
        Peer& p = peers_[i];
        if (p.pid < 0) continue;
        ::kill(p.pid, SIGTERM);
        int status = 0;
        if (!wait_exit(p, 5000ms, status)) {
            fail(p.role + " pid " + std::to_string(p.pid) + " ignored the final SIGTERM for 5 s");
            ::kill(p.pid, SIGKILL);
            ::waitpid(p.pid, &status, 0);
        }
        account(p, status, true);
    }
}

std::string total_line(const Stats& s, std::initializer_list<const char*> keys) {
    std::string line;
    for (const char* k : keys) {
        const auto it = s.find(k);
        line += std::string(line.empty() ? "" : "  ") + k + "=" +
                std::to_string(it == s.end() ? 0 : it->second);
    }
    return line;
}

void Driver::progress(const char* prefix) {
    std::uint64_t r = 0;
    for (const auto& t : reader_totals) r += t.count("received") ? t.at("received") : 0;
    std::uint64_t n = 0;
    for (const auto& [k, v] : restarts) n += v;
    std::printf("%s written(finished writers)=%llu received(finished readers)=%llu "
                "disturbances=%llu\n",
                prefix, static_cast<unsigned long long>(writer_totals["published"]),
                static_cast<unsigned long long>(r), static_cast<unsigned long long>(n));
    std::fflush(stdout);
}

int Driver::run() {
    const int fds_at_start = shmrec_soak::open_fd_count();
    const auto start_time = Clock::now();
    const auto end = start_time + std::chrono::duration_cast<Clock::duration>(
                                      std::chrono::duration<double>(opt_.seconds));
    std::printf("soak: %s for %.0f s, capacity %llu, seed %llu, stats in %s\n", opt_.name.c_str(),
                opt_.seconds, static_cast<unsigned long long>(opt_.capacity),
                static_cast<unsigned long long>(opt_.seed), dir_.c_str());
    for (auto& p : peers_) start(p);
    auto next_action = Clock::now() + 300ms;  // let everybody open once
    auto next_progress = Clock::now() + 10s;
    while (Clock::now() < end) {
        std::this_thread::sleep_for(5ms);
        const auto now = Clock::now();
        for (auto& p : peers_) {
            if (p.stopped && now >= p.cont_at) {
                ::kill(p.pid, SIGCONT);
                p.stopped = false;
            }
        }
        reap_unexpected();
        shm_max_ = std::max(shm_max_, shm_entries(opt_.name));
        if (now >= next_action) {
            act();
            next_action = Clock::now() + std::chrono::milliseconds(100 + rng_() % 1900);
        }
        if (now >= next_progress) {
            const auto elapsed =
                std::chrono::duration_cast<std::chrono::seconds>(now - start_time).count();
            const std::string prefix = "soak: " + std::to_string(elapsed) + " s:";
            progress(prefix.c_str());
            next_progress = now + 10s;
        }
    }
    shutdown();

    shm_max_ = std::max(shm_max_, shm_entries(opt_.name));
    try {
        shmrec::remove_region(shmrec::Location::memory(opt_.name));
    } catch (const shmrec::Error& e) {
        fail(std::string("removing the region: ") + e.what());
    }
    const std::size_t shm_left = shm_entries(opt_.name);
    const int fds_at_end = shmrec_soak::open_fd_count();

    std::printf("soak: totals after %.0f s\n", opt_.seconds);
    std::printf("  writer:  %s\n",
                total_line(writer_totals, {"published", "created", "took_over", "reclaimed",
                                           "open_failures", "write_errors"})
                    .c_str());
    for (int i = 0; i < 2; ++i) {
        std::printf("  reader%d: %s\n", i,
                    total_line(reader_totals[i],
                               {"received", "lost", "reread", "reopen_gap", "reopens", "resets",
                                "saw_closed", "saw_writer_gone", "open_failures"})
                        .c_str());
        std::printf("           %s\n", total_line(reader_totals[i], {"checksum_errors",
                                                                      "order_errors",
                                                                      "corrupt_status"})
                                           .c_str());
    }
    std::string kinds;
    std::uint64_t total_restarts = 0;
    for (const auto& [k, v] : restarts) {
        kinds += "  " + k + "=" + std::to_string(v);
        total_restarts += v;
    }
    std::printf("  disturbances: %llu:%s\n", static_cast<unsigned long long>(total_restarts),
                kinds.c_str());
    std::printf("  /dev/shm entries: max %zu during the run, %zu after cleanup\n", shm_max_,
                shm_left);
    std::printf("  driver fds: %d at start, %d at end; peer instances checked: %llu\n",
                fds_at_start, fds_at_end,
                static_cast<unsigned long long>(writer_totals["fd_samples"] +
                                                reader_totals[0]["fd_samples"] +
                                                reader_totals[1]["fd_samples"]));

    for (int i = 0; i < 2; ++i) {
        for (const char* key : {"checksum_errors", "order_errors", "corrupt_status"}) {
            if (reader_totals[i][key] != 0) {
                fail("reader" + std::to_string(i) + ": " + std::to_string(reader_totals[i][key]) +
                     " " + key);
            }
        }
        if (reader_totals[i]["received"] == 0) {
            fail("reader" + std::to_string(i) + " received nothing");
        }
    }
    if (writer_totals["published"] == 0) fail("nothing was written");
    if (writer_totals["write_errors"] != 0) {
        fail("writer: " + std::to_string(writer_totals["write_errors"]) + " write_errors");
    }
    if (shm_max_ > 1) fail("/dev/shm held " + std::to_string(shm_max_) + " entries of the soak");
    if (shm_left != 0) fail("/dev/shm still holds the soak's region after cleanup");
    if (fds_at_end != fds_at_start) {
        fail("driver descriptors went from " + std::to_string(fds_at_start) + " to " +
             std::to_string(fds_at_end));
    }
    if (failures.empty()) {
        std::printf("soak: PASSED\n");
        return 0;
    }
    std::printf("soak: FAILED (%zu invariant failures, see above)\n", failures.size());
    return 1;
}

Options parse(int argc, char** argv) {
    Options o;
    o.name = "shmrec-soak-" + std::to_string(::getpid());
    o.seed = static_cast<std::uint64_t>(Clock::now().time_since_epoch().count());
    for (int i = 1; i + 1 < argc; i += 2) {
        const std::string key = argv[i], value = argv[i + 1];
        if (key == "--seconds") o.seconds = std::stod(value);
        else if (key == "--peer") o.peer = value;
        else if (key == "--name") o.name = value;
        else if (key == "--capacity") o.capacity = std::stoull(value);
        else if (key == "--seed") o.seed = std::stoull(value);
        else throw std::invalid_argument("unknown option " + key);
    }
    if (o.peer.empty()) throw std::invalid_argument("--peer PATH is required");
    return o;
}

}  // namespace

int main(int argc, char** argv) {
    try {
        const Options o = parse(argc, argv);
        std::string templ = (fs::temp_directory_path() / "shmrec-soak-XXXXXX").string();
        if (::mkdtemp(templ.data()) == nullptr) throw std::runtime_error("mkdtemp failed");
        const int rc = Driver(o, templ).run();
        std::error_code ec;
        fs::remove_all(templ, ec);
        return rc;
    } catch (const std::exception& e) {
        std::fprintf(stderr, "shmrec_soak_driver: %s\n", e.what());
        return 2;
    }
}
