// Process-wide checks after every channel test: no region of this process left in /dev/shm,
// no peer process left running or unreaped.
#include <gtest/gtest.h>

#include "test_names.hpp"

[[maybe_unused]] ::testing::Environment* const leftover_check =
    ::testing::AddGlobalTestEnvironment(new shmrec_test::ShmLeftoverCheck);
[[maybe_unused]] ::testing::Environment* const children_check =
    ::testing::AddGlobalTestEnvironment(new shmrec_test::ChildrenReapedCheck);
