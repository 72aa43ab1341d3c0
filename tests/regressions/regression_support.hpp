// What the regression tests and their peer share: the peer's wait options and spawning it.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "shmrec/wait.hpp"

namespace shmrec_regress_test {

// Sleeps on the doorbell only (no spin), with a 10 s liveness interval: a lost wake-up costs
// seconds, which a test can see.
inline shmrec::WaitOptions doorbell_only() {
    shmrec::WaitOptions wait;
    wait.strategy = shmrec::WaitStrategy::futex;
    wait.spin_iterations = 0;
    wait.liveness_interval = std::chrono::seconds(10);
    return wait;
}

}  // namespace shmrec_regress_test

#ifdef SHMREC_REGRESSION_PEER
#include "child_process.hpp"

namespace shmrec_regress_test {

// shmrec_regression_peer with `args`, stopped or killed at `fault` when given
// ("<point>:<n>:<action>", detail/fault.hpp).
inline std::unique_ptr<shmrec_test::ChildProcess> peer(const std::vector<std::string>& args,
                                                       const std::string& fault = {}) {
    shmrec_test::SpawnOptions options;
    if (!fault.empty()) options.env.push_back("SHMREC_FAULT=" + fault);
    return std::make_unique<shmrec_test::ChildProcess>(SHMREC_REGRESSION_PEER, args, options);
}

}  // namespace shmrec_regress_test
#endif
