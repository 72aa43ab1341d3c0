// shmrec rm NAME | --file PATH [--force] [--json]: removes a region's name. Refuses a region
// with a live writer, and anything that is not a shmrec region, unless --force.
#include <memory>
#include <string>

#include <fmt/format.h>

#include "output.hpp"
#include "region_lookup.hpp"
#include "region_view.hpp"
#include "verb.hpp"

namespace shmrec::tool {

namespace {

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

    // A valid region: the runtime removes it only while it holds the writer role itself, so
    // no writer can take it over between the check above and the removal (unless --force). A
    // region this build cannot validate (another format, a damaged header) has no roles it can
    // take: the check above is all there is.
    bool removed = false;
    try {
        if (options.force || !e.info) {
            removed = remove_region(where);
        } else {
            switch (remove_idle_region(where)) {
                case Removal::removed: removed = true; break;
                case Removal::not_found: break;
                case Removal::writer_alive:
                    return report_failure(where,
                                          fmt::format("{} has a live writer (it started while rm "
                                                      "was looking); stop the writer first",
                                                      shown(where)),
                                          exit_failure, options.json, "writer_active");
                case Removal::not_a_region:
                    return report_failure(
                        where,
                        fmt::format("{} changed while rm was looking and is no valid region "
                                    "now; --force removes it anyway",
                                    shown(where)),
                        exit_failure, options.json, "not_a_region");
                case Removal::other_format:
                    return report_failure(
                        where,
                        fmt::format("{} changed while rm was looking: now a region of another "
                                    "format or build, whose writer this shmrec cannot check; "
                                    "--force removes it anyway",
                                    shown(where)),
                        exit_failure, options.json, "version_mismatch");
            }
        }
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
