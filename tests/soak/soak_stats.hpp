// The counters a soak peer reports to the driver: "key value" lines in a file of its own,
// replaced atomically (write a temporary file, rename it) so a peer killed with -9 leaves its
// last complete report behind.
#pragma once

#include <dirent.h>
#include <unistd.h>

#include <cstdint>
#include <fstream>
#include <map>
#include <sstream>
#include <string>

namespace shmrec_soak {

using Stats = std::map<std::string, std::uint64_t>;

inline void write_stats(const std::string& path, const Stats& stats) {
    const std::string tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        for (const auto& [key, value] : stats) out << key << ' ' << value << '\n';
    }
    ::rename(tmp.c_str(), path.c_str());
}

inline Stats read_stats(const std::string& path) {
    Stats stats;
    std::ifstream in(path);
    std::string line;
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string key;
        std::uint64_t value = 0;
        if (fields >> key >> value) stats[key] = value;
    }
    return stats;
}

// Open descriptors of this process (the directory's own descriptor not counted).
inline int open_fd_count() {
    DIR* dir = ::opendir("/proc/self/fd");
    if (dir == nullptr) return -1;
    int n = 0;
    while (const dirent* e = ::readdir(dir)) {
        if (e->d_name[0] != '.') ++n;
    }
    ::closedir(dir);
    return n - 1;
}

}  // namespace shmrec_soak
