// libFuzzer target: arbitrary bytes as the binary schema a region embeds, fed to
// shmrec::inspect::RecordSchema::load() and, when it loads, to_json() (docs/inspect.md).
//
// shmrec::Error(corrupt_schema) is the expected outcome for most inputs; a crash, a sanitizer
// report, a hang or any other exception is a finding. So that mutations reach the semantic
// checks and the decoder, not only the FlatBuffers verifier, the harness loads the record
// name of the seeds (school.Student, 32 bytes) and, when the input verifies as a
// reflection::Schema, every type it declares with the size it declares. Each loaded schema
// decodes records of zeros, of 0xff and of the input's own bytes.
//
// Seeds: tests/fuzz/schema_corpus (binary schemas of the project's .fbs files; regenerate with
// the shmrec_fuzz_schema_corpus target). Build: tests/fuzz/CMakeLists.txt.
#include <flatbuffers/reflection_generated.h>
#include <flatbuffers/verifier.h>

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <span>
#include <string>
#include <vector>

#include "shmrec/error.hpp"
#include "shmrec/inspect/record_schema.hpp"

namespace {

using shmrec::inspect::JsonLayout;
using shmrec::inspect::RecordSchema;

constexpr std::size_t max_names = 32;
constexpr std::uint32_t max_record = 1 << 16;

void decode(const RecordSchema& schema, std::span<const std::uint8_t> input) {
    std::vector<std::byte> record(schema.record_size());
    for (const auto fill : {0x00, 0xff}) {
        std::fill(record.begin(), record.end(), std::byte(fill));
        (void)schema.to_json(record);
    }
    for (std::size_t i = 0; i < record.size() && !input.empty(); ++i) {
        record[i] = std::byte(input[i % input.size()]);
    }
    (void)schema.to_json(record, JsonLayout::indented);
}

void try_load(std::span<const std::uint8_t> input, const std::string& name, std::uint32_t size) {
    try {
        decode(RecordSchema::load(input, name, size, "fuzz input"), input);
    } catch (const shmrec::Error& e) {
        if (e.code() != shmrec::ErrorCode::corrupt_schema) std::abort();  // only load() may throw
    }
}

// The (name, size) of every object of the input, when it verifies on its own.
std::vector<std::pair<std::string, std::uint32_t>> declared_types(
    std::span<const std::uint8_t> input) {
    std::vector<std::pair<std::string, std::uint32_t>> types;
    if (input.size() > RecordSchema::max_schema_bytes) return types;
    const std::vector<std::uint8_t> aligned(input.begin(), input.end());
    flatbuffers::Verifier verifier(aligned.data(), aligned.size());
    if (!reflection::VerifySchemaBuffer(verifier)) return types;
    for (const auto* object : *reflection::GetSchema(aligned.data())->objects()) {
        if (types.size() == max_names) break;
        const auto size = object->bytesize();
        if (size <= 0 || size > static_cast<std::int32_t>(max_record)) continue;
        types.emplace_back(object->name()->str(), static_cast<std::uint32_t>(size));
    }
    return types;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    const std::span<const std::uint8_t> input(data, size);
    try_load(input, "school.Student", 32);
    for (const auto& [name, record_size] : declared_types(input))
        try_load(input, name, record_size);
    return 0;
}
