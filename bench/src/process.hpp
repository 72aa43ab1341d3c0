// The two benchmark processes: the shared control block, the pinned peer, the barrier
// between them, and the names a run creates (removed at the end, even on failure).
#pragma once

#include <sys/types.h>

#include <atomic>
#include <chrono>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bench {

inline constexpr std::size_t cache_line = 64;

// One value alone in two cache lines (adjacent-line prefetch pulls lines in pairs).
struct alignas(2 * cache_line) Line {
    std::atomic<std::uint64_t> value{0};
};
static_assert(sizeof(Line) == 2 * cache_line);

enum class Side : std::uint8_t { a, b };  // a: the driver (main process), b: the peer

enum class Command : std::uint32_t {
    exit,
    floor_cacheline,
    floor_futex,
    floor_copy,
    latency,
    throughput,
};

// Lives in its own POSIX shared memory, created by side A before the peer starts.
struct Control {
    Line a_arrived;   // barrier counters: each side writes only its own
    Line b_arrived;
    Line ping;        // cache-line floor: A writes, B spins on it
    Line pong;        //                   B writes, A spins on it
    Line futex_ab;    // futex floor: low 32 bits are the futex word
    Line futex_ba;
    Line command;     // Command of the next step, written by A before the barrier
    Line count;       // iterations of the step (latency, floors)
    Line param;       // step parameter (throughput: run time in ns)
    Line copy_block;  // cross-core copy floor: block size, slot count and slot stride (bytes)
    Line copy_slots;
    Line copy_stride;
    Line b_received;  // B's results of a step
    Line b_lost;
    Line b_done_ns;   // steady_clock time (ns) when B received the last record
    Line b_failed;    // 1: B failed; the message is in b_error
    char b_error[512];
};

// Aborts a wait that went on too long or whose peer died; also set by SIGINT/SIGTERM.
class Watchdog {
public:
    explicit Watchdog(std::chrono::seconds limit = std::chrono::seconds{60});
    // Cheap enough for a spin loop: looks at the clock every 4096 calls.
    void poll() {
        if ((++calls_ & 0xfffU) == 0) check();
    }
    void check();

private:
    std::chrono::steady_clock::time_point deadline_;
    std::uint32_t calls_ = 0;
};

void set_peer_pid(pid_t pid);    // side A: the peer Watchdog checks
void set_parent_pid(pid_t pid);  // side B: the parent Watchdog checks
bool interrupted() noexcept;

// Names of everything the run creates in /dev/shm. register_name() before creating, so an
// interrupted run still removes it; remove_registered() unlinks them all.
std::string run_prefix();  // "shmrec-bench-<pid of side A>"
void set_run_prefix(std::string prefix);
std::string unique_name(std::string_view what);  // run_prefix() + "-" + what
void register_name(const std::string& name);
void remove_registered() noexcept;
// SIGINT/SIGTERM/SIGHUP: remove the names, kill the children, then die by the signal.
void install_cleanup_handlers();
void register_child(pid_t pid);
void unregister_child(pid_t pid);

// Pins the calling process to one CPU.
void pin_to_cpu(int cpu);
int cpu_count();

class ControlBlock {
public:
    static ControlBlock create(const std::string& name);
    static ControlBlock open(const std::string& name);
    ControlBlock(ControlBlock&& other) noexcept;
    ControlBlock& operator=(ControlBlock&&) = delete;
    ~ControlBlock();

    Control& operator*() const noexcept { return *control_; }
    Control* operator->() const noexcept { return control_; }

    // Both sides call it; returns when both arrived. Throws on timeout or a dead peer.
    void barrier(Side side) const;

private:
    explicit ControlBlock(Control* c) : control_(c) {}
    Control* control_;
};

// Starts this program again as the peer, pinned to `cpu`, with `args` after the program name.
// File descriptors in `inherit` stay open in the child.
class Peer {
public:
    Peer(const std::vector<std::string>& args, int cpu, const std::vector<int>& inherit);
    Peer(const Peer&) = delete;
    Peer& operator=(const Peer&) = delete;
    ~Peer();  // kills the peer if it is still running

    pid_t pid() const noexcept { return pid_; }
    // Waits for a clean exit; throws if it failed.
    void join(std::chrono::seconds limit = std::chrono::seconds{30});

private:
    pid_t pid_ = -1;
};

// A daemon the run needs (iox-roudi): started, stopped by its pid with SIGTERM.
// SIGTERM, wait up to 5 s, then SIGKILL.
void stop_daemon(pid_t pid) noexcept;

class Daemon {
public:
    Daemon(const std::string& program, const std::vector<std::string>& args,
           const std::string& log_path);
    Daemon(const Daemon&) = delete;
    Daemon& operator=(const Daemon&) = delete;
    ~Daemon();
    pid_t pid() const noexcept { return pid_; }
    bool running() noexcept;
    // Gives up ownership: the caller stops it (stop_daemon) instead of the destructor.
    pid_t release() noexcept { return std::exchange(pid_, -1); }

private:
    pid_t pid_ = -1;
};

}  // namespace bench
