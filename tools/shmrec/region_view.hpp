// How the tool describes a region's kind, capacity, writer and readers: shared by ls, info
// and doctor so they never disagree.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "output.hpp"
#include "region_lookup.hpp"
#include "exit_status.hpp"

namespace shmrec::tool {

// The channel kind's name ("cell", "ring", "broadcast"), from the validated info or the raw
// header; "?" when neither is known.
std::string kind_of(const Examined& e);
std::string record_of(const Examined& e);
// Records the channel holds for a reader: a cell holds one (the latest value; its two slots
// are an implementation detail). Empty when unknown.
std::optional<std::uint64_t> capacity_of(const Examined& e);
// "1 (latest value)" for a cell, the count otherwise, "?" when unknown.
std::string capacity_text(const Examined& e);
// "ready", "closed", "initialising", "invalid", "unreadable".
std::string state_of(const Examined& e);
// Whether a writer holds the region: from the runtime, or from the writer lock when the
// runtime refused the region. Empty when it cannot be known (unreadable).
std::optional<bool> writer_alive(const Examined& e);
// "alive" / "none" / "?".
std::string writer_text(const Examined& e);
// Readers of a cell or broadcast ("2"), a ring's consumer ("consumer yes"), "?" when unknown.
std::string readers_text(const Examined& e);

// The JSON object ls prints for one region (info prints more).
Json summary_json(const Examined& e);

// Reports a failure of a verb about one region: "shmrec: MESSAGE" on stderr, then the nearest
// existing names if any were given; with `json`, also {"error": ...} on stdout so a script
// parsing stdout always gets JSON. Returns `status`.
int report_failure(const Location& where, const std::string& message, int status, bool json,
                   std::string_view code, const std::vector<std::string>& nearest = {});

// report_failure for a name or path with nothing there, naming the nearest regions.
int report_missing(const Location& where, bool json);

}  // namespace shmrec::tool
