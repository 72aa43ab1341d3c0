// Everything a shmrec user includes.
#pragma once

#include "shmrec/cell.hpp"
#include "shmrec/error.hpp"
#include "shmrec/fixed_string.hpp"
#include "shmrec/record_traits.hpp"
#include "shmrec/region.hpp"
#include "shmrec/version.hpp"
#include "shmrec/wait.hpp"
