// fails_with(f, code): runs f and checks that it throws shmrec::Error with exactly `code`.
//
//   std::string what;
//   ASSERT_TRUE(fails_with([&] { open(); }, ErrorCode::truncated, &what));
//   EXPECT_THAT(what, HasSubstr(name));
#pragma once

#include <gtest/gtest.h>

#include <exception>
#include <string>

#include "shmrec/error.hpp"

namespace shmrec_test {

template <class F>
::testing::AssertionResult fails_with(F&& f, shmrec::ErrorCode expected,
                                      std::string* what = nullptr) {
    try {
        f();
    } catch (const shmrec::Error& e) {
        if (what != nullptr) *what = e.what();
        if (e.code() == expected) return ::testing::AssertionSuccess();
        return ::testing::AssertionFailure()
               << "threw shmrec::Error " << shmrec::to_string(e.code()) << ", expected "
               << shmrec::to_string(expected) << ": " << e.what();
    } catch (const std::exception& e) {
        return ::testing::AssertionFailure()
               << "threw " << typeid(e).name() << " (" << e.what() << "), expected shmrec::Error "
               << shmrec::to_string(expected);
    }
    return ::testing::AssertionFailure()
           << "did not throw; expected shmrec::Error " << shmrec::to_string(expected);
}

}  // namespace shmrec_test
