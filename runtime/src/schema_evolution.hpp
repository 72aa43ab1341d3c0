// Internal: comparing the binary schema a region embeds (the writer's, a FlatBuffers .bfbs)
// with this program's own, field by field (docs/schema-evolution.md).
//
// Two comparisons:
//  - check_table_evolution: may a reader built from one schema read table records written
//    from another, by FlatBuffers' evolution rules (fields matched by id, trailing additions,
//    deprecation, defaults, required, enum and union values, structs exactly)?
//  - describe_struct_mismatch: fixed-size struct records must match exactly (their layout
//    fingerprint says so); this explains, field by field, why two layouts differ.
//
// The region's schema is untrusted input (RELIABILITY.md, rule 8 and 14): both functions copy
// it, verify the parts they read once each (no verifier blow-up on a buffer whose offsets
// share tables), bound-check every index into objects and enums, and walk the types with a
// work list and a visited set, never by recursion, so a cyclic or huge schema ends in a
// verdict or an error, never in a crash or a hang. Neither throws on bad input (only
// std::bad_alloc).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace shmrec::detail {

// One finding: the type it concerns and what differs there.
struct SchemaDifference {
    // The type, fully qualified as this side's schema names it, with the field path that first
    // reached it when it is not the root: "school.Course (via school.Enrolment.course)".
    std::string type;
    // What differs, naming both sides: "field 'grade' (id 3) is double there, this reader
    // expects float". "there" is always the region's (the writer's) schema.
    std::string text;

    std::string line() const { return type + ": " + text; }
};

struct EvolutionResult {
    // True when a reader of `reader_schema` reads every record written with `writer_schema`
    // as its writer meant it. False with `differences` (at least one) or with `error`.
    bool compatible = false;
    // One per incompatibility, each naming the type, the field (name and id) and both sides.
    // At most max_reported_differences; `omitted` counts the ones left out.
    std::vector<SchemaDifference> differences;
    std::size_t omitted = 0;
    // Compatible changes worth telling a person (a field renamed or deprecated by the writer,
    // an enum value renamed). Never a reason to refuse.
    std::vector<SchemaDifference> notes;
    // Set when no comparison was possible: a schema that does not verify, a root type missing
    // or of another kind. `differences` is empty then.
    std::string error;
};

inline constexpr std::size_t max_reported_differences = 32;
// The largest binary schema accepted from either side (the region header's limit too).
inline constexpr std::size_t max_compared_schema = std::size_t{1} << 20;

// May a reader whose own schema is `reader_schema` read the table records `root` (a fully
// qualified name, e.g. "school.Enrolment") of a region whose embedded schema is
// `writer_schema`? Both are FlatBuffers binary schemas (Parser::Serialize()). The writer's
// bytes may still be in shared memory: they are copied first.
EvolutionResult check_table_evolution(std::span<const std::uint8_t> writer_schema,
                                      std::span<const std::uint8_t> reader_schema,
                                      std::string_view root);

// Why the struct `struct_name` of `region_schema` is not exactly the one of `own_schema`:
// size and alignment, each field's name, type and offset, fields on one side only, nested
// structs and enums (their names and underlying types, as the layout fingerprint covers them).
// Lines name both sides ("there" is the region's, "this program" ours). Empty when the
// schemas show no difference or one of them cannot be read: an explanation is a courtesy
// added to an error, never the error itself.
std::vector<std::string> describe_struct_mismatch(std::span<const std::uint8_t> region_schema,
                                                  std::span<const std::uint8_t> own_schema,
                                                  std::string_view struct_name);

// The message for an exception when `result` is not compatible, `region` being the displayed
// name ("region 'grades'"): "region 'grades' holds school.Enrolment: field 'grade' (id 3) is
// double there, this reader expects float; school.Course (via school.Enrolment.course): ...".
// Differences of the root type are not prefixed with its name again.
std::string explain_incompatibility(const EvolutionResult& result, std::string_view region,
                                    std::string_view root);

}  // namespace shmrec::detail
