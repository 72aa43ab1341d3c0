// shmrec doctor [--need BYTES] [--json]: preflight checks of this machine (or container) for
// shmrec, each finding with what to do about it. Exit status 1 when something would break.
//
// What it checks and why: docs/tool.md#doctor.
#include <sys/statvfs.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <fmt/format.h>

#include "output.hpp"
#include "region_lookup.hpp"
#include "region_view.hpp"
#include "verb.hpp"

namespace shmrec::tool {

namespace {

// The inode of the initial IPC namespace (PROC_IPC_INIT_INO in the kernel's
// include/linux/proc_ns.h): every other value is a namespace made by unshare/clone, as a
// container runtime does.
constexpr unsigned long long initial_ipc_namespace = 0xEFFFFFFFull;

// systemd's SYSTEM_UID_MAX on Debian (login.defs' SYS_UID_MAX may say otherwise; it is read).
constexpr uid_t default_system_uid_max = 999;

enum class Severity { ok, note, warning, error };

std::string_view to_string(Severity s) {
    switch (s) {
        case Severity::ok: return "ok";
        case Severity::note: return "note";
        case Severity::warning: return "warning";
        case Severity::error: return "error";
    }
    return "unknown";
}

struct Finding {
    std::string check;
    Severity severity = Severity::ok;
    std::string message;
    std::string action;  // what to do about it ("" when nothing)
};

struct DoctorOptions {
    std::string need_text;
    bool json = false;
};

// "1M", "64K", "2G", "1048576", "1MiB", "512k": binary multiples.
std::optional<std::uint64_t> parse_bytes(std::string text) {
    std::erase_if(text, [](unsigned char c) { return std::isspace(c) != 0; });
    std::size_t digits = 0;
    while (digits < text.size() && std::isdigit(static_cast<unsigned char>(text[digits]))) ++digits;
    if (digits == 0 || digits > 18) return std::nullopt;
    std::uint64_t value = std::stoull(text.substr(0, digits));
    std::string suffix = text.substr(digits);
    for (char& c : suffix) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    if (suffix == "IB" || suffix == "B") suffix.clear();
    if (suffix.size() > 1 && (suffix.substr(1) == "IB" || suffix.substr(1) == "B")) {
        suffix = suffix.substr(0, 1);
    }
    int shift = 0;
    if (suffix.empty()) shift = 0;
    else if (suffix == "K") shift = 10;
    else if (suffix == "M") shift = 20;
    else if (suffix == "G") shift = 30;
    else if (suffix == "T") shift = 40;
    else return std::nullopt;
    if (shift > 0 && value > (~std::uint64_t{0} >> shift)) return std::nullopt;
    return value << shift;
}

// ---- /dev/shm size and free space ----

void check_shm_space(std::vector<Finding>& out, const std::vector<Examined>& regions,
                     std::optional<std::uint64_t> need, Json& facts) {
    struct statvfs vfs {};
    const std::string dir(shm_dir);
    if (::statvfs(dir.c_str(), &vfs) != 0) {
        out.push_back({"shm_space", Severity::error,
                       fmt::format("{} cannot be examined ({}): POSIX shared memory needs a "
                                   "tmpfs mounted there",
                                   dir, std::strerror(errno)),
                       fmt::format("mount one: mount -t tmpfs -o size=256m tmpfs {}", dir)});
        return;
    }
    const std::uint64_t total = static_cast<std::uint64_t>(vfs.f_blocks) * vfs.f_frsize;
    const std::uint64_t free = static_cast<std::uint64_t>(vfs.f_bavail) * vfs.f_frsize;
    std::uint64_t used_by_regions = 0;
    for (const auto& e : regions) used_by_regions += e.probe.allocated;
    facts["path"] = dir;
    facts["size"] = total;
    facts["free"] = free;
    facts["regions"] = regions.size();
    facts["regions_bytes"] = used_by_regions;
    if (need) facts["need"] = *need;

    const std::string in_regions =
        fmt::format("the {} shmrec region{} there use{} {}", regions.size(),
                    regions.size() == 1 ? "" : "s", regions.size() == 1 ? "s" : "",
                    human_size(used_by_regions));
    const std::string summary = fmt::format("{} is {} with {} free; {}", dir, human_size(total),
                                            human_size(free), in_regions);
    const std::string enlarge = fmt::format(
        "make room: remove stale regions (shmrec rm NAME), or enlarge {0}: `mount -o "
        "remount,size=1G {0}`; in a container: docker run --shm-size=1g (its default is "
        "64 MiB), Kubernetes: an emptyDir with medium: Memory mounted on {0}",
        dir);
    if (need && free < *need) {
        out.push_back({"shm_space", Severity::error,
                       fmt::format("{} has {} free, less than the {} needed (--need){}; {}", dir,
                                   human_size(free), human_size(*need),
                                   total < *need ? fmt::format(": it is only {} in all",
                                                               human_size(total))
                                                 : "",
                                   in_regions),
                       enlarge});
        return;
    }
    if (total > 0 && free < total / 10) {
        out.push_back({"shm_space", Severity::warning,
                       fmt::format("{} is nearly full: {}", dir, summary), enlarge});
        return;
    }
    out.push_back({"shm_space", Severity::ok,
                   need ? fmt::format("{} (enough for the {} needed)", summary, human_size(*need))
                        : summary,
                   ""});
}

// ---- IPC namespace ----

void check_ipc_namespace(std::vector<Finding>& out, Json& facts) {
    std::error_code ec;
    const auto link = std::filesystem::read_symlink("/proc/self/ns/ipc", ec).string();
    unsigned long long inode = 0;
    if (ec || std::sscanf(link.c_str(), "ipc:[%llu]", &inode) != 1) {
        out.push_back({"ipc_namespace", Severity::note,
                       "cannot tell which IPC namespace this process is in (/proc/self/ns/ipc "
                       "unreadable)",
                       ""});
        return;
    }
    facts["ipc_namespace"] = inode;
    facts["initial_ipc_namespace"] = inode == initial_ipc_namespace;
    if (inode == initial_ipc_namespace) {
        out.push_back({"ipc_namespace", Severity::ok,
                       "this process is in the initial IPC namespace (not in a container of its "
                       "own): its regions are shared with every process that uses the same /dev/shm",
                       ""});
        return;
    }
    out.push_back(
        {"ipc_namespace", Severity::note,
         fmt::format("this process is in a non-initial IPC namespace (ipc:[{}]), as inside a "
                     "container: a container with its own IPC namespace normally has its own "
                     "/dev/shm too, so its regions are visible only to processes that share it "
                     "(usually those of the same container), and /dev/shm is as large as the "
                     "container was given (see shm_space)",
                     inode),
         "to share regions with the host or another container, give both the same IPC "
         "namespace and /dev/shm (docker run --ipc=host, or --ipc=container:NAME); size it with "
         "docker run --shm-size"});
}

// ---- systemd-logind RemoveIPC ----

std::optional<bool> parse_bool(std::string v) {
    for (char& c : v) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (v == "1" || v == "yes" || v == "y" || v == "true" || v == "t" || v == "on") return true;
    if (v == "0" || v == "no" || v == "n" || v == "false" || v == "f" || v == "off") return false;
    return std::nullopt;
}

std::string trim(std::string_view s) {
    const auto b = s.find_first_not_of(" \t\r");
    if (b == std::string_view::npos) return {};
    const auto e = s.find_last_not_of(" \t\r");
    return std::string(s.substr(b, e - b + 1));
}

// Applies the RemoveIPC= lines of one file's [Login] section, in order.
void read_logind_file(const std::filesystem::path& file, std::optional<bool>& value,
                      std::string& source) {
    std::ifstream in(file);
    if (!in) return;
    std::string line;
    bool login = false;
    while (std::getline(in, line)) {
        const std::string t = trim(line);
        if (t.empty() || t[0] == '#' || t[0] == ';') continue;
        if (t.front() == '[') {
            login = t == "[Login]";
            continue;
        }
        if (!login) continue;
        const auto eq = t.find('=');
        if (eq == std::string::npos || trim(std::string_view(t).substr(0, eq)) != "RemoveIPC") {
            continue;
        }
        if (const auto b = parse_bool(trim(std::string_view(t).substr(eq + 1)))) {
            value = b;
            source = file.string();
        }
    }
}

// systemd's rule: the main file, then every drop-in *.conf of the drop-in directories ordered
// by file name (one name in /etc hides the same name in /run, which hides /usr/lib's); later
// settings win.
std::pair<bool, std::string> remove_ipc_setting() {
    std::optional<bool> value;
    std::string source;
    for (const char* main : {"/usr/lib/systemd/logind.conf", "/etc/systemd/logind.conf"}) {
        read_logind_file(main, value, source);
    }
    std::map<std::string, std::filesystem::path> dropins;  // file name -> winning path
    for (const char* dir : {"/usr/lib/systemd/logind.conf.d", "/usr/local/lib/systemd/logind.conf.d",
                            "/run/systemd/logind.conf.d", "/etc/systemd/logind.conf.d"}) {
        std::error_code ec;
        for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
            if (entry.path().extension() == ".conf") {
                dropins[entry.path().filename().string()] = entry.path();  // later dirs win
            }
        }
    }
    for (const auto& [leaf, path] : dropins) read_logind_file(path, value, source);
    if (!value) return {true, "systemd's default"};
    return {*value, source};
}

uid_t system_uid_max() {
    std::ifstream in("/etc/login.defs");
    std::string key;
    std::string line;
    while (std::getline(in, line)) {
        unsigned long v = 0;
        char name[32] = {};
        if (std::sscanf(line.c_str(), " %31s %lu", name, &v) == 2 &&
            std::string_view(name) == "SYS_UID_MAX") {
            return static_cast<uid_t>(v);
        }
    }
    return default_system_uid_max;
}

void check_remove_ipc(std::vector<Finding>& out, Json& facts) {
    const auto [remove_ipc, source] = remove_ipc_setting();
    const uid_t uid = ::geteuid();
    const std::string user = user_name(uid);
    std::error_code ec;
    const bool logind = std::filesystem::exists("/run/systemd/seats", ec) ||
                        std::filesystem::exists("/run/systemd/users", ec);
    const uid_t sys_max = system_uid_max();
    facts["remove_ipc"] = remove_ipc;
    facts["remove_ipc_source"] = source;
    facts["logind_running"] = logind;
    const std::string setting =
        fmt::format("systemd-logind's RemoveIPC={} ({})", remove_ipc ? "yes" : "no", source);
    if (!remove_ipc) {
        out.push_back({"remove_ipc", Severity::ok,
                       fmt::format("{}: logind never removes shared memory at logout", setting),
                       ""});
        return;
    }
    if (uid == 0 || uid <= sys_max) {
        out.push_back({"remove_ipc", Severity::ok,
                       fmt::format("{}, but it spares {} (uid {}): root and system users (uid <= "
                                   "{}) keep their shared memory at logout",
                                   setting, user, uid, sys_max),
                       ""});
        return;
    }
    if (!logind) {
        out.push_back({"remove_ipc", Severity::note,
                       fmt::format("{}; systemd-logind is not running here, so nothing removes "
                                   "{}'s regions at logout now (it would on a machine where it "
                                   "runs)",
                                   setting, user),
                       "on a machine with systemd-logind, see this check's advice there"});
        return;
    }
    out.push_back(
        {"remove_ipc", Severity::warning,
         fmt::format("{}: when {} (uid {}, a regular user) fully logs out, systemd-logind "
                     "removes all of {}'s shared memory, shmrec regions included: the classic "
                     "cause of regions that vanish",
                     setting, user, uid, user),
         fmt::format("run writers as a system user (uid <= {}), or keep {} from ever fully "
                     "logging out (`loginctl enable-linger {}`), or set RemoveIPC=no in "
                     "/etc/systemd/logind.conf.d/shmrec.conf and restart systemd-logind",
                     sys_max, user, user)});
}

// ---- the regions present ----

void check_regions(std::vector<Finding>& out, const std::vector<Examined>& regions) {
    const uid_t me = ::geteuid();
    std::size_t problems = 0;
    for (const auto& e : regions) {
        const std::string& n = e.probe.where.name;
        if (e.probe.uid != me) {
            ++problems;
            out.push_back({"region_owner", Severity::warning,
                           fmt::format("region '{}' is owned by user {}, not by you ({}): shmrec "
                                       "refuses to open it for you (untrusted_region)",
                                       n, user_name(e.probe.uid), user_name(me)),
                           fmt::format("run its users as {0}, or have {0}{1} remove it "
                                       "(shmrec rm {2}) so yours can create it",
                                       user_name(e.probe.uid),
                                       e.probe.uid == 0 ? "" : " (or root)", n)});
            continue;
        }
        if ((e.probe.mode & 0002u) != 0) {
            ++problems;
            out.push_back({"region_mode", Severity::error,
                           fmt::format("region '{}' has mode {}: anyone may write it, so shmrec "
                                       "refuses to open it (untrusted_region)",
                                       n, mode_string(e.probe.mode)),
                           fmt::format("chmod o-w {}, and create regions with "
                                       "RegionOptions::permissions 0600 (or 0660 for a group)",
                                       e.probe.path)});
        } else if ((e.probe.mode & 0020u) != 0) {
            ++problems;
            out.push_back({"region_mode", Severity::note,
                           fmt::format("region '{}' has mode {}: writable by its group; "
                                       "fine when made with permissions 0660 on purpose",
                                       n, mode_string(e.probe.mode)),
                           fmt::format("if not intended: chmod g-w {}", e.probe.path)});
        }
        if (!e.info) {
            ++problems;
            out.push_back({"region_invalid", Severity::warning,
                           fmt::format("region '{}' cannot be used: {}", n, e.problem),
                           e.probe.writer_lock_held
                               ? "a process still holds it; find it with `fuser -v " +
                                     e.probe.path + "`"
                               : fmt::format("if nothing needs it: shmrec rm {}", n)});
            continue;
        }
        const RegionInfo& info = *e.info;
        if (!info.writer_alive && info.readers == 0 && !info.consumer_alive) {
            ++problems;
            out.push_back({"stale_region", Severity::warning,
                           fmt::format("region '{}' is stale: its writer is gone and nobody is "
                                       "attached ({}, {} of {})",
                                       n, human_size(e.probe.allocated), info.kind_name,
                                       info.record_name),
                           fmt::format("shmrec rm {} frees the memory (a writer opening it "
                                       "with open_or_create would take it over instead)",
                                       n)});
        }
    }
    if (problems == 0) {
        out.push_back({"regions", Severity::ok,
                       fmt::format("{} region{} in {}: owned by you, not writable by others, none "
                                   "stale",
                                   regions.size(), regions.size() == 1 ? "" : "s", shm_dir),
                       ""});
    }
}

int run_doctor(const DoctorOptions& options) {
    std::optional<std::uint64_t> need;
    if (!options.need_text.empty()) {
        need = parse_bytes(options.need_text);
        if (!need) {
            fmt::print(stderr, "shmrec: --need {}: expected a size such as 1048576, 64K, 1M or 2G\n",
                       options.need_text);
            return exit_usage;
        }
    }
    const std::vector<Examined> regions = scan(std::string(shm_dir), Backing::memory);
    std::vector<Finding> findings;
    Json shm;
    Json system;
    check_shm_space(findings, regions, need, shm);
    check_ipc_namespace(findings, system);
    check_remove_ipc(findings, system);
    check_regions(findings, regions);

    const auto count = [&](Severity s) {
        return std::count_if(findings.begin(), findings.end(),
                             [s](const Finding& f) { return f.severity == s; });
    };
    const auto errors = count(Severity::error);
    const auto warnings = count(Severity::warning);
    if (options.json) {
        Json out;
        out["ok"] = errors == 0;
        out["errors"] = errors;
        out["warnings"] = warnings;
        out["user"] = {{"name", user_name(::geteuid())}, {"uid", ::geteuid()}};
        out["shm"] = shm;
        out["system"] = system;
        Json list = Json::array();
        for (const auto& f : findings) {
            list.push_back({{"check", f.check},
                            {"severity", std::string(to_string(f.severity))},
                            {"message", f.message},
                            {"action", f.action.empty() ? Json() : Json(f.action)}});
        }
        out["findings"] = std::move(list);
        print_json(out);
    } else {
        for (const auto& f : findings) {
            std::string label(to_string(f.severity));
            for (char& c : label) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
            fmt::print("{:<8} {}: {}\n", label, f.check, f.message);
            if (!f.action.empty()) fmt::print("{:<8} -> {}\n", "", f.action);
        }
        fmt::print("\n{} error{}, {} warning{}: {}\n", errors, errors == 1 ? "" : "s", warnings,
                   warnings == 1 ? "" : "s",
                   errors > 0 ? "something above would break shmrec (exit status 1)"
                              : "nothing here would break shmrec");
    }
    return errors > 0 ? exit_failure : exit_ok;
}

}  // namespace

Verb add_doctor_verb(CLI::App& app) {
    auto options = std::make_shared<DoctorOptions>();
    auto* command = app.add_subcommand(
        "doctor", "Check this machine for shmrec: /dev/shm space, IPC namespace, logind's "
                  "RemoveIPC, the regions present");
    command->add_option("--need", options->need_text,
                        "Space the regions you are about to create need in /dev/shm (bytes, or "
                        "with a K, M or G suffix: 64K, 1M, 2G)");
    command->add_flag("--json", options->json, "Print JSON");
    return {command, [options] { return run_doctor(*options); }};
}

}  // namespace shmrec::tool
