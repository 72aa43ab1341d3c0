// The writer process of byte_broadcast_review_test.cpp, built with the fault points
// (shmrec_runtime_faults) so a test can kill it at an exact point (SHMREC_FAULT).
//
//   byte_broadcast_review_peer write NAME SPEC...
//       takes over the writer role of the byte broadcast NAME (open_only) and writes one
//       message per SPEC, then "wrote n=<count> written=<written()>" and exits:
//         <size>                        bbreview::message(written(), size)
//         image:<size>:<at>:<extent>:<sequence>
//                                       bbreview::frame_image(size, at, extent, sequence)
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

#include "byte_broadcast_review_support.hpp"

namespace {

std::vector<std::byte> parse(const std::string& spec, std::uint64_t k) {
    if (spec.rfind("image:", 0) != 0) return bbreview::message(k, std::stoul(spec));
    std::istringstream in(spec.substr(6));
    std::string part;
    std::vector<std::uint64_t> v;
    while (std::getline(in, part, ':')) v.push_back(std::stoull(part));
    if (v.size() != 4) std::exit(2);
    return bbreview::frame_image(v[0], v[1], static_cast<std::int32_t>(v[2]), v[3]);
}

}  // namespace

int main(int argc, char** argv) {
    if (argc < 3 || std::string(argv[1]) != "write") {
        std::cerr << "usage: byte_broadcast_review_peer write NAME SPEC...\n";
        return 2;
    }
    auto w = shmrec::ByteBroadcast::writer(argv[2], bbreview::quote_type, 0,
                                           shmrec::OpenMode::open_only);
    int n = 0;
    for (int i = 3; i < argc; ++i, ++n) {
        if (w.try_write(parse(argv[i], w.written())) != shmrec::WriteStatus::ok) break;
    }
    std::cout << "wrote n=" << n << " written=" << w.written() << std::endl;
    return 0;
}
