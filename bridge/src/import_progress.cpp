#include "import_progress.hpp"

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

ImportProgress::ImportProgress(const std::string& region)
    : last_(last_written(Location::memory(cell_name(region)))),
      writer_(Cell<Record>::writer(Location::memory(cell_name(region)), OpenMode::open_or_create)) {}

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
