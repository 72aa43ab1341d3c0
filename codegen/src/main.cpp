// shmrec-gen: FlatBuffers schemas -> C++ headers of shmrec records (structs) and tables.
//
//   shmrec-gen [-I dir]... -o OUT_DIR [--depfile FILE] [--flatc PATH] schema.fbs...
//
// Writes OUT_DIR/<stem>.shmrec.hpp for each schema named on the command line. A schema that
// declares tables needs --flatc: flatc generates its C++, which the header embeds. Nothing is
// written unless every schema loaded; unchanged headers are not rewritten.
#include <fmt/format.h>
#include <CLI/CLI.hpp>

#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "emit_cpp.hpp"
#include "load_schema.hpp"
#include "output_files.hpp"
#include "run_flatc.hpp"
#include "shmrec/version.hpp"

namespace fs = std::filesystem;
using namespace shmrec::codegen;

namespace {

fs::path absolute_normal(const fs::path& p) {
    return fs::absolute(p).lexically_normal();
}

struct Generated {
    fs::path header;
    std::string content;
};

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"shmrec-gen: C++ headers for shmrec records from FlatBuffers schemas"};
    std::vector<std::string> include_dirs;
    std::string output_dir;
    std::string depfile;
    std::string flatc;
    std::vector<std::string> schemas;
    app.add_option("-I,--include-dir", include_dirs, "Where to look for included schemas")
        ->allow_extra_args(false);
    app.add_option("-o,--output-dir", output_dir, "Directory for the generated headers")
        ->required();
    app.add_option("--depfile", depfile,
                   "Also write a Makefile-syntax dependency file (every schema read)");
    app.add_option("--flatc", flatc,
                   "flatc to run for schemas that declare tables (flatc 2.0.8, as the "
                   "FlatBuffers headers the generated code is compiled with)");
    app.add_option("schemas", schemas, "Schema files (.fbs)")->required();
    app.set_version_flag(
        "--version", fmt::format("shmrec-gen {}.{}.{} (format {})", SHMREC_VERSION_MAJOR,
                                 SHMREC_VERSION_MINOR, SHMREC_VERSION_PATCH, SHMREC_FORMAT_MAJOR));
    CLI11_PARSE(app, argc, argv);

    // 1. Load and render everything in memory; any error stops before a file is touched.
    std::vector<std::string> errors;
    std::vector<Generated> generated;
    std::set<fs::path> dependencies;
    std::map<std::string, std::string> stems;  // header name -> schema, to catch collisions
    for (const auto& path : schemas) {
        auto schema = load_schema(path, include_dirs, errors);
        if (!schema) continue;
        const std::string header = header_name(schema->files[0]);
        if (auto [it, fresh] = stems.emplace(header, path); !fresh) {
            errors.push_back(fmt::format("{}: error: '{}' and '{}' would both generate {}", path,
                                         it->second, path, header));
            continue;
        }
        std::string flatc_header;
        if (schema->files[0].declares_tables) {
            std::string table_names;
            for (const auto& t : schema->tables) {
                if (t.file == 0)
                    table_names += (table_names.empty() ? "'" : ", '") + t.qualified_name + "'";
            }
            if (flatc.empty()) {
                errors.push_back(fmt::format(
                    "{}: error: the schema declares tables ({}), whose C++ flatc generates: "
                    "pass --flatc <path to flatc> (shmrec_add_schema() passes the flatc of "
                    "find_package(FlatBuffers); install flatbuffers-compiler if it found none)",
                    path, table_names));
                continue;
            }
            std::string error;
            auto text = run_flatc(flatc, include_dirs, path, error);
            if (!text) {
                errors.push_back(fmt::format("{}: error: {}", path, error));
                continue;
            }
            flatc_header = std::move(*text);
        }
        for (const auto& f : schema->files) dependencies.insert(absolute_normal(f.path));
        generated.push_back(
            {absolute_normal(fs::path(output_dir) / header), emit_cpp(*schema, flatc_header)});
    }
    if (!errors.empty()) {
        for (const auto& e : errors) std::fprintf(stderr, "%s\n", e.c_str());
        std::fprintf(stderr, "shmrec-gen: %zu error(s); no file written\n", errors.size());
        return 1;
    }

    // 2. Write.
    std::error_code ec;
    fs::create_directories(output_dir, ec);
    if (ec) {
        std::fprintf(stderr, "shmrec-gen: error: cannot create %s: %s\n", output_dir.c_str(),
                     ec.message().c_str());
        return 3;
    }
    std::string error;
    for (const auto& g : generated) {
        if (write_if_changed(g.header, g.content, error) == WriteResult::failed) {
            std::fprintf(stderr, "shmrec-gen: error: %s\n", error.c_str());
            return 3;
        }
    }
    if (!depfile.empty()) {
        std::vector<fs::path> outputs;
        for (const auto& g : generated) outputs.push_back(g.header);
        const std::vector<fs::path> deps(dependencies.begin(), dependencies.end());
        if (write_if_changed(depfile, make_depfile(outputs, deps), error) == WriteResult::failed) {
            std::fprintf(stderr, "shmrec-gen: error: %s\n", error.c_str());
            return 3;
        }
    }
    return 0;
}
