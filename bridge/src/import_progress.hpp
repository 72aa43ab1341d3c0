// Where an importer's stream stands, kept next to its region so that an importer started after
// one that died resumes exactly where that one's writes ended: every record in the region
// once, none missing (docs/bridge.md, "Restarts").
//
// Before each write into region NAME the importer records it in the cell NAME.import-progress
// (bridge/schema/import_progress.fbs): {NAME's epoch, source epoch, source position of its
// first record, NAME's position it goes to, count}. The region's own written count is exact
// (a writer that takes a region over continues after the last complete record), so whatever
// instant the importer died at, before, during or after the write:
//   next source position = source_first + (written - region_first), clamped to [0, count];
// and a write whose record was torn leaves the previous one readable, which still matches.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <shmrec/cell.hpp>

#include "import_progress.shmrec.hpp"

namespace shmrec::bridge {

// The stream position an importer resumes at.
struct ResumePoint {
    std::uint64_t source_epoch = 0;
    std::uint64_t next_position = 0;  // the first source position not in the region
};

class ImportProgress {
  public:
    // The progress cell of `region` (created, or taken over from an importer that died).
    explicit ImportProgress(const std::string& region);

    // Where the predecessor's writes into this creation of the region ended; nullopt when
    // there was none, or its record cannot be this region's (another creation of it, or a
    // written count outside its last write: something else wrote the region since).
    std::optional<ResumePoint> resume_point(std::uint64_t region_epoch,
                                            std::uint64_t region_written) const {
        return last_ ? resume_point_of(*last_, region_epoch, region_written) : std::nullopt;
    }

    // Records the write about to be made. Returns false if the cell refused it.
    [[nodiscard]] bool before_write(const shmrec_bridge::ImportProgress& write) noexcept {
        return writer_.try_write(write) == WriteStatus::ok;
    }

    // The name of the cell kept next to `region`: NAME.import-progress, shortened when that is
    // longer than a region name may be.
    static std::string cell_name(const std::string& region);

    static std::optional<ResumePoint> resume_point_of(const shmrec_bridge::ImportProgress& last,
                                                      std::uint64_t region_epoch,
                                                      std::uint64_t region_written);

  private:
    explicit ImportProgress(const Location& cell);

    std::optional<shmrec_bridge::ImportProgress> last_;  // the predecessor's last write
    Cell<shmrec_bridge::ImportProgress>::Writer writer_;
};

}  // namespace shmrec::bridge
