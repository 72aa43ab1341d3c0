// Process-wide checks after every test of a binary: no region of this process left in
// /dev/shm, no child process left running or unreaped. Linked into the unit, integration and
// channel test binaries (each lists this file among its sources).
#include <gtest/gtest.h>

#include "test_names.hpp"

namespace {
[[maybe_unused]] ::testing::Environment* const leftover_check =
    ::testing::AddGlobalTestEnvironment(new shmrec_test::ShmLeftoverCheck);
[[maybe_unused]] ::testing::Environment* const children_check =
    ::testing::AddGlobalTestEnvironment(new shmrec_test::ChildrenReapedCheck);
}  // namespace
