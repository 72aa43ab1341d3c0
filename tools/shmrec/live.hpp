// What the verbs that watch live records share (tail, stat, record, replay): ending cleanly on
// Ctrl-C, finding the region to open (with the lookup's messages for a missing or foreign
// name), and the decoder of a region's or recording's records.
#pragma once

#include <chrono>
#include <cstddef>
#include <optional>
#include <span>
#include <string>
#include <variant>

#include <shmrec/inspect/record_schema.hpp>
#include <shmrec/region.hpp>

#include "region_lookup.hpp"

namespace shmrec::tool {

// Installs SIGINT and SIGTERM handlers that only set a flag (no SA_RESTART: a blocking call
// returns EINTR). Verbs that run until stopped poll stop_requested() between reads, which
// always have a timeout (poll_interval), and then finish their work (flush, close) and exit 0.
void install_stop_handlers();
bool stop_requested() noexcept;
inline constexpr std::chrono::milliseconds poll_interval{100};

// Sleeps until `deadline` or a stop request, whichever comes first; false when stopped.
bool sleep_until(std::chrono::steady_clock::time_point deadline);

// A region that opened for inspection, or the exit status a verb returns because it did not
// (after reporting it as info does: nearest names for a missing one, what a foreign file is).
using Opened = std::variant<RegionInfo, int>;
Opened examine_for_verb(const Location& where, bool json = false);

// The JSON decoder of a record type, or nothing when there is no binary schema (a format 2.0
// region): then records are printed as {"hex": "..."} with --hex, or refused.
// Throws shmrec::Error(corrupt_schema) for an embedded schema that does not validate.
std::optional<inspect::RecordSchema> decoder_for(std::span<const std::uint8_t> binary_schema,
                                                 const std::string& record_name,
                                                 std::uint32_t record_size,
                                                 const std::string& origin);

// {"hex":"0a1b..."}: a record without a schema to decode it.
std::string hex_json(std::span<const std::byte> record);

// Writes one line to stdout; with `flush`, flushes it (a follower's output must reach a pipe
// at once). False when stdout is gone (a closed pipe).
bool print_line(const std::string& line, bool flush);

}  // namespace shmrec::tool
