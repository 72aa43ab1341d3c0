// Everything a shmrec user includes.
#pragma once

#include "shmrec/broadcast.hpp"
#include "shmrec/cell.hpp"
#include "shmrec/error.hpp"
#include "shmrec/fixed_string.hpp"
#include "shmrec/record_traits.hpp"
#include "shmrec/region.hpp"
#include "shmrec/ring.hpp"
#include "shmrec/status.hpp"
#include "shmrec/untyped.hpp"
#include "shmrec/version.hpp"
#include "shmrec/wait.hpp"
