// The command line of the tests' peer programs: `peer VERB --key value ...`. Shared by
// tests/integration/test_peer.cpp and tests/bridge/bridge_test_peer.cpp. Bad arguments throw
// std::invalid_argument; each peer reports it as it reports any failure.
#pragma once

#include <map>
#include <stdexcept>
#include <string>

namespace shmrec_test {

using PeerOptions = std::map<std::string, std::string>;

// The "--key value" pairs after argv[1] (the verb).
inline PeerOptions parse_peer_options(int argc, char** argv) {
    PeerOptions options;
    for (int i = 2; i + 1 < argc; i += 2) {
        const std::string key = argv[i];
        if (key.rfind("--", 0) != 0) throw std::invalid_argument("bad argument " + key);
        options[key.substr(2)] = argv[i + 1];
    }
    return options;
}

inline std::string need(const PeerOptions& options, const std::string& key) {
    const auto it = options.find(key);
    if (it == options.end()) throw std::invalid_argument("missing --" + key);
    return it->second;
}

}  // namespace shmrec_test
