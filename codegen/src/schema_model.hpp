// The schema model shmrec-gen works on: plain data taken from FlatBuffers' parser
// (load_schema.cpp) and read by the fingerprint and the C++ emitter. Nothing here knows
// about FlatBuffers, so the emitter can be read and tested without its parser.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace shmrec::codegen {

enum class Scalar : std::uint8_t {
    Bool,
    Int8,
    UInt8,
    Int16,
    UInt16,
    Int32,
    UInt32,
    Int64,
    UInt64,
    Float32,
    Float64
};

std::uint32_t scalar_size(Scalar s) noexcept;
// The schema spelling: "bool", "byte", "ubyte", ..., "double".
const char* scalar_schema_name(Scalar s) noexcept;

// A declaration's place: the schema file it was declared in, as the parser resolved it.
struct SourceFile {
    std::string path;  // as given on the command line or found through an include dir
    std::string stem;  // file name without directory and extension: "student"
    // Declares at least one table: flatc then generates this file's C++ (its tables, and its
    // structs and enums too), and shmrec's header adds only traits (docs/codegen.md, "Tables").
    bool declares_tables = false;
};

struct Enumerator {
    std::string name;
    std::int64_t value = 0;  // bit pattern; read as unsigned when the underlying type is
};

struct Enum {
    std::vector<std::string> namespace_path;  // {"a", "b"} for a.b.Color
    std::string name;                         // "Color"
    std::string qualified_name;               // "a.b.Color"
    Scalar underlying = Scalar::Int32;
    std::vector<Enumerator> values;
    std::size_t file = 0;  // index into Schema::files
};

// The type of one field, or of one element of an array field.
struct ElementType {
    enum class Kind : std::uint8_t { Scalar, Enum, Struct };
    Kind kind = Kind::Scalar;
    Scalar scalar = Scalar::UInt8;  // the scalar, or the enum's underlying type
    std::string qualified_name;     // enum or struct name, empty for a scalar
};

struct Field {
    std::string name;           // as in the schema
    std::string type_spelling;  // "long", "[ubyte:20]", "school.Color", "[geo.Vec3:2]"
    ElementType element;
    std::uint32_t array_length = 0;  // 0 for a non-array field
    std::uint32_t offset = 0;        // from the parser, the source of truth
    std::uint32_t size = 0;          // all elements of an array
    std::uint32_t alignment = 0;     // natural alignment of one element
    // Marked (shmrec_text): a [ubyte:N] or [byte:N] the C++ header types as
    // shmrec::FixedString<N>. Moves no byte, so the fingerprint does not see it.
    bool text = false;
};

struct Struct {
    std::vector<std::string> namespace_path;
    std::string name;
    std::string qualified_name;
    std::uint32_t size = 0;       // parser's bytesize, including tail padding
    std::uint32_t alignment = 0;  // parser's minalign (force_align included)
    std::vector<Field> fields;    // in declaration order, which is offset order
    std::size_t file = 0;
};

// One field of a table, as evolution sees it (the fingerprint's input). The C++ for tables
// is flatc's, so nothing here describes a layout.
struct TableField {
    std::string name;
    std::uint32_t id = 0;       // the field's slot: declaration order, or its (id: N) attribute
    std::string type_spelling;  // "float", "string", "school.Student", "[string]", "[a.T]"
    std::string referenced;     // the enum, struct or table the type (or its element) names
    std::string default_value;  // scalars and enums: the default, normalised; "null" for an
                                // optional scalar; empty for strings, vectors, structs, tables
    bool deprecated = false;
    bool required = false;
};

struct Table {
    std::vector<std::string> namespace_path;
    std::string name;
    std::string qualified_name;
    std::vector<TableField> fields;  // in id order
    std::size_t file = 0;
};

// Everything one root schema and its includes declare. Structs are ordered so that a
// struct comes after every struct it contains (the order the emitter needs).
struct Schema {
    std::vector<SourceFile> files;  // files[0] is the root schema
    std::string root_text;          // the root schema's text, as read
    // FlatBuffers' own serialisation of the parsed schema (Parser::Serialize(), a .bfbs): the
    // root schema and what it includes. Regions embed it so tools decode records without
    // generated code.
    std::vector<std::uint8_t> binary_schema;
    std::vector<std::size_t> root_direct_includes;  // indices into files, sorted by stem
    std::vector<Enum> enums;
    std::vector<Struct> structs;
    std::vector<Table> tables;  // in declaration order

    const Struct* find_struct(const std::string& qualified_name) const;
    const Enum* find_enum(const std::string& qualified_name) const;
    const Table* find_table(const std::string& qualified_name) const;
};

}  // namespace shmrec::codegen
