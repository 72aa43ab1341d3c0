// Hosts: simulated hosts on this machine for the bridge's tests, two (TwoHosts) or more. Each
// is a network namespace with a private /dev/shm: a tmpfs of its own, bind-mounted over /dev/shm
// in the mount namespace `ip netns exec` gives each process it starts. So a process on host A and
// one on host B share no region and meet only through the network, as on two machines.
//
// The network, 10.231.0.0/24, host i at 10.231.0.<i + 1>, nothing else reachable:
//   2 hosts   a veth pair between them
//   3 or more a "switch": one more namespace holding a Linux bridge, a veth pair from each host to
//             it; multicast snooping off, so Cyclone's multicast discovery and data reach every
//             host as on a plain Ethernet switch
//
//   auto hosts = TwoHosts::create();            // skip the test if unavailable()
//   auto importer = hosts->b().spawn(bridge, {"import", "T", "--as", "R"});
//   auto three = Hosts::create(3);              // a(), b(), c(), host(i)
//
// Everything is removed by the destructor, also when the test failed half-way: the
// namespaces (and with them the veth pairs and the bridge), the tmpfs mounts, their directories.
// Names carry this process's pid and a counter, so tests running in parallel never meet.
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
    Host(std::string netns, std::filesystem::path shm, std::string interface = {})
        : netns_(std::move(netns)), shm_(std::move(shm)), interface_(std::move(interface)) {}

    const std::string& netns() const { return netns_; }
    // This host's end of its veth pair: its only network interface besides lo.
    const std::string& interface() const { return interface_; }
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
    std::string interface_;
};

class Hosts {
  public:
    // Why hosts cannot be made here; nullopt when they can (then create() works unless the
    // machine changes meanwhile).
    static std::optional<std::string> unavailable() {
        if (::geteuid() != 0) return "needs root (network namespaces, tmpfs mounts)";
        if (!run_command({"ip", "-V"}).ok) return "iproute2's `ip` is not installed";
        const std::string probe = "shmrec-probe-" + std::to_string(::getpid());
        const CommandResult add = run_command({"ip", "netns", "add", probe});
        if (!add.ok) return "network namespaces are not allowed here: " + add.output;
        (void)run_command({"ip", "netns", "delete", probe});
        return std::nullopt;
    }

    // `count` hosts, 2 to 26. Throws std::runtime_error naming the step that failed (what was
    // made is removed).
    static std::unique_ptr<Hosts> create(std::size_t count = 2) {
        if (count < 2 || count > 26) throw std::invalid_argument("hosts: 2 to 26 hosts");
        static std::atomic<int> counter{0};
        const std::string id = std::to_string(::getpid()) + "-" + std::to_string(counter++);
        return std::unique_ptr<Hosts>(new Hosts(id, count));
    }

    Hosts(const Hosts&) = delete;
    Hosts& operator=(const Hosts&) = delete;
    ~Hosts() { remove(); }

    std::size_t count() const { return hosts_.size(); }
    const Host& host(std::size_t i) const { return hosts_.at(i); }
    const Host& a() const { return host(0); }
    const Host& b() const { return host(1); }
    const Host& c() const { return host(2); }

  private:
    Hosts(const std::string& id, std::size_t count)
        : root_(std::filesystem::temp_directory_path() / ("shmrec-bridge-test-" + id)) {
        // Interface names are at most 15 characters: a prefix of 2 and 12 of the id.
        const std::string short_id = id.substr(0, 12);
        for (std::size_t i = 0; i < count; ++i) {
            const std::string letter(1, static_cast<char>('a' + i));
            // Two hosts keep the names they always had ("sa<id>", "sb<id>").
            const std::string veth = (count == 2 ? "s" : "h") + letter + short_id;
            hosts_.emplace_back("shmrec-" + letter + "-" + id, root_ / letter, veth);
        }
        if (count > 2) {
            switch_ = "shmrec-sw-" + id;
            bridge_ = "br" + short_id;
        }
        try {
            make(short_id);
        } catch (...) {
            remove();
            throw;
        }
    }

    void step(const std::vector<std::string>& argv) {
        const CommandResult r = run_command(argv);
        if (!r.ok) {
            std::string line;
            for (const auto& a : argv) line += a + " ";
            throw std::runtime_error("hosts: `" + line + "` failed: " + r.output);
        }
    }

    void add_netns(const std::string& name) {
        step({"ip", "netns", "add", name});
        made_.push_back(name);
    }

    void make(const std::string& short_id) {
        for (const Host& h : hosts_) add_netns(h.netns());
        if (hosts_.size() == 2) {
            step({"ip", "link", "add", a().interface(), "type", "veth", "peer", "name",
                  b().interface()});
        } else {
            add_netns(switch_);
            step({"ip", "-n", switch_, "link", "add", bridge_, "type", "bridge", "mcast_snooping",
                  "0"});
            step({"ip", "-n", switch_, "link", "set", bridge_, "up"});
            for (std::size_t i = 0; i < hosts_.size(); ++i) {
                // The switch's port: "p<letter><id>", created in the switch namespace.
                const std::string port =
                    "p" + std::string(1, static_cast<char>('a' + i)) + short_id;
                step({"ip", "link", "add", hosts_[i].interface(), "type", "veth", "peer", "name",
                      port});
                step({"ip", "link", "set", port, "netns", switch_});
                step({"ip", "-n", switch_, "link", "set", port, "master", bridge_});
                step({"ip", "-n", switch_, "link", "set", port, "up"});
            }
        }
        for (std::size_t i = 0; i < hosts_.size(); ++i) {
            const Host& h = hosts_[i];
            step({"ip", "link", "set", h.interface(), "netns", h.netns()});
            step({"ip", "-n", h.netns(), "addr", "add", "10.231.0." + std::to_string(i + 1) + "/24",
                  "dev", h.interface()});
            step({"ip", "-n", h.netns(), "link", "set", "lo", "up"});
            step({"ip", "-n", h.netns(), "link", "set", h.interface(), "up"});
        }
        for (const Host& h : hosts_) {
            std::filesystem::create_directories(h.shm());
            if (::mount("tmpfs", h.shm().c_str(), "tmpfs", MS_NOSUID | MS_NODEV,
                        "size=64m,mode=1777") != 0) {
                throw std::runtime_error("hosts: mounting a tmpfs on " + h.shm().string() +
                                         " failed: " + std::strerror(errno));
            }
            mounted_.push_back(h.shm());
        }
    }

    void remove() noexcept {
        // Deleting a namespace deletes the veth ends and the bridge in it, and with a veth end
        // its pair.
        for (const auto& name : made_) {
            try {
                (void)run_command({"ip", "netns", "delete", name});
            } catch (...) {  // nothing more to do: the name carries our pid
            }
        }
        made_.clear();
        for (const auto& dir : mounted_) (void)::umount2(dir.c_str(), MNT_DETACH);
        mounted_.clear();
        std::error_code ignored;
        std::filesystem::remove_all(root_, ignored);
    }

    std::filesystem::path root_;
    std::vector<Host> hosts_;
    std::string switch_;  // the switch's namespace and bridge, with 3 hosts or more
    std::string bridge_;
    std::vector<std::string> made_;  // namespaces to delete
    std::vector<std::filesystem::path> mounted_;
};

// The name the bridge's first tests and the bridge benchmark know.
using TwoHosts = Hosts;

}  // namespace shmrec_bridge_test
