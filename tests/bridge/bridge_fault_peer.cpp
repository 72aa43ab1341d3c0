// shmrec-bridge's exporter in a process of its own, so a test can stop it at a fault point of
// the runtime (SHMREC_FAULT="point:N:stop", detail/fault.hpp) and act while it is stopped. It
// publishes to a RecordingTransport (recording_transport.hpp: one subscriber, no engine).
//
//   export REGION
//       runs run_export() for REGION as topic "Faults" until its stdin ends; prints
//       "batch P N" for each batch published (first position P, N records), at the end
//       "exported R records in B batches" and exits 0; an export that fails prints
//       "failed: WHY" and exits 1.
//
// Built with SHMREC_FAULT_INJECTION against the ordinary runtime: the points it needs are in
// the runtime's headers (untyped.hpp), compiled here; fault_point() itself is in every build of
// the runtime.
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <iostream>
#include <string>
#include <thread>

#include <fmt/format.h>

#include "exporter.hpp"
#include "recording_transport.hpp"

int main(int argc, char** argv) {
    if (argc != 3 || std::string(argv[1]) != "export") {
        std::fprintf(stderr, "usage: shmrec_bridge_fault_peer export REGION\n");
        return 2;
    }
    shmrec::bridge::ExportOptions options;
    options.region = argv[2];
    options.topic = "Faults";
    shmrec::bridge::StopFlag stop;
    std::thread stdin_watch([&] {
        std::string line;
        while (std::getline(std::cin, line)) {
        }
        stop.request();
    });
    shmrec_bridge_test::RecordingTransport transport;
    std::size_t printed = 0;
    const auto print_new_batches = [&] {
        const auto batches = transport.published().batches;
        for (; printed < batches.size(); ++printed) {
            fmt::print("batch {} {}\n", batches[printed].first_position,
                       batches[printed].record_count);
        }
        std::fflush(stdout);
    };
    std::thread printer([&] {
        while (!stop.requested()) {
            print_new_batches();
            std::this_thread::sleep_for(std::chrono::milliseconds(1));
        }
    });
    try {
        const shmrec::bridge::ExportCounts c = shmrec::bridge::run_export(transport, options, stop);
        stdin_watch.join();
        printer.join();
        print_new_batches();  // those published after the printer's last look
        fmt::print("exported {} records in {} batches\n", c.records, c.batches);
        return 0;
    } catch (const std::exception& e) {
        fmt::print("failed: {}\n", e.what());
        std::fflush(stdout);
        std::_Exit(1);  // the stdin and printer threads may still run
    }
}
