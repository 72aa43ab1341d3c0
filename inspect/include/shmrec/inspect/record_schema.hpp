// Decoding a record of any region to JSON, knowing only the region's embedded binary schema.
//
// A region written by another process carries the writer's binary schema (the bytes of
// FlatBuffers' Parser::Serialize(), a reflection::Schema), the record's qualified name and its
// size. RecordSchema::load() treats all three as untrusted: it verifies the buffer, checks
// that the named struct is one shmrec can store, and resolves it into a private decode plan,
// so that to_json() never reads the schema buffer again. Decoding rules: docs/inspect.md.
//
//   auto schema = shmrec::inspect::RecordSchema::load(bfbs, "school.Student", 32,
//                                                     "region 'TestMemShare'");
//   std::string line = schema.to_json(std::as_bytes(std::span(&student, 1)));
//   // {"id":99041232,"name":"SecBug"}
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>

namespace shmrec::inspect {

namespace detail {
struct DecodePlan;
}

enum class JsonLayout {
    one_line,  // one object on one line, no spaces: one record per line of output
    indented,  // two spaces per level, for people
};

// A record type described by an embedded binary schema. Immutable; copies share one plan. A
// moved-from RecordSchema may only be assigned to or destroyed.
class RecordSchema {
  public:
    // The largest binary schema load() accepts; larger ones are refused before verifying.
    static constexpr std::size_t max_schema_bytes = std::size_t{1} << 20;
    // The deepest nesting of structs load() accepts (the record itself is depth 0).
    static constexpr int max_nesting = 32;
    // The longest field or enum value name load() accepts: each is printed with every value it
    // names, so a name as long as the schema could multiply the output by a megabyte.
    static constexpr std::size_t max_name_bytes = 1024;

    // Throws shmrec::Error with ErrorCode::corrupt_schema, naming `origin` (e.g. "region
    // 'TestMemShare'"), the struct and the field, when the buffer is not a valid binary
    // schema or `record_name` is not a struct of `record_size` bytes that shmrec can decode.
    // The bytes are copied first: a writer changing them meanwhile cannot race the checks.
    static RecordSchema load(std::span<const std::uint8_t> binary_schema,
                             std::string_view record_name, std::uint32_t record_size,
                             std::string_view origin);

    std::string_view record_name() const noexcept;
    std::uint32_t record_size() const noexcept;

    // One record (exactly record_size() bytes, any alignment) as one JSON object, fields in
    // schema order. Throws shmrec::Error(ErrorCode::invalid_argument) for another size.
    // Time and memory are linear in record_size() whatever the schema (load() refuses one
    // that would unfold a record into more values than it has bytes); besides shmrec::Error
    // only std::bad_alloc can leave it, when memory runs out for a record that large.
    std::string to_json(std::span<const std::byte> record,
                        JsonLayout layout = JsonLayout::one_line) const;

  private:
    explicit RecordSchema(std::shared_ptr<const detail::DecodePlan> plan) noexcept;

    std::shared_ptr<const detail::DecodePlan> plan_;
};

}  // namespace shmrec::inspect
