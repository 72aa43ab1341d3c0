// Writes the hostile seeds of tests/fuzz/schema_corpus that flatc cannot make from .fbs text:
// binary schemas edited in place the way a hostile writer could (tests/inspect/binary_schema.hpp).
// Run by the shmrec_fuzz_schema_corpus target after flatc has written the project's schemas.
//
//   dag.bfbs  RELIABILITY C10, the decode blow-up: dag.S0 .. dag.S19, each 8 bytes of two
//             overlapping fields of the next (doubling_dag(20)); load() must refuse every one.
#include <cstdio>
#include <exception>
#include <fstream>
#include <string>

#include "binary_schema.hpp"

int main(int argc, char** argv) {
    if (argc != 2) {
        std::fprintf(stderr, "usage: %s <schema_corpus directory>\n", argv[0]);
        return 2;
    }
    try {
        const auto bfbs = shmrec_test::doubling_dag(20);
        const std::string path = std::string(argv[1]) + "/dag.bfbs";
        std::ofstream out(path, std::ios::binary | std::ios::trunc);
        out.write(reinterpret_cast<const char*>(bfbs.data()),
                  static_cast<std::streamsize>(bfbs.size()));
        if (!out.flush()) {
            std::fprintf(stderr, "cannot write %s\n", path.c_str());
            return 1;
        }
        std::printf("%s: %zu bytes\n", path.c_str(), bfbs.size());
    } catch (const std::exception& e) {
        std::fprintf(stderr, "%s\n", e.what());
        return 1;
    }
    return 0;
}
