// Test support for table records: the t.Rec schema (every kind of field FlatBuffers' text
// generator prints), records made from JSON text with FlatBuffers' own parser (no generated
// code involved), and TableSchemas loaded from the binary schema as shmrec-gen embeds it.
#pragma once

#include <flatbuffers/idl.h>
#include <gtest/gtest.h>

#include <cstddef>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <span>
#include <stdexcept>
#include <string>
#include <vector>

#include "binary_schema.hpp"
#include "shmrec/inspect/table_schema.hpp"

namespace shmrec_test {

inline const std::string rec_schema_text = R"(
namespace t;
enum Color : byte { Red, Green, Blue }
struct Point { x: int; y: short; }
struct Box { corner: Point; tags: [ubyte:3]; }
table Inner { v: long; }
table Rec {
  name: string;
  list: [string];
  box: Box;
  nums: [int];
  colour: Color = Green;
  inner: Inner;
  f: float = 1.5;
  d: double;
  ul: ulong;
  points: [Point];
  inners: [Inner];
}
root_type Rec;
)";

// A t.Rec with every field present.
inline const std::string full_rec = R"({
  name: "Ada", list: ["a", "bé"], box: { corner: { x: -7, y: 3 }, tags: [1, 2, 3] },
  nums: [1, -2, 2147483647], colour: Blue, inner: { v: -9000000000 }, f: 0.25, d: 2.5,
  ul: 18446744073709551615, points: [{ x: 1, y: 2 }], inners: [{ v: 1 }, {}]
})";

// A record of `schema_text`'s root_type from JSON, with FlatBuffers' own parser.
inline std::vector<std::byte> table_record(const std::string& schema_text,
                                           const std::string& json) {
    flatbuffers::Parser parser;
    if (!parser.Parse(schema_text.c_str()) || !parser.Parse(json.c_str())) {
        throw std::runtime_error("parse: " + parser.error_);
    }
    const auto* p = reinterpret_cast<const std::byte*>(parser.builder_.GetBufferPointer());
    return {p, p + parser.builder_.GetSize()};
}

// The binary schema of `schema_text` as shmrec-gen embeds it: root type not set.
inline std::vector<std::uint8_t> embedded_schema(const std::string& schema_text) {
    std::string text = schema_text;
    text.erase(text.find("root_type"));
    return binary_schema_from_text(text);
}

inline shmrec::inspect::TableSchema table_schema(const std::string& schema_text,
                                                 const std::string& table_name) {
    return shmrec::inspect::TableSchema::load(embedded_schema(schema_text), table_name,
                                              "region 'Recs'");
}

// Every truncation and every single-bit flip of a valid record: verified first, so the result
// is either valid JSON or a status; never a crash, never a read outside the record (ASan).
// Returns how many flips still decoded.
inline int expect_json_or_refused_when_damaged(const shmrec::inspect::TableSchema& schema,
                                               const std::vector<std::byte>& bytes) {
    for (std::size_t n = 0; n < bytes.size(); ++n) {
        const auto r = schema.to_json(std::span(bytes).first(n));
        if (r) {
            EXPECT_TRUE(nlohmann::json::accept(r.text)) << n;
        }
    }
    int decoded = 0;
    for (std::size_t bit = 0; bit < 8 * bytes.size(); ++bit) {
        auto flipped = bytes;
        flipped[bit / 8] ^= static_cast<std::byte>(1u << (bit % 8));
        const auto r = schema.to_json(flipped);
        if (r) {
            ++decoded;
            EXPECT_TRUE(nlohmann::json::accept(r.text)) << bit << ": " << r.text;
        }
    }
    return decoded;
}

}  // namespace shmrec_test
