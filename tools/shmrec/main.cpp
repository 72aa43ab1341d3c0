// shmrec: inspect and manage shmrec regions.
//   shmrec info NAME | --file PATH     header, state, geometry, liveness, embedded schema
//   shmrec list                         every shmrec region in /dev/shm
//   shmrec remove NAME | --file PATH    remove a region's name
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>

#include <CLI/CLI.hpp>
#include <fmt/format.h>
#include <shmrec/region.hpp>
#include <shmrec/error.hpp>

namespace {

std::string_view state_name(shmrec::RegionState s) {
    switch (s) {
        case shmrec::RegionState::initialising: return "initialising";
        case shmrec::RegionState::ready: return "ready";
        case shmrec::RegionState::closed: return "closed";
    }
    return "unknown";
}

std::string format_time(std::uint64_t ns) {
    const auto secs = static_cast<std::time_t>(ns / 1'000'000'000ull);
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[64];
    std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
    return buf;
}

void print_info(const shmrec::RegionInfo& info, bool with_schema) {
    const auto& g = info.geometry;
    fmt::print("region        {}{}\n", info.name, info.backing == shmrec::Backing::file ? " (file)" : "");
    fmt::print("format        {}.{}\n", info.format_major, info.format_minor);
    fmt::print("channel       {}\n", info.kind_name);
    fmt::print("state         {}\n", state_name(info.state));
    fmt::print("record        {} ({} bytes, aligned to {}, fingerprint 0x{:016x})\n",
               info.record_name, info.record_size, info.record_alignment, info.fingerprint);
    fmt::print("capacity      {} slots of {} bytes\n", g.capacity, g.slot_stride);
    fmt::print("layout        {} bytes: board @{} ({}), data @{} ({}), schema @{} ({})\n",
               g.mapped_size, g.board_offset, g.board_size, g.data_offset, g.data_size,
               g.schema_offset, g.schema_length);
    fmt::print("creator       pid {} (start time {} ticks), created {}\n", info.creator.pid,
               info.creator.start_time, format_time(info.creator.creation_time_ns));
    fmt::print("writer        {}\n", info.writer_alive ? "alive" : "none");
    if (info.kind == shmrec::ChannelKind::ring) {
        fmt::print("consumer      {}\n", info.consumer_alive ? "alive" : "none");
    } else {
        fmt::print("readers       {}\n", info.readers);
    }
    if (with_schema) fmt::print("schema:\n{}\n", info.schema);
}

shmrec::Location location(const std::string& name, const std::string& file) {
    return file.empty() ? shmrec::Location::memory(name) : shmrec::Location::file(file);
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"Inspect and manage shmrec shared-memory regions"};
    app.require_subcommand(1);

    std::string name, file;
    bool schema = false;
    auto* info = app.add_subcommand("info", "Print a region's header, state and geometry");
    info->add_option("name", name, "Shared-memory region name");
    info->add_option("--file", file, "A file-backed region's path");
    info->add_flag("--schema", schema, "Also print the embedded schema");

    auto* list = app.add_subcommand("list", "List the shmrec regions in /dev/shm");

    auto* remove = app.add_subcommand("remove", "Remove a region's name");
    remove->add_option("name", name, "Shared-memory region name");
    remove->add_option("--file", file, "A file-backed region's path");
    CLI11_PARSE(app, argc, argv);

    try {
        if (*info) {
            if (name.empty() == file.empty()) throw CLI::ValidationError("give a NAME or --file PATH");
            print_info(shmrec::inspect_region(location(name, file)), schema);
        } else if (*list) {
            const shmrec::RegionOptions quick{.permissions = 0600,
                                              .init_timeout = std::chrono::milliseconds(0)};
            for (const auto& entry : std::filesystem::directory_iterator("/dev/shm")) {
                const std::string n = entry.path().filename().string();
                try {
                    const auto i = shmrec::inspect_region(shmrec::Location::memory(n), quick);
                    fmt::print("{:<32} {:<15} {:<24} {:>8} {:<7} writer {}\n", n, i.kind_name,
                               i.record_name, i.geometry.capacity, state_name(i.state),
                               i.writer_alive ? "alive" : "none");
                } catch (const shmrec::Error&) {
                    // Not a region of ours (or not ours to read): skip it.
                }
            }
        } else if (*remove) {
            if (name.empty() == file.empty()) throw CLI::ValidationError("give a NAME or --file PATH");
            if (!shmrec::remove_region(location(name, file))) {
                fmt::print(stderr, "shmrec: nothing to remove at '{}'\n", name.empty() ? file : name);
                return 1;
            }
        }
    } catch (const shmrec::Error& e) {
        fmt::print(stderr, "shmrec: {} ({})\n", e.what(), shmrec::to_string(e.code()));
        return 1;
    } catch (const CLI::Error& e) {
        return app.exit(e);
    }
    return 0;
}
