// TwoHosts: two simulated hosts on this machine for the bridge's tests. Each is a network
// namespace (the two joined by a veth pair, 10.231.0.1/24 and 10.231.0.2/24, nothing else
// reachable) with a private /dev/shm: a tmpfs of its own, bind-mounted over /dev/shm in the
// mount namespace `ip netns exec` gives each process it starts. So a process on host A and
// one on host B share no region and meet only through the veth, as on two machines.
//
//   auto hosts = TwoHosts::create();            // skip the test if unavailable()
//   auto importer = hosts->b().spawn(bridge, {"import", "T", "--as", "R"});
//
// Everything is removed by the destructor, also when the test failed half-way: the
// namespaces (and with them the veth pair), the tmpfs mounts, their directories. Names carry
// this process's pid and a counter, so tests running in parallel never meet.
//
// Needs root (network namespaces, mounts) and iproute2's `ip`; unavailable() says why not.
#pragma once

#include <sys/mount.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "child_process.hpp"

namespace shmrec_bridge_test {

using namespace std::chrono_literals;

struct CommandResult {
    bool ok = false;
    std::string output;  // stdout and stderr
};

// Runs argv to completion (20 s at most), stdout and stderr collected together.
inline CommandResult run_command(const std::vector<std::string>& argv) {
    std::vector<std::string> args{"-c", "exec \"$@\" 2>&1", "sh"};
    args.insert(args.end(), argv.begin(), argv.end());
    shmrec_test::ChildProcess child("sh", args);
    child.close_stdin();
    CommandResult result;
    for (const auto& line : child.read_all(20s)) result.output += line + "\n";
    result.ok = child.wait_exit(20s).ok();
    return result;
}

class Host {
  public:
    Host(std::string netns, std::filesystem::path shm)
        : netns_(std::move(netns)), shm_(std::move(shm)) {}

    const std::string& netns() const { return netns_; }
    // This host's /dev/shm, as seen from the test's own mount namespace.
    const std::filesystem::path& shm() const { return shm_; }

    // The argv that runs `program args...` on this host, its stderr merged into its stdout.
    std::vector<std::string> command(const std::string& program,
                                     const std::vector<std::string>& args) const {
        // sh -c SCRIPT DIR PROGRAM ARGS...: "$0" is this host's tmpfs, "$@" the program.
        static constexpr const char* script =
            "mount --bind \"$0\" /dev/shm || exit 125; exec \"$@\" 2>&1";
        std::vector<std::string> argv{"netns", "exec", netns_, "sh", "-c", script};
        argv.push_back(shm_.string());
        argv.push_back(program);
        argv.insert(argv.end(), args.begin(), args.end());
        return argv;
    }
    // Starts `program args...` on this host; `ip netns exec` and sh exec it, so the child's
    // pid is the program's own (signals reach it).
    std::unique_ptr<shmrec_test::ChildProcess> spawn(const std::string& program,
                                                     const std::vector<std::string>& args) const {
        return std::make_unique<shmrec_test::ChildProcess>("ip", command(program, args));
    }

  private:
    std::string netns_;
    std::filesystem::path shm_;
};

class TwoHosts {
  public:
    // Why two hosts cannot be made here; nullopt when they can (then create() works unless
    // the machine changes meanwhile).
    static std::optional<std::string> unavailable() {
        if (::geteuid() != 0) return "needs root (network namespaces, tmpfs mounts)";
        if (!run_command({"ip", "-V"}).ok) return "iproute2's `ip` is not installed";
        const std::string probe = "shmrec-probe-" + std::to_string(::getpid());
        const CommandResult add = run_command({"ip", "netns", "add", probe});
        if (!add.ok) return "network namespaces are not allowed here: " + add.output;
        (void)run_command({"ip", "netns", "delete", probe});
        return std::nullopt;
    }

    // Throws std::runtime_error naming the step that failed (what was made is removed).
    static std::unique_ptr<TwoHosts> create() {
        static std::atomic<int> counter{0};
        const std::string id = std::to_string(::getpid()) + "-" + std::to_string(counter++);
        return std::unique_ptr<TwoHosts>(new TwoHosts(id));
    }

    TwoHosts(const TwoHosts&) = delete;
    TwoHosts& operator=(const TwoHosts&) = delete;
    ~TwoHosts() { remove(); }

    const Host& a() const { return a_; }
    const Host& b() const { return b_; }

  private:
    explicit TwoHosts(const std::string& id)
        : root_(std::filesystem::temp_directory_path() / ("shmrec-bridge-test-" + id)),
          a_("shmrec-a-" + id, root_ / "a"),
          b_("shmrec-b-" + id, root_ / "b"),
          veth_a_("sa" + short_id(id)),
          veth_b_("sb" + short_id(id)) {
        try {
            make();
        } catch (...) {
            remove();
            throw;
        }
    }

    // Interface names are at most 15 characters.
    static std::string short_id(const std::string& id) { return id.substr(0, 12); }

    void step(const std::vector<std::string>& argv) {
        const CommandResult r = run_command(argv);
        if (!r.ok) {
            std::string line;
            for (const auto& a : argv) line += a + " ";
            throw std::runtime_error("two hosts: `" + line + "` failed: " + r.output);
        }
    }

    void make() {
        step({"ip", "netns", "add", a_.netns()});
        made_a_ = true;
        step({"ip", "netns", "add", b_.netns()});
        made_b_ = true;
        step({"ip", "link", "add", veth_a_, "type", "veth", "peer", "name", veth_b_});
        step({"ip", "link", "set", veth_a_, "netns", a_.netns()});
        step({"ip", "link", "set", veth_b_, "netns", b_.netns()});
        step({"ip", "-n", a_.netns(), "addr", "add", "10.231.0.1/24", "dev", veth_a_});
        step({"ip", "-n", b_.netns(), "addr", "add", "10.231.0.2/24", "dev", veth_b_});
        for (const Host* h : {&a_, &b_}) {
            const std::string& veth = h == &a_ ? veth_a_ : veth_b_;
            step({"ip", "-n", h->netns(), "link", "set", "lo", "up"});
            step({"ip", "-n", h->netns(), "link", "set", veth, "up"});
        }
        for (const Host* h : {&a_, &b_}) {
            std::filesystem::create_directories(h->shm());
            if (::mount("tmpfs", h->shm().c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                        "size=64m,mode=1777") != 0) {
                throw std::runtime_error("two hosts: mounting a tmpfs on " + h->shm().string() +
                                         " failed: " + std::strerror(errno));
            }
            mounted_.push_back(h->shm());
        }
    }

    void remove() noexcept {
        // Deleting a namespace deletes the veth end in it, and with it the pair.
        for (auto [made, host] : {std::pair{&made_a_, &a_}, std::pair{&made_b_, &b_}}) {
            if (!*made) continue;
            try {
                (void)run_command({"ip", "netns", "delete", host->netns()});
            } catch (...) {  // nothing more to do: the name carries our pid
            }
            *made = false;
        }
        for (const auto& dir : mounted_) (void)::umount2(dir.c_str(), MNT_DETACH);
        mounted_.clear();
        std::error_code ignored;
        std::filesystem::remove_all(root_, ignored);
    }

    std::filesystem::path root_;
    Host a_;
    Host b_;
    std::string veth_a_;
    std::string veth_b_;
    bool made_a_ = false;
    bool made_b_ = false;
    std::vector<std::filesystem::path> mounted_;
};

}  // namespace shmrec_bridge_test
