// The source of tests/CMakeLists.txt's shmrec_test_pch target, which exists only to build the
// precompiled header every test program reuses.
