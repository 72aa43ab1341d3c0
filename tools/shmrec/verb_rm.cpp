// shmrec rm NAME | --file PATH [--force] [--json]: removes a region's name. Refuses a region
// with a live writer, and anything that is not a shmrec region, unless --force.
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <memory>
#include <string>

#include <fmt/format.h>

#include "output.hpp"
#include "region_lookup.hpp"
#include "region_view.hpp"
#include "verb.hpp"

namespace shmrec::tool {

namespace {

// Holds the writer role's lock (byte 0 of the region object) while the name is removed, so no
// writer can take the region over between the check and the removal: a writer taking over must
// take this very lock (docs/region-header.md, "Liveness and the writer role").
class WriterRoleHold {
public:
    enum class Outcome { held, writer_alive, replaced, open_failed };

    explicit WriterRoleHold(const std::string& path) {
        fd_ = ::open(path.c_str(), O_RDWR | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY);
        if (fd_ < 0) {
            error_ = errno;
            outcome_ = Outcome::open_failed;
            return;
        }
        struct flock fl {};
        fl.l_type = F_WRLCK;
        fl.l_whence = SEEK_SET;
        fl.l_start = 0;  // detail::LockSlot::writer
        fl.l_len = 1;
        if (::fcntl(fd_, F_OFD_SETLK, &fl) != 0) {
            outcome_ = Outcome::writer_alive;  // EAGAIN / EACCES: another open holds it
            return;
        }
        // The name must still lead to the object we locked (not one made since).
        struct stat ours {};
        struct stat named {};
        const bool same = ::fstat(fd_, &ours) == 0 && ::lstat(path.c_str(), &named) == 0 &&
                          ours.st_dev == named.st_dev && ours.st_ino == named.st_ino;
        outcome_ = same ? Outcome::held : Outcome::replaced;
    }
    WriterRoleHold(const WriterRoleHold&) = delete;
    WriterRoleHold& operator=(const WriterRoleHold&) = delete;
    ~WriterRoleHold() {
        if (fd_ >= 0) ::close(fd_);  // drops the lock
    }
    Outcome outcome() const noexcept { return outcome_; }
    int error() const noexcept { return error_; }  // errno of a failed open

private:
    int fd_ = -1;
    int error_ = 0;
    Outcome outcome_ = Outcome::open_failed;
};

struct RmOptions {
    Target target;
    bool force = false;
    bool json = false;
};

int run_rm(const RmOptions& options) {
    const Location where = options.target.location();
    try {
        validate_location(where);
    } catch (const Error& e) {
        return report_failure(where, e.what(), exit_usage, options.json, "invalid_name");
    }
    const Examined e = examine(where);
    if (e.probe.content == Content::missing) return report_missing(where, options.json);

    std::string what = "a shmrec region";
    if (!e.is_region()) {
        what = not_a_region_text(e.probe);
        if (!options.force) {
            return report_failure(
                where,
                fmt::format("{}: {}; refusing to remove it (--force removes it anyway)",
                            shown(where), what),
                exit_failure, options.json, "not_a_region");
        }
    } else if (writer_alive(e).value_or(false) && !options.force) {
        // A live writer keeps writing into the removed region, where no new reader can find
        // it, and a new writer would make a second region under the name: a split brain.
        return report_failure(
            where,
            fmt::format("{} has a live writer; stop the writer first (--force removes the name "
                        "anyway: the writer and its readers carry on in a region nobody new can "
                        "find)",
                        shown(where)),
            exit_failure, options.json, "writer_active");
    }

    // A region: remove it only while holding the writer role ourselves (unless --force).
    std::unique_ptr<WriterRoleHold> hold;
    if (e.is_region() && !options.force) {
        hold = std::make_unique<WriterRoleHold>(e.probe.path);
        switch (hold->outcome()) {
            case WriterRoleHold::Outcome::held: break;
            case WriterRoleHold::Outcome::writer_alive:
                return report_failure(where,
                                      fmt::format("{} has a live writer (it started while rm was "
                                                  "looking); stop the writer first",
                                                  shown(where)),
                                      exit_failure, options.json, "writer_active");
            case WriterRoleHold::Outcome::replaced:
                return report_failure(
                    where, fmt::format("{} was replaced while rm was looking; run rm again",
                                       shown(where)),
                    exit_failure, options.json, "replaced");
            case WriterRoleHold::Outcome::open_failed:
                return report_failure(
                    where,
                    fmt::format("{} cannot be opened to take its writer role: {} ({})",
                                shown(where), std::strerror(hold->error()),
                                ownership_text(e.probe)),
                    exit_failure, options.json, "permission_denied");
        }
    }

    bool removed = false;
    try {
        removed = remove_region(where);
    } catch (const Error& err) {
        return report_failure(where, err.what(), exit_failure, options.json,
                              shmrec::to_string(err.code()));
    }
    if (!removed) return report_missing(where, options.json);  // gone meanwhile

    const std::uint32_t readers = e.info && e.info->kind != ChannelKind::ring ? e.info->readers : 0;
    if (options.json) {
        Json out;
        out["removed"] = where.name;
        out["backing"] = std::string(shmrec::to_string(where.backing));
        out["was"] = e.is_region() ? "region" : std::string(to_string(e.probe.content));
        out["forced"] = options.force;
        out["writer_alive"] = writer_alive(e).value_or(false);
        out["readers"] = readers;
        print_json(out);
    } else {
        fmt::print("removed {}{}\n", shown(where),
                   e.is_region() ? "" : fmt::format(" ({})", to_string(e.probe.content)));
        if (readers > 0) {
            fmt::print("{} reader{} still attached keep{} reading what the region holds\n",
                       readers, readers == 1 ? "" : "s", readers == 1 ? "s" : "");
        }
    }
    return exit_ok;
}

}  // namespace

Verb add_rm_verb(CLI::App& app) {
    auto options = std::make_shared<RmOptions>();
    auto* command = app.add_subcommand(
        "rm", "Remove a region's name (refused while a writer lives, or if it is no region)");
    command->alias("remove");
    options->target.add_options(*command, "to remove");
    command->add_flag("--force", options->force,
                      "Remove it even with a live writer, or when it is not a shmrec region");
    command->add_flag("--json", options->json, "Print JSON");
    return {command, [options] { return run_rm(*options); }};
}

}  // namespace shmrec::tool
