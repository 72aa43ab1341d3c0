// Finding and classifying regions for the `shmrec` tool: what the bytes at a name or path are
// (before the runtime validates anything), what the runtime makes of them, every region of a
// directory, and the nearest existing names for a name that is not there.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <shmrec/error.hpp>
#include <shmrec/region.hpp>

namespace shmrec::tool {

// Where POSIX shared memory lives on Linux: glibc's shm_open("NAME") opens /dev/shm/NAME.
inline constexpr std::string_view shm_dir = "/dev/shm";

// What is at a location, judged from its first bytes alone (no shmrec validation yet).
enum class Content {
    missing,      // nothing at that name or path
    not_regular,  // a directory, symbolic link, FIFO, ...: never a region
    unreadable,   // it exists, but this user may not read it
    empty,        // 0 bytes
    zero_filled,  // bytes, all zero: no header
    foreign,      // bytes that do not start with the shmrec magic
    region,       // starts with the shmrec magic (in either byte order)
};
std::string_view to_string(Content c) noexcept;

// Header fields read straight from the bytes, for display when the runtime refuses to open a
// region (another user's, another format version): never trusted for anything else.
struct RawHeader {
    bool other_byte_order = false;
    std::uint16_t format_major = 0;
    std::uint16_t format_minor = 0;
    std::uint32_t kind = 0;
    std::uint32_t state = 0;
    std::uint64_t capacity = 0;
    std::string record_name;
};

struct Probe {
    Location where{Backing::memory, std::string()};
    std::string path;  // in the file system (/dev/shm/NAME for shared memory)
    Content content = Content::missing;
    int error = 0;  // errno of a failed lstat or open
    // From lstat (valid unless content is missing):
    uid_t uid = 0;
    unsigned mode = 0;
    std::uint64_t size = 0;       // bytes
    std::uint64_t allocated = 0;  // bytes really allocated (st_blocks)
    std::optional<RawHeader> header;  // content == region, and the header bytes were there
    // Another open holds the writer lock (byte 0): a live writer, or a creator still
    // initialising. Only known when the file could be opened.
    bool writer_lock_held = false;
};

// Looks at a location without validating it as a region (and without waiting for anything).
Probe probe(const Location& where);

// A probe plus, for something that starts like a region, what the runtime made of it.
struct Examined {
    Probe probe;
    std::optional<RegionInfo> info;  // the runtime validated it
    std::optional<ErrorCode> error;  // why it did not
    std::string problem;             // the same for people ("" when info is set)

    bool is_region() const noexcept { return probe.content == Content::region; }
};

// probe(), then shmrec::inspect_region with a zero init_timeout when it looks like a region.
Examined examine(const Location& where);

// The regions of one directory (not recursive), sorted by name: shared memory when `dir` is
// shm_dir and `backing` memory, file-backed regions otherwise. Anything that is certainly not
// a region is skipped; regions that fail validation and entries this user may not read are
// kept (their problem says why).
std::vector<Examined> scan(const std::string& dir, Backing backing);

// Names of existing regions nearest to `where` (edit distance, common prefix): shared-memory
// names from /dev/shm, or paths from the file's directory. At most `max`, best first.
std::vector<std::string> nearest_regions(const Location& where, std::size_t max = 5);
// The ranking itself, for any candidate list.
std::vector<std::string> nearest_names(std::string_view wanted,
                                       const std::vector<std::string>& candidates,
                                       std::size_t max = 5);

// "region 'NAME'" or "region file 'PATH'", like the runtime's messages.
std::string shown(const Location& where);
// "not a shmrec region (zero-filled)" and the like, for a probe whose content is not region.
std::string not_a_region_text(const Probe& p);
// "owned by user alice, mode 0600".
std::string ownership_text(const Probe& p);

}  // namespace shmrec::tool
