// Internal: how a region is named in messages, and name validation (region_names.cpp).
#pragma once

#include <string>

#include "shmrec/region.hpp"

namespace shmrec::detail {

// "region 'name'" or "region file 'path'", for messages: every message about a region names
// it so, file-backed regions by their path.
std::string display_name(const Location& where);

}  // namespace shmrec::detail
