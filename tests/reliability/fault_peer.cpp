// shmrec_fault_peer: the other process of the reliability tests. Linked against the runtime
// built with fault points (shmrec_runtime_faults), so SHMREC_FAULT="<point>:<N>:<action>" in
// its environment kills or stops it at the N-th hit of a point (detail/fault.hpp).
//
//   write   --kind K --name N [--open create|open|either] [--capacity C] [--count C]
//           [--interval-us U] [--wait-go] [--progress] [--hold] [--list-shm]
//   read    --kind K --name N [--timeout-ms T] [--deadline-ms D] [--quiet] [--exit-on-gone]
//           [--start oldest|newest] [--sigusr1] [--futex-only]
//   race    --name N                 barrier: reads fd 3 until EOF, then create-or-open a cell
//   open    --kind K --name N        a reader's open only (prints the outcome and its time)
//   probe   --kind K --name N        opens a reader, prints writer_alive and health
//   chaos   --kind K --name N --duration-ms D [--seed S]   random values into the counters
//   waker   --kind K --name N --duration-ms D [--seed S]   FUTEX_WAKE on the doorbells (and
//                                                           the counters' low halves)
//   scribble --kind K --name N       a reader writing through its read-only mapping
//   timed-wait --kind K --name N --wait-ms W --repeat R [--sigusr1]
//   slot    --name N --slot S --mode exclusive|shared   (Windows) takes lock slot S of memory
//           region N's companions (platform::LockSlots, no region needed), prints
//           "slot held=1|0", then holds it until "quit"
//   fill-tmpfs --kind K --name N --capacity C --count C    (inside a private small tmpfs)
//
// On Windows the arguments are read from the wide command line as UTF-8 (the C runtime's argv
// is in the ANSI code page, which cannot spell every path). slot is Windows-only (the POSIX
// slots are locks on a descriptor, which that command does not have).
// On Windows: waker, fill-tmpfs and --sigusr1 are Linux-only (futexes, tmpfs, signals) and
// refused with exit 2; race takes its barrier from SpawnOptions::extra_fd (extra_fd_in_child());
// ino= is the identity of the region mapped (its creator's pid and creation time), not an inode.
//
// K is cell, ring or broadcast; --file makes N a file path instead of a shared-memory name;
// --init-timeout-ms sets RegionOptions::init_timeout, --wait-for-creator-ms
// RegionOptions::wait_for_creator, --remove-on-close RegionOptions::remove_on_close. Output: one line per event, "word
// key=value ...". Setup failures print "error code=<ErrorCode> what=<message>" and exit 3.
// While writing or reading, lines on stdin are commands: go, health, alive, stats, quit.
#include <fcntl.h>
#include <signal.h>
#include <sys/stat.h>
#if defined(_WIN32)
#include <io.h>
#else
#include <linux/futex.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>
#endif

#include <algorithm>
#include <atomic>
#include <chrono>
#include <climits>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "reliability_support.hpp"
#if defined(_WIN32)
#include "platform/lock_slots.hpp"
#endif
#include "shmrec/detail/broadcast_layout.hpp"
#include "shmrec/detail/cell_layout.hpp"
#include "shmrec/detail/region_access.hpp"
#include "shmrec/detail/ring_layout.hpp"
#include "shmrec/shmrec.hpp"
#include "test_records.shmrec.hpp"

using namespace std::chrono_literals;
using shmrec_test::Checked;
using reltest::intact;
using reltest::make_checked;
using Clock = std::chrono::steady_clock;
using shmrec::detail::RegionAccess;

namespace {

// ---- arguments and output ------------------------------------------------------------------

struct Args {
    std::string command;
    std::map<std::string, std::string> values;
    bool flag(const std::string& k) const { return values.count(k) != 0; }
    std::string get(const std::string& k, const std::string& fallback = "") const {
        const auto it = values.find(k);
        return it == values.end() ? fallback : it->second;
    }
    long long num(const std::string& k, long long fallback) const {
        const auto it = values.find(k);
        return it == values.end() ? fallback : std::stoll(it->second);
    }
};

Args parse(int argc, char** argv) {
    Args a;
    if (argc > 1) a.command = argv[1];
    for (int i = 2; i < argc; ++i) {
        std::string k = argv[i];
        if (k.rfind("--", 0) != 0) continue;
        k = k.substr(2);
        if (i + 1 < argc && std::string(argv[i + 1]).rfind("--", 0) != 0) {
            a.values[k] = argv[++i];
        } else {
            a.values[k] = "1";
        }
    }
    return a;
}

void out(const std::string& line) {
    std::fputs((line + "\n").c_str(), stdout);
    std::fflush(stdout);
}

[[noreturn]] void fail_setup(const shmrec::Error& e, const std::function<void()>& after = {}) {
    out("error code=" + std::string(shmrec::to_string(e.code())) + " what=" + e.what());
    if (after) after();
    std::exit(3);
}

shmrec::Location location(const Args& a) {
    const std::string n = a.get("name");
    return a.flag("file") ? shmrec::Location::file(n) : shmrec::Location::memory(n);
}

shmrec::RegionOptions region_options(const Args& a) {
    shmrec::RegionOptions o;
    o.init_timeout = std::chrono::milliseconds(a.num("init-timeout-ms", 2000));
    o.wait_for_creator = std::chrono::milliseconds(a.num("wait-for-creator-ms", 0));
    o.remove_on_close = a.flag("remove-on-close");
    return o;
}

shmrec::OpenMode open_mode(const Args& a) {
    const std::string m = a.get("open", "create");
    if (m == "open") return shmrec::OpenMode::open_only;
    if (m == "either") return shmrec::OpenMode::open_or_create;
    return shmrec::OpenMode::create_only;
}

#if defined(_WIN32)
// Which region this process really attached to: a Windows view has no inode, so the identity is
// the creator's pid and creation time its header records (every region has its own).
unsigned long long region_identity(const shmrec::Region& region) {
    const auto c = region.creator();
    return c.creation_time_ns ^ (static_cast<unsigned long long>(c.pid) << 48);
}
#else
// Inode of the file mapped at `addr`, from /proc/self/maps: which region this process really
// attached to, whatever the name leads to now.
unsigned long mapping_inode(const void* addr) {
    std::ifstream maps("/proc/self/maps");
    std::string line;
    const auto a = reinterpret_cast<std::uintptr_t>(addr);
    while (std::getline(maps, line)) {
        std::istringstream s(line);
        std::string range, perms, offset, dev;
        unsigned long inode = 0;
        s >> range >> perms >> offset >> dev >> inode;
        const auto dash = range.find('-');
        const auto lo = std::stoull(range.substr(0, dash), nullptr, 16);
        const auto hi = std::stoull(range.substr(dash + 1), nullptr, 16);
        if (a >= lo && a < hi) return inode;
    }
    return 0;
}

unsigned long region_identity(const shmrec::Region& region) {
    return mapping_inode(RegionAccess::base(region));
}
#endif

std::string health_name(shmrec::RegionHealth h) {
    switch (h) {
        case shmrec::RegionHealth::ok: return "ok";
        case shmrec::RegionHealth::unlinked: return "unlinked";
        case shmrec::RegionHealth::replaced: return "replaced";
    }
    return "unknown";
}

void list_shm(const Args& a) {
#if defined(_WIN32)
    // No directory of objects to list: whether the object of that very name exists.
    const HANDLE h = ::OpenFileMappingW(FILE_MAP_READ, FALSE,
                                        shmrec_test::object_name(a.get("name")).c_str());
    if (h != nullptr) ::CloseHandle(h);
    out(std::string("shm-entries n=") + (h != nullptr ? "1" : "0"));
#else
    out("shm-entries n=" +
        std::to_string(reltest::entries_with_prefix("/dev/shm", a.get("name")).size()));
#endif
}

// ---- stdin commands ------------------------------------------------------------------------

class Commands {
public:
    // The next complete command line, if one is waiting; "quit" once stdin is closed.
    std::optional<std::string> poll_command(int timeout_ms = 0) {
        if (eof_) return std::nullopt;
        if (auto l = take()) return l;
#if defined(_WIN32)
        // stdin is an anonymous pipe: no poll(), so peek until data (or a broken pipe) comes.
        const HANDLE in = ::GetStdHandle(STD_INPUT_HANDLE);
        const auto until = Clock::now() + std::chrono::milliseconds(timeout_ms);
        DWORD available = 0;
        bool broken = false;
        for (;;) {
            if (!::PeekNamedPipe(in, nullptr, 0, nullptr, &available, nullptr)) broken = true;
            if (broken || available > 0 || Clock::now() >= until) break;
            std::this_thread::sleep_for(1ms);
        }
        if (!broken && available == 0) return std::nullopt;
        char chunk[256];
        DWORD got = 0;
        const long n = !broken && ::ReadFile(in, chunk, std::min<DWORD>(available, sizeof chunk),
                                             &got, nullptr)
                           ? static_cast<long>(got)
                           : 0;
#else
        pollfd p{0, POLLIN, 0};
        if (::poll(&p, 1, timeout_ms) <= 0) return std::nullopt;
        char chunk[256];
        const ssize_t n = ::read(0, chunk, sizeof chunk);
#endif
        if (n <= 0) {
            eof_ = true;
            return std::string("quit");
        }
        buffer_.append(chunk, static_cast<std::size_t>(n));
        return take();
    }
    // Blocks until `word` arrives (or stdin closes).
    void wait_for(const std::string& word) {
        for (;;) {
            const auto c = poll_command(1000);
            if (c && (*c == word || *c == "quit")) return;
            if (eof_) return;
        }
    }

private:
    std::optional<std::string> take() {
        const auto pos = buffer_.find('\n');
        if (pos == std::string::npos) return std::nullopt;
        std::string line = buffer_.substr(0, pos);
        buffer_.erase(0, pos + 1);
        if (!line.empty() && line.back() == '\r') line.pop_back();
        return line;
    }
    std::string buffer_;
    bool eof_ = false;
};

// Answers the commands every loop understands; returns true on "quit".
bool answer(const std::string& cmd, const shmrec::Region& region,
            const std::function<std::string()>& stats) {
    if (cmd == "quit") return true;
    if (cmd == "health") out("health value=" + health_name(region.health()));
    if (cmd == "alive") out(std::string("alive value=") + (region.writer_alive() ? "1" : "0"));
    if (cmd == "stats") out("stats " + stats());
    return false;
}

// ---- signals -------------------------------------------------------------------------------

std::atomic<long> g_signals{0};

extern "C" void on_sigusr1(int) { g_signals.fetch_add(1, std::memory_order_relaxed); }

#if defined(_WIN32)
void install_sigusr1() {
    out("error code=unsupported what=--sigusr1 is Linux-only");
    std::exit(2);
}
#else
void install_sigusr1() {
    struct sigaction sa {};
    sa.sa_handler = on_sigusr1;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0;  // no SA_RESTART: blocking calls see EINTR
    sigaction(SIGUSR1, &sa, nullptr);
}
#endif

// ---- write ---------------------------------------------------------------------------------

template <class Writer>
struct WriterSetup {
    Writer writer;
    bool created;
};

// open_or_create, but telling which of the two happened.
template <class Make>
auto make_writer(shmrec::OpenMode mode, Make&& make) {
    using W = decltype(make(shmrec::OpenMode::create_only));
    if (mode == shmrec::OpenMode::open_or_create) {
        try {
            return WriterSetup<W>{make(shmrec::OpenMode::create_only), true};
        } catch (const shmrec::Error& e) {
            if (e.code() != shmrec::ErrorCode::already_exists) throw;
        }
        return WriterSetup<W>{make(shmrec::OpenMode::open_only), false};
    }
    return WriterSetup<W>{make(mode), mode == shmrec::OpenMode::create_only};
}

// Writes records numbered from the channel's own count, so a writer that takes over continues
// the sequence of the one it replaces.
template <class Writer, class Seq, class Put>
int write_loop(const Args& a, Writer& w, bool created, Seq&& next_seq, Put&& put) {
    Commands cmds;
    const auto& region = w.region();
    out("ready created=" + std::to_string(created ? 1 : 0) +
        " start=" + std::to_string(next_seq()) + " ino=" +
        std::to_string(region_identity(region)) +
        " pid=" + std::to_string(shmrec_test::this_pid()));
    if (a.flag("list-shm")) list_shm(a);
    if (a.flag("wait-go")) cmds.wait_for("go");
    const long long count = a.num("count", 0);  // 0: until "quit"
    const auto interval = std::chrono::microseconds(a.num("interval-us", 0));
    const bool progress = a.flag("progress");
    long long written = 0;
    auto stats = [&] { return "written=" + std::to_string(written); };
    bool quit = false;
    while (!quit && (count == 0 || written < count)) {
        while (auto c = cmds.poll_command()) {
            if (answer(*c, region, stats)) quit = true;
        }
        if (quit) break;
        const std::uint64_t seq = next_seq();
        if (!put(make_checked(seq), cmds)) {
            out("s write_failed written=" + std::to_string(written));
            return 4;
        }
        ++written;
        if (progress) out("w seq=" + std::to_string(seq));
        if (interval.count() > 0) shmrec_test::sleep_at_least(interval);
    }
    out("done " + stats() + " next=" + std::to_string(next_seq()));
    if (a.flag("hold")) {
        for (;;) {
            const auto c = cmds.poll_command(1000);
            if (c && answer(*c, region, stats)) break;
        }
    }
    return 0;  // the writer's destructor closes the channel cleanly
}

int cmd_write(const Args& a) {
    const auto where = location(a);
    const auto opts = region_options(a);
    const auto mode = open_mode(a);
    const std::string kind = a.get("kind", "ring");
    const auto capacity = static_cast<std::uint64_t>(a.num("capacity", 16));
    auto after_error = [&] {
        if (a.flag("list-shm")) list_shm(a);
    };
    try {
        if (kind == "cell") {
            auto s = make_writer(mode, [&](shmrec::OpenMode m) {
                return shmrec::Cell<Checked>::writer(where, m, opts);
            });
            return write_loop(
                a, s.writer, s.created, [&] { return s.writer.written(); },
                [&](const Checked& r, Commands&) {
                    return s.writer.try_write(r) == shmrec::WriteStatus::ok;
                });
        }
        if (kind == "broadcast") {
            auto s = make_writer(mode, [&](shmrec::OpenMode m) {
                return shmrec::Broadcast<Checked>::writer(where, capacity, m, opts);
            });
            return write_loop(
                a, s.writer, s.created, [&] { return s.writer.written(); },
                [&](const Checked& r, Commands&) {
                    return s.writer.try_write(r) == shmrec::WriteStatus::ok;
                });
        }
        auto s = make_writer(mode, [&](shmrec::OpenMode m) {
            return shmrec::Ring<Checked>::writer(where, capacity, m, opts);
        });
        const auto give_up = std::chrono::milliseconds(a.num("give-up-ms", 30000));
        return write_loop(
            a, s.writer, s.created, [&] { return s.writer.written(); },
            [&](const Checked& r, Commands&) {
                // A full ring waits; a dead consumer (reader_gone) is waited out too, for the
                // replacement consumer the test starts, and so is a consumer that has not
                // attached yet (no_reader).
                const auto deadline = Clock::now() + give_up;
                while (Clock::now() < deadline) {
                    const auto st = s.writer.write(r, 50ms);
                    if (st == shmrec::WriteStatus::ok) return true;
                    if (st == shmrec::WriteStatus::reader_gone) std::this_thread::sleep_for(2ms);
                }
                return false;
            });
    } catch (const shmrec::Error& e) {
        fail_setup(e, after_error);
    }
}

// ---- read ----------------------------------------------------------------------------------

// What a reader saw, checked as it goes.
struct Tally {
    std::uint64_t received = 0;
    std::uint64_t bad = 0;        // checksum failures
    std::uint64_t order = 0;      // a seq at or below the previous one (duplicate, reordered)
    std::uint64_t gaps = 0;       // records skipped between consecutive seqs
    std::uint64_t timeouts = 0;
    std::uint64_t gone = 0;
    std::uint64_t corrupt = 0;
    std::uint64_t false_changes = 0;  // cell: "changed" without a newer record
    std::optional<std::uint64_t> last;
    std::string last_status;
    double max_step_ms = 0;  // the longest single blocking read

    void see(const Checked& r, bool quiet) {
        const bool ok = intact(r);
        ++received;
        if (!ok) {
            ++bad;
        } else if (last && r.seq <= *last) {
            ++order;
        } else {
            if (last) gaps += r.seq - *last - 1;
            last = r.seq;
        }
        if (!quiet) out("r seq=" + std::to_string(r.seq) + " ok=" + (ok ? "1" : "0"));
        last_status = "ok";
    }
    // Prints a status once per run of the same status.
    void status(const std::string& s) {
        if (s == "timeout") ++timeouts;
        if (s == "writer_gone") ++gone;
        if (s == "corrupt") ++corrupt;
        if (s != last_status) out("s " + s);
        last_status = s;
    }
    std::string summary() const {
        return "received=" + std::to_string(received) + " bad=" + std::to_string(bad) +
               " order=" + std::to_string(order) + " gaps=" + std::to_string(gaps) +
               " timeouts=" + std::to_string(timeouts) + " gone=" + std::to_string(gone) +
               " corrupt=" + std::to_string(corrupt) + " false=" + std::to_string(false_changes) +
               " last=" + (last ? std::to_string(*last) : std::string("none")) +
               " signals=" + std::to_string(g_signals.load()) +
               " max_step_ms=" + std::to_string(static_cast<long>(max_step_ms));
    }
};

// Runs `step` (one blocking read) until it asks to stop, "quit", or the deadline.
template <class Reader, class Step>
int read_loop(const Args& a, Reader& r, std::uint64_t start, Step&& step,
              const std::function<std::string()>& extra = {}) {
    Commands cmds;
    Tally t;
    out("ready ino=" + std::to_string(region_identity(r.region())) +
        " start=" + std::to_string(start) + " pid=" + std::to_string(shmrec_test::this_pid()));
    const auto deadline = Clock::now() + std::chrono::milliseconds(a.num("deadline-ms", 20000));
    const auto timeout = std::chrono::milliseconds(a.num("timeout-ms", 100));
    auto stats = [&] { return t.summary() + (extra ? " " + extra() : ""); };
    bool quit = false;
    while (!quit && Clock::now() < deadline) {
        while (auto c = cmds.poll_command()) {
            if (answer(*c, r.region(), stats)) quit = true;
        }
        if (quit) break;
        const auto t0 = Clock::now();
        const std::string s = step(t, timeout);
        t.max_step_ms = std::max(
            t.max_step_ms, std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
        if (s == "stop") break;
        if (s == "writer_gone") {
            if (a.flag("exit-on-gone")) break;
            std::this_thread::sleep_for(5ms);  // a dead writer answers at once: don't spin
        }
        if (s == "corrupt") std::this_thread::sleep_for(1ms);
    }
    out("end " + stats());
    return 0;
}

int cmd_read(const Args& a) {
    const auto where = location(a);
    const auto opts = region_options(a);
    // --futex-only: no spin before sleeping, and liveness looked at only every 10 s, so a
    // missed wake-up would show as a 10 s stall instead of being covered by the next check.
    shmrec::WaitOptions wait;
    if (a.flag("futex-only")) {
        wait.spin_iterations = 0;
        wait.liveness_interval = std::chrono::seconds(10);
    }
    const std::string kind = a.get("kind", "ring");
    const bool quiet = a.flag("quiet");
    if (a.flag("sigusr1")) install_sigusr1();
    // One blocking read of a ring or broadcast reader, tallied; "stop" once it is closed.
    auto stream_step = [&](auto& r, Tally& t, std::chrono::milliseconds to) {
        Checked rec;
        const auto st = r.read(rec, to);
        if (st == shmrec::ReadStatus::ok) {
            t.see(rec, quiet);
            return std::string("ok");
        }
        const std::string s(shmrec::to_string(st));
        t.status(s);
        return s == "closed" ? std::string("stop") : s;
    };
    try {
        if (kind == "cell") {
            auto r = shmrec::Cell<Checked>::reader(where, opts, wait);
            return read_loop(a, r, r.sequence(), [&](Tally& t, std::chrono::milliseconds to) {
                Checked rec;
                const auto before = t.last;
                const auto st = r.read(rec, to);
                if (st == shmrec::ReadStatus::ok) {
                    // ok promises a record newer than the last one read.
                    if (before && intact(rec) && rec.seq <= *before) ++t.false_changes;
                    t.see(rec, quiet);
                    return std::string("ok");
                }
                const std::string s(shmrec::to_string(st));
                t.status(s);
                return s == "closed" ? std::string("stop") : s;
            });
        }
        if (kind == "broadcast") {
            const auto start = a.get("start", "oldest") == "newest" ? shmrec::StartAt::newest
                                                                    : shmrec::StartAt::oldest;
            auto r = shmrec::Broadcast<Checked>::reader(where, start, opts, wait);
            return read_loop(
                a, r, r.start_position(),
                [&](Tally& t, std::chrono::milliseconds to) { return stream_step(r, t, to); },
                [&] {
                    return "lost=" + std::to_string(r.lost()) +
                           " position=" + std::to_string(r.position()) +
                           " start=" + std::to_string(r.start_position()) +
                           " lib_received=" + std::to_string(r.received());
                });
        }
        auto r = shmrec::Ring<Checked>::reader(where, opts, wait);
        return read_loop(
            a, r, r.consumed(),
            [&](Tally& t, std::chrono::milliseconds to) { return stream_step(r, t, to); },
            [&] { return "consumed=" + std::to_string(r.consumed()); });
    } catch (const shmrec::Error& e) {
        fail_setup(e);
    }
}

// ---- race, open, probe ---------------------------------------------------------------------

int cmd_race(const Args& a) {
    const auto where = location(a);
    out("waiting");
    char c;
#if defined(_WIN32)
    const int barrier = shmrec_test::extra_fd_in_child();
    while (::_read(barrier, &c, 1) > 0) {
    }  // the barrier: EOF when the driver closes the pipe's write end
#else
    while (::read(3, &c, 1) > 0) {
    }  // the barrier: EOF when the driver closes the pipe's write end
#endif
    const auto t0 = Clock::now();
    std::optional<shmrec::Cell<Checked>::Writer> w;
    std::optional<shmrec::Cell<Checked>::Reader> r;
    try {
        try {
            w.emplace(shmrec::Cell<Checked>::writer(where, shmrec::OpenMode::create_only));
        } catch (const shmrec::Error& e) {
            if (e.code() != shmrec::ErrorCode::already_exists) throw;
            r.emplace(shmrec::Cell<Checked>::reader(where));
        }
    } catch (const shmrec::Error& e) {
        out("error code=" + std::string(shmrec::to_string(e.code())) + " what=" + e.what());
        Commands().wait_for("quit");
        return 3;
    }
    const auto& region = w ? w->region() : r->region();
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
    out("race created=" + std::to_string(w ? 1 : 0) +
        " ino=" + std::to_string(region_identity(region)) +
        " state=" + std::to_string(static_cast<int>(region.state())) + " ms=" + std::to_string(ms));
    Commands().wait_for("quit");  // keep the region attached until every racer has reported
    return 0;
}

template <class Fn>
int with_reader(const Args& a, Fn&& fn) {
    const auto where = location(a);
    const auto opts = region_options(a);
    const std::string kind = a.get("kind", "ring");
    if (kind == "cell") {
        auto r = shmrec::Cell<Checked>::reader(where, opts);
        return fn(r);
    }
    if (kind == "broadcast") {
        auto r = shmrec::Broadcast<Checked>::reader(where, shmrec::StartAt::oldest, opts);
        return fn(r);
    }
    auto r = shmrec::Ring<Checked>::reader(where, opts);
    return fn(r);
}

// Takes one lock slot of a memory region's companions and holds it until "quit". The slot
// protocol is what is under test (fault points slots.exclusive.after_token and
// slots.shared.after_token), so no region is opened: on Windows a memory region's slots are
// named after the region's name alone.
int cmd_slot(const Args& a) {
#if defined(_WIN32)
    try {
        shmrec::platform::LockSlots slots(nullptr, shmrec::Location::memory(a.get("name")));
        const auto slot = static_cast<shmrec::platform::LockSlot>(a.num("slot", 0));
        const bool held = a.get("mode") == "shared" ? slots.try_lock_shared(slot)
                                                    : slots.try_lock_exclusive(slot);
        out(std::string("slot held=") + (held ? "1" : "0"));
        Commands cmds;
        for (;;) {
            const auto c = cmds.poll_command(100);
            if (c && *c == "quit") break;
        }
        return 0;
    } catch (const shmrec::Error& e) {
        fail_setup(e);
    }
#else
    (void)a;
    std::fprintf(stderr, "shmrec_fault_peer: slot is Windows-only\n");
    return 2;
#endif
}

int cmd_open(const Args& a) {
    const auto t0 = Clock::now();
    auto ms = [&] {
        return std::to_string(std::chrono::duration<double, std::milli>(Clock::now() - t0).count());
    };
    try {
        return with_reader(a, [&](auto& r) {
            out("opened ms=" + ms() +
                " ino=" + std::to_string(region_identity(r.region())) +
                " state=" + std::to_string(static_cast<int>(r.region().state())));
            return 0;
        });
    } catch (const shmrec::Error& e) {
        out("error code=" + std::string(shmrec::to_string(e.code())) + " ms=" + ms() +
            " what=" + e.what());
        return 3;
    }
}

int cmd_probe(const Args& a) {
    try {
        return with_reader(a, [&](auto& r) {
            out(std::string("probe alive=") + (r.writer_alive() ? "1" : "0") +
                " health=" + health_name(r.region().health()) +
                " ino=" + std::to_string(region_identity(r.region())));
            return 0;
        });
    } catch (const shmrec::Error& e) {
        fail_setup(e);
    }
}

// ---- raw mappings: chaos and waker ---------------------------------------------------------

// The region mapped read-write by hand, as a hostile or buggy process of the same user could.
struct RawRegion {
    std::byte* base = nullptr;
    std::size_t size = 0;
    shmrec::detail::RegionHeader* header = nullptr;
    std::byte* data = nullptr;

#if defined(_WIN32)
    // The named file-mapping object (memory) or a mapping of the file (--file), read-write.
    explicit RawRegion(const Args& a) {
        const std::string name = a.get("name");
        HANDLE mapping = nullptr;
        if (a.flag("file")) {
            const HANDLE file = ::CreateFileA(name.c_str(), GENERIC_READ | GENERIC_WRITE,
                                              FILE_SHARE_READ | FILE_SHARE_WRITE |
                                                  FILE_SHARE_DELETE,
                                              nullptr, OPEN_EXISTING, 0, nullptr);
            if (file != INVALID_HANDLE_VALUE) {
                mapping = ::CreateFileMappingW(file, nullptr, PAGE_READWRITE, 0, 0, nullptr);
                ::CloseHandle(file);
            }
        } else {
            mapping = ::OpenFileMappingW(FILE_MAP_ALL_ACCESS, FALSE,
                                         shmrec_test::object_name(name).c_str());
        }
        void* p = mapping != nullptr ? ::MapViewOfFile(mapping, FILE_MAP_ALL_ACCESS, 0, 0, 0)
                                     : nullptr;
        if (p == nullptr) {
            out("error code=raw_open what=Windows error " + std::to_string(::GetLastError()));
            std::exit(3);
        }
        ::CloseHandle(mapping);  // the view keeps the object
        MEMORY_BASIC_INFORMATION info{};
        ::VirtualQuery(p, &info, sizeof info);
        size = info.RegionSize;
        base = static_cast<std::byte*>(p);
        header = reinterpret_cast<shmrec::detail::RegionHeader*>(base);
        data = base + header->data_offset;
    }
#else
    explicit RawRegion(const Args& a) {
        const std::string path =
            a.flag("file") ? a.get("name") : reltest::shm_path(a.get("name"));
        const int fd = ::open(path.c_str(), O_RDWR | O_CLOEXEC);
        if (fd < 0) {
            out(std::string("error code=raw_open what=") + std::strerror(errno));
            std::exit(3);
        }
        struct stat st {};
        ::fstat(fd, &st);
        size = static_cast<std::size_t>(st.st_size);
        void* p = ::mmap(nullptr, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        ::close(fd);
        if (p == MAP_FAILED) {
            out(std::string("error code=raw_mmap what=") + std::strerror(errno));
            std::exit(3);
        }
        base = static_cast<std::byte*>(p);
        header = reinterpret_cast<shmrec::detail::RegionHeader*>(base);
        data = base + header->data_offset;
    }
#endif
    std::uint64_t* word(std::uint64_t offset) const {
        return reinterpret_cast<std::uint64_t*>(data + offset);
    }
};

// The 64-bit counters of a channel: the control words and every slot's seq / version.
std::vector<std::uint64_t*> counters(const RawRegion& raw, const std::string& kind) {
    std::vector<std::uint64_t*> w;
    const std::uint64_t cap = raw.header->capacity;
    const std::uint64_t stride = raw.header->slot_stride;
    if (kind == "cell") {
        w.push_back(raw.word(offsetof(shmrec::detail::CellControl, latest)));
        for (std::uint64_t i = 0; i < shmrec::detail::CellDescriptor::slot_count; ++i) {
            w.push_back(raw.word(sizeof(shmrec::detail::CellControl) + i * stride));
        }
    } else if (kind == "broadcast") {
        w.push_back(raw.word(offsetof(shmrec::detail::BroadcastControl, tail)));
        for (std::uint64_t i = 0; i < cap; ++i) {
            w.push_back(raw.word(sizeof(shmrec::detail::BroadcastControl) + i * stride));
        }
    } else {
        w.push_back(raw.word(offsetof(shmrec::detail::RingControl, tail)));
        w.push_back(raw.word(offsetof(shmrec::detail::RingControl, head)));
        for (std::uint64_t i = 0; i < cap; ++i) {
            w.push_back(raw.word(sizeof(shmrec::detail::RingControl) + i * stride));
        }
    }
    return w;
}

// The doorbells of a channel: the only words its waiters sleep on.
std::vector<std::uint32_t*> doorbells(const RawRegion& raw, const std::string& kind) {
    auto at = [&](std::size_t offset) {
        return reinterpret_cast<std::uint32_t*>(raw.data + offset);
    };
    if (kind == "cell") return {at(offsetof(shmrec::detail::CellControl, doorbell))};
    if (kind == "broadcast") return {at(offsetof(shmrec::detail::BroadcastControl, doorbell))};
    return {at(offsetof(shmrec::detail::RingControl, data_doorbell)),
            at(offsetof(shmrec::detail::RingControl, room_doorbell))};
}

int cmd_chaos(const Args& a) {
    RawRegion raw(a);
    const auto words = counters(raw, a.get("kind", "ring"));
    std::mt19937_64 rng(static_cast<std::uint64_t>(a.num("seed", 1)));
    const auto until = Clock::now() + std::chrono::milliseconds(a.num("duration-ms", 1000));
    long writes = 0;
    out("chaos started words=" + std::to_string(words.size()));
    while (Clock::now() < until) {
        auto* target = words[rng() % words.size()];
        const std::uint64_t now = __atomic_load_n(target, __ATOMIC_RELAXED);
        std::uint64_t v = 0;
        switch (rng() % 6) {
            case 0: v = rng(); break;                         // anything
            case 1: v = now + 1 + rng() % 64; break;          // a jump forward
            case 2: v = now - 1 - rng() % 64; break;          // a jump back
            case 3: v = 0; break;                             // reset
            case 4: v = UINT64_MAX - rng() % 4; break;        // near wrap
            case 5: v = now + (rng() % 2 ? 1 : 2) * 1024; break;  // laps ahead
        }
        __atomic_store_n(target, v, __ATOMIC_RELAXED);
        ++writes;
        shmrec_test::sleep_at_least(100us);  // about 10 kHz (1 kHz on Windows)
    }
    out("chaos done writes=" + std::to_string(writes));
    return 0;
}

#if defined(_WIN32)
int cmd_waker(const Args&) {
    out("error code=unsupported what=waker is Linux-only (FUTEX_WAKE)");
    return 2;
}
#else
int cmd_waker(const Args& a) {
    RawRegion raw(a);
    const std::string kind = a.get("kind", "ring");
    // Waiters sleep on the doorbells; the counters' low halves (little-endian here), which
    // nobody should sleep on, are woken too, so a waiter sleeping on one would be noticed.
    std::vector<std::uint32_t*> words = doorbells(raw, kind);
    const std::size_t bells = words.size();
    for (auto* w64 : counters(raw, kind)) words.push_back(reinterpret_cast<std::uint32_t*>(w64));
    std::mt19937_64 rng(static_cast<std::uint64_t>(a.num("seed", 7)));
    const auto until = Clock::now() + std::chrono::milliseconds(a.num("duration-ms", 1000));
    long wakes = 0, woke = 0;
    out("waker started words=" + std::to_string(words.size()) + " doorbells=" +
        std::to_string(bells));
    while (Clock::now() < until) {
        // Every other wake goes to a doorbell, however many counters the channel has.
        auto* w32 = rng() % 2 == 0 ? words[rng() % bells] : words[rng() % words.size()];
        const long n = ::syscall(SYS_futex, w32, FUTEX_WAKE, INT_MAX, nullptr, nullptr, 0);
        ++wakes;
        if (n > 0) woke += n;
        std::this_thread::sleep_for(std::chrono::microseconds(rng() % 200));
    }
    out("waker done wakes=" + std::to_string(wakes) + " woke=" + std::to_string(woke));
    return 0;
}
#endif

int cmd_scribble(const Args& a) {
    try {
        return with_reader(a, [&](auto& r) {
            const auto& region = r.region();
            out("scribble about-to-write");
            // A reader bug: writing into a region it maps read-only.
            auto* p = reinterpret_cast<volatile std::uint64_t*>(RegionAccess::data(region));
            *p = 0xdeadbeefdeadbeefULL;
            out("scribble survived");
            return 0;
        });
    } catch (const shmrec::Error& e) {
        fail_setup(e);
    }
}

// ---- timed waits ---------------------------------------------------------------------------

int cmd_timed_wait(const Args& a) {
    if (a.flag("sigusr1")) install_sigusr1();
    const auto wait = std::chrono::milliseconds(a.num("wait-ms", 200));
    const long long repeat = a.num("repeat", 3);
    try {
        return with_reader(a, [&](auto& r) {
            out("ready pid=" + std::to_string(shmrec_test::this_pid()));
            Commands().wait_for("go");
            for (long long i = 0; i < repeat; ++i) {
                const auto t0 = Clock::now();
                std::string status;
                Checked rec;
                status = std::string(shmrec::to_string(r.read(rec, wait)));
                const double ms =
                    std::chrono::duration<double, std::milli>(Clock::now() - t0).count();
                out("waited ms=" + std::to_string(ms) + " status=" + status +
                    " signals=" + std::to_string(g_signals.load()));
            }
            out("end signals=" + std::to_string(g_signals.load()));
            return 0;
        });
    } catch (const shmrec::Error& e) {
        fail_setup(e);
    }
}

// ---- a small tmpfs that fills up after creation (R2) ---------------------------------------

#if defined(_WIN32)
int cmd_fill_tmpfs(const Args&) {
    out("error code=unsupported what=fill-tmpfs is Linux-only (a private tmpfs)");
    return 2;
}
#else

// Fills the file system holding `dir` with one file, as far as posix_fallocate lets it.
std::uint64_t fill_filesystem(const std::string& path) {
    const int fd = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd < 0) return 0;
    std::uint64_t size = 0;
    for (std::uint64_t step = 64ull << 20; step >= 4096; step /= 2) {
        while (::posix_fallocate(fd, 0, static_cast<off_t>(size + step)) == 0) size += step;
    }
    ::close(fd);
    return size;
}

int cmd_fill_tmpfs(const Args& a) {
    const auto where = location(a);
    const std::string kind = a.get("kind", "ring");
    const auto capacity = static_cast<std::uint64_t>(a.num("capacity", 1024));
    const auto count = static_cast<std::uint64_t>(a.num("count", 10000));
    try {
        std::optional<shmrec::Ring<Checked>::Writer> ring;
        std::optional<shmrec::Broadcast<Checked>::Writer> bcast;
        if (kind == "broadcast") {
            bcast.emplace(shmrec::Broadcast<Checked>::writer(where, capacity));
        } else {
            ring.emplace(shmrec::Ring<Checked>::writer(where, capacity));
        }
        const std::uint64_t filled = fill_filesystem("/dev/shm/zz-filler");
        struct statvfs vfs {};
        ::statvfs("/dev/shm", &vfs);
        out("filled bytes=" + std::to_string(filled) +
            " free=" + std::to_string(vfs.f_bavail * vfs.f_bsize));
        try {
            auto other = shmrec::Ring<Checked>::writer(a.get("name") + "-second", capacity);
            out("second-create code=ok");
        } catch (const shmrec::Error& e) {
            out("second-create code=" + std::string(shmrec::to_string(e.code())));
        }

        std::fflush(stdout);
        const pid_t child = ::fork();
        if (child == 0) {
            // The reader, in the same private tmpfs.
            Tally t;
            std::uint64_t lost = 0;
            const auto deadline = Clock::now() + 20s;
            if (kind == "broadcast") {
                auto r = shmrec::Broadcast<Checked>::reader(where);
                while (Clock::now() < deadline) {
                    Checked rec;
                    const auto st = r.read(rec, 100ms);
                    if (st == shmrec::ReadStatus::ok) t.see(rec, true);
                    if (st == shmrec::ReadStatus::closed || st == shmrec::ReadStatus::writer_gone) {
                        break;
                    }
                }
                lost = r.lost();
            } else {
                auto r = shmrec::Ring<Checked>::reader(where);
                while (Clock::now() < deadline) {
                    Checked rec;
                    const auto st = r.read(rec, 100ms);
                    if (st == shmrec::ReadStatus::ok) t.see(rec, true);
                    if (st == shmrec::ReadStatus::closed || st == shmrec::ReadStatus::writer_gone) {
                        break;
                    }
                }
            }
            out("reader " + t.summary() + " lost=" + std::to_string(lost));
            std::_Exit(0);
        }
        // Let the child attach before anything is written (a broadcast reader starts at the
        // oldest retained record; a ring keeps everything anyway).
        std::this_thread::sleep_for(100ms);
        for (std::uint64_t i = 0; i < count; ++i) {
            const auto rec = make_checked(i);
            if (bcast) {
                if (bcast->try_write(rec) != shmrec::WriteStatus::ok) {
                    out("s write_failed written=" + std::to_string(i));
                    break;
                }
                if (i % 64 == 63) std::this_thread::sleep_for(200us);
            } else {
                while (ring->write(rec, 100ms) != shmrec::WriteStatus::ok) {
                }
            }
        }
        if (bcast) bcast->close();
        if (ring) ring->close();
        int st = 0;
        ::waitpid(child, &st, 0);
        out("fill-done written=" + std::to_string(count) + " child_exit=" +
            std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)));
        ::unlink("/dev/shm/zz-filler");
        return 0;
    } catch (const shmrec::Error& e) {
        fail_setup(e);
    }
}
#endif

}  // namespace

int main(int argc, char** argv) {
    shmrec_test::die_plainly_on_crash();  // Windows: no debugger on a crash
#if defined(_WIN32)
    std::vector<std::string> utf8 = shmrec_test::utf8_arguments();
    std::vector<char*> utf8_argv;
    for (auto& arg : utf8) utf8_argv.push_back(arg.data());
    if (!utf8_argv.empty()) {
        argc = static_cast<int>(utf8_argv.size());
        argv = utf8_argv.data();
    }
#endif
    const Args a = parse(argc, argv);
#if !defined(_WIN32)
    std::signal(SIGPIPE, SIG_IGN);
#endif
    if (a.command == "write") return cmd_write(a);
    if (a.command == "read") return cmd_read(a);
    if (a.command == "race") return cmd_race(a);
    if (a.command == "open") return cmd_open(a);
    if (a.command == "probe") return cmd_probe(a);
    if (a.command == "chaos") return cmd_chaos(a);
    if (a.command == "waker") return cmd_waker(a);
    if (a.command == "scribble") return cmd_scribble(a);
    if (a.command == "timed-wait") return cmd_timed_wait(a);
    if (a.command == "fill-tmpfs") return cmd_fill_tmpfs(a);
    if (a.command == "slot") return cmd_slot(a);
    std::fprintf(stderr, "shmrec_fault_peer: unknown command '%s'\n", a.command.c_str());
    return 2;
}
