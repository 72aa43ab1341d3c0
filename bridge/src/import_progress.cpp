#include "import_progress.hpp"

#include <string_view>

#include <fmt/format.h>
#include <shmrec/error.hpp>

namespace shmrec::bridge {

namespace {

using Record = shmrec_bridge::ImportProgress;

// The predecessor's last record, read before taking the cell's writer role; nullopt when the
// cell does not exist yet or holds no complete record (never written; or its writer died
// while writing its first one).
std::optional<Record> last_written(const Location& where) {
    try {
        auto reader = Cell<Record>::reader(where);
        Record last{};
        if (reader.try_read(last) == ReadStatus::ok) return last;
    } catch (const Error& e) {
        if (e.code() != ErrorCode::not_found) throw;
    }
    return std::nullopt;
}

}  // namespace

std::string ImportProgress::cell_name(const std::string& region) {
    constexpr std::string_view suffix = ".import-progress";
    // The runtime's limit on a region name (region_names.cpp). A NAME that leaves no room for
    // the suffix keeps a prefix of itself and a hash of the whole (FNV-1a: the same in every
    // build, so an heir finds the cell), one cell per region still.
    constexpr std::size_t max_name = 200;
    std::string name = region + std::string(suffix);
    if (name.size() <= max_name) return name;
    std::uint64_t h = 0xcbf29ce484222325ULL;
    for (const char c : region) {
        h = (h ^ static_cast<unsigned char>(c)) * 0x100000001b3ULL;
    }
    return fmt::format("{}-{:016x}{}", region.substr(0, max_name - suffix.size() - 17), h,
                       suffix);
}

ImportProgress::ImportProgress(const std::string& region)
    : ImportProgress(Location::memory(cell_name(region))) {}

ImportProgress::ImportProgress(const Location& cell)
    : last_(last_written(cell)), writer_(Cell<Record>::writer(cell, OpenMode::open_or_create)) {}

std::optional<ResumePoint> ImportProgress::resume_point_of(const Record& last,
                                                           std::uint64_t region_epoch,
                                                           std::uint64_t region_written) {
    if (last.region_epoch != region_epoch) return std::nullopt;
    // The region holds every record before the write, and as many of the write's as were
    // completed; any other count means another writer has been at the region since.
    if (region_written < last.region_first ||
        region_written - last.region_first > last.count) {
        return std::nullopt;
    }
    return ResumePoint{last.source_epoch,
                       last.source_first + (region_written - last.region_first)};
}

}  // namespace shmrec::bridge
