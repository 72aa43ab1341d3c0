// The Cyclone DDS configuration the bridge starts its domain with: its own defaults for the
// reliability protocol's timing and message size, which Cyclone's defaults get badly wrong under
// packet loss (docs/bridge.md, "QoS profile", has the measurements), followed by the user's
// CYCLONEDDS_URI. Cyclone reads a configuration string's comma-separated entries (files and XML
// fragments) in order and a later entry's value of a setting replaces an earlier one's, so
// whatever the user configures wins and everything else keeps the bridge's defaults.
#pragma once

#include <string>
#include <string_view>

namespace shmrec::bridge {

// The bridge's defaults: one XML fragment, for any domain id.
extern const std::string_view cyclone_defaults;

// The string for dds_create_domain: cyclone_defaults, then `user_uri` (CYCLONEDDS_URI's value;
// null or empty when unset).
std::string cyclone_config(const char* user_uri);

}  // namespace shmrec::bridge
