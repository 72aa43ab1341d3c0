// Versions of the shmrec library and of the shared-memory format it speaks.
#pragma once

#include <cstdint>

// The region format. Bump the major version for any change an older opener could misread
// (see docs/region-header.md, "Versioning rules"); bump the minor version for additions an
// older opener may safely ignore. Generated headers pin the major version they were made for.
#define SHMREC_FORMAT_MAJOR 2
#define SHMREC_FORMAT_MINOR 1

#define SHMREC_VERSION_MAJOR 0
#define SHMREC_VERSION_MINOR 1
#define SHMREC_VERSION_PATCH 0

namespace shmrec {

inline constexpr std::uint16_t format_major = SHMREC_FORMAT_MAJOR;
inline constexpr std::uint16_t format_minor = SHMREC_FORMAT_MINOR;

}  // namespace shmrec
