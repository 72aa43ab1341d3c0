// Registers the /dev/shm leftover and unreaped-child checks for the unit tests.
#include <gtest/gtest.h>

#include "test_names.hpp"

namespace {
[[maybe_unused]] ::testing::Environment* const leftover_check =
    ::testing::AddGlobalTestEnvironment(new shmrec_test::ShmLeftoverCheck);
[[maybe_unused]] ::testing::Environment* const children_check =
    ::testing::AddGlobalTestEnvironment(new shmrec_test::ChildrenReapedCheck);
}  // namespace
