// Transport over Eclipse Cyclone DDS (C API, 0.10): the bridge's QoS profile and the mapping
// of wire.hpp onto bridge/idl/shmrec_bridge.idl. docs/bridge.md describes both.
#pragma once

#include <cstdint>
#include <memory>

#include "transport.hpp"

namespace shmrec::bridge {

struct CycloneOptions {
    // The DDS domain; importers and exporters meet only within one. The configuration is the
    // bridge's defaults (cyclone_config.hpp), then CYCLONEDDS_URI as for any Cyclone DDS
    // program: what the user sets there wins.
    std::uint32_t domain = 0;
};

// Throws TransportError when Cyclone DDS cannot start (no usable network interface, a bad
// CYCLONEDDS_URI, a domain id out of range).
std::unique_ptr<Transport> make_cyclone_transport(const CycloneOptions& options);

}  // namespace shmrec::bridge
