#include "process.hpp"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <system_error>
#include <thread>
#include <utility>

#include <fmt/format.h>

namespace bench {
namespace {

// Fixed storage, so the signal handler reads it without allocating.
constexpr std::size_t max_names = 128;
constexpr std::size_t max_name_length = 128;
char g_names[max_names][max_name_length];
std::atomic<std::size_t> g_name_count{0};
constexpr std::size_t max_children = 8;
std::atomic<pid_t> g_children[max_children];
std::atomic<pid_t> g_peer{0};
std::atomic<pid_t> g_parent{0};
volatile sig_atomic_t g_interrupted = 0;
std::string g_prefix;

[[noreturn]] void throw_errno(const std::string& what) {
    throw std::system_error(errno, std::generic_category(), what);
}

void unlink_all() noexcept {
    const std::size_t n = g_name_count.load();
    for (std::size_t i = 0; i < n; ++i) ::shm_unlink(g_names[i]);  // async-signal-safe
}

void on_signal(int sig) {
    g_interrupted = 1;
    for (auto& c : g_children) {
        const pid_t pid = c.load();
        if (pid > 0) ::kill(pid, SIGTERM);
    }
    unlink_all();
    ::signal(sig, SIG_DFL);
    ::raise(sig);
}

bool alive(pid_t pid) {
    if (pid <= 0) return true;
    // A zombie child still answers kill(pid, 0): ask waitpid without reaping.
    siginfo_t info{};
    if (::waitid(P_PID, static_cast<id_t>(pid), &info, WEXITED | WNOHANG | WNOWAIT) == 0 &&
        info.si_pid == pid) {
        return false;
    }
    return ::kill(pid, 0) == 0;
}

}  // namespace

Watchdog::Watchdog(std::chrono::seconds limit)
    : deadline_(std::chrono::steady_clock::now() + limit) {}

void Watchdog::check() {
    if (g_interrupted) throw std::runtime_error("interrupted");
    if (std::chrono::steady_clock::now() > deadline_) {
        throw std::runtime_error("timed out waiting for the other process");
    }
    const pid_t peer = g_peer.load(std::memory_order_relaxed);
    if (peer > 0 && !alive(peer)) throw std::runtime_error("the peer process died");
    const pid_t parent = g_parent.load(std::memory_order_relaxed);
    if (parent > 0 && ::getppid() != parent) throw std::runtime_error("the driver process died");
}

void set_peer_pid(pid_t pid) { g_peer.store(pid); }
void set_parent_pid(pid_t pid) { g_parent.store(pid); }
bool interrupted() noexcept { return g_interrupted != 0; }

std::string run_prefix() { return g_prefix; }
void set_run_prefix(std::string prefix) { g_prefix = std::move(prefix); }
std::string unique_name(std::string_view what) { return fmt::format("{}-{}", g_prefix, what); }

void register_name(const std::string& name) {
    const std::string path = "/" + name;
    const std::size_t n = g_name_count.load();
    for (std::size_t i = 0; i < n; ++i) {
        if (path == g_names[i]) return;
    }
    if (n == max_names || path.size() >= max_name_length) {
        throw std::length_error("too many or too long shared-memory names");
    }
    std::memcpy(g_names[n], path.c_str(), path.size() + 1);
    g_name_count.store(n + 1);
}

void remove_registered() noexcept { unlink_all(); }

void install_cleanup_handlers() {
    struct sigaction sa {};
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    for (int sig : {SIGINT, SIGTERM, SIGHUP}) ::sigaction(sig, &sa, nullptr);
}

void register_child(pid_t pid) {
    for (auto& c : g_children) {
        pid_t empty = 0;
        if (c.compare_exchange_strong(empty, pid)) return;
    }
}
void unregister_child(pid_t pid) {
    for (auto& c : g_children) {
        pid_t p = pid;
        c.compare_exchange_strong(p, 0);
    }
}

void pin_to_cpu(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (::sched_setaffinity(0, sizeof(set), &set) != 0) {
        throw_errno(fmt::format("sched_setaffinity(cpu {})", cpu));
    }
}

int cpu_count() {
    cpu_set_t set;
    CPU_ZERO(&set);
    if (::sched_getaffinity(0, sizeof(set), &set) != 0) return 1;
    return CPU_COUNT(&set);
}

// ---- control block ----

ControlBlock ControlBlock::create(const std::string& name) {
    register_name(name);
    const std::string path = "/" + name;
    const int fd = ::shm_open(path.c_str(), O_RDWR | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0) throw_errno("shm_open " + path);
    if (::ftruncate(fd, sizeof(Control)) != 0) {
        ::close(fd);
        throw_errno("ftruncate " + path);
    }
    void* p = ::mmap(nullptr, sizeof(Control), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                     fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw_errno("mmap " + path);
    return ControlBlock(new (p) Control{});
}

ControlBlock ControlBlock::open(const std::string& name) {
    const std::string path = "/" + name;
    const int fd = ::shm_open(path.c_str(), O_RDWR | O_CLOEXEC, 0);
    if (fd < 0) throw_errno("shm_open " + path);
    void* p = ::mmap(nullptr, sizeof(Control), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                     fd, 0);
    ::close(fd);
    if (p == MAP_FAILED) throw_errno("mmap " + path);
    return ControlBlock(static_cast<Control*>(p));
}

ControlBlock::ControlBlock(ControlBlock&& other) noexcept
    : control_(std::exchange(other.control_, nullptr)) {}

ControlBlock::~ControlBlock() {
    if (control_ != nullptr) ::munmap(control_, sizeof(Control));
}

void ControlBlock::barrier(Side side) const {
    auto& mine = side == Side::a ? control_->a_arrived : control_->b_arrived;
    auto& theirs = side == Side::a ? control_->b_arrived : control_->a_arrived;
    // Each side counts its arrivals; both leave once the other's count caught up. Release/
    // acquire: what one side wrote before arriving (command, results) is visible after.
    const std::uint64_t n = mine.value.load(std::memory_order_relaxed) + 1;
    mine.value.store(n, std::memory_order_release);
    Watchdog dog;
    for (std::uint32_t spins = 0; theirs.value.load(std::memory_order_acquire) < n; ++spins) {
        if (side == Side::a && control_->b_failed.value.load(std::memory_order_acquire) != 0) {
            throw std::runtime_error(fmt::format("peer failed: {}", control_->b_error));
        }
        if (spins > 1000) std::this_thread::yield();
        dog.poll();
    }
}

// ---- processes ----

namespace {

pid_t spawn(const std::string& program, const std::vector<std::string>& args, int cpu,
            const std::vector<int>& inherit, const std::string& log_path) {
    std::vector<std::string> argv_store;
    argv_store.push_back(program);
    argv_store.insert(argv_store.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_store) argv.push_back(a.data());
    argv.push_back(nullptr);

    const pid_t pid = ::fork();
    if (pid < 0) throw_errno("fork");
    if (pid == 0) {
        // Child: only async-signal-safe calls until exec.
        if (cpu >= 0) {
            cpu_set_t set;
            CPU_ZERO(&set);
            CPU_SET(cpu, &set);
            if (::sched_setaffinity(0, sizeof(set), &set) != 0) ::_exit(126);
        }
        for (int fd : inherit) {
            const int flags = ::fcntl(fd, F_GETFD);
            if (flags >= 0) ::fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC);
        }
        if (!log_path.empty()) {
            const int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
            if (fd >= 0) {
                ::dup2(fd, STDOUT_FILENO);
                ::dup2(fd, STDERR_FILENO);
                ::close(fd);
            }
            ::setsid();  // no terminal signals: the driver stops it
        }
        ::execv(argv[0], argv.data());
        ::_exit(127);
    }
    register_child(pid);
    return pid;
}

}  // namespace

Peer::Peer(const std::vector<std::string>& args, int cpu, const std::vector<int>& inherit) {
    pid_ = spawn("/proc/self/exe", args, cpu, inherit, "");
    set_peer_pid(pid_);
}

Peer::~Peer() {
    if (pid_ <= 0) return;
    set_peer_pid(0);
    ::kill(pid_, SIGKILL);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    unregister_child(pid_);
}

void Peer::join(std::chrono::seconds limit) {
    const auto deadline = std::chrono::steady_clock::now() + limit;
    int status = 0;
    for (;;) {
        const pid_t r = ::waitpid(pid_, &status, WNOHANG);
        if (r == pid_) break;
        if (r < 0) throw_errno("waitpid");
        if (std::chrono::steady_clock::now() > deadline) {
            throw std::runtime_error("the peer did not exit");
        }
        std::this_thread::sleep_for(std::chrono::milliseconds{1});
    }
    set_peer_pid(0);
    unregister_child(pid_);
    pid_ = -1;
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        throw std::runtime_error(fmt::format("the peer exited with status {:#x}", status));
    }
}

Daemon::Daemon(const std::string& program, const std::vector<std::string>& args,
               const std::string& log_path) {
    pid_ = spawn(program, args, -1, {}, log_path);
}

bool Daemon::running() noexcept {
    int status = 0;
    return pid_ > 0 && ::waitpid(pid_, &status, WNOHANG) == 0;
}

Daemon::~Daemon() {
    if (pid_ > 0) stop_daemon(pid_);
}

void stop_daemon(pid_t pid) noexcept {
    ::kill(pid, SIGTERM);
    int status = 0;
    for (int i = 0; i < 500; ++i) {
        if (::waitpid(pid, &status, WNOHANG) == pid) {
            unregister_child(pid);
            return;
        }
        ::usleep(10'000);
    }
    ::kill(pid, SIGKILL);
    ::waitpid(pid, &status, 0);
    unregister_child(pid);
}

}  // namespace bench
