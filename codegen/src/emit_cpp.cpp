#include "emit_cpp.hpp"

#include <fmt/format.h>

#include <array>
#include <filesystem>
#include <limits>
#include <optional>
#include <set>

#include "fingerprint.hpp"
#include "run_flatc.hpp"
#include "shmrec/version.hpp"

namespace shmrec::codegen {
namespace {

// A schema name that is a C++ keyword gets a trailing '_' (as flatc does); FieldInfo and
// RecordTraits::name keep the schema spelling.
std::string escape(const std::string& id) {
    static const std::set<std::string> keywords = {
        "alignas",       "alignof",     "and",
        "and_eq",        "asm",         "auto",
        "bitand",        "bitor",       "bool",
        "break",         "case",        "catch",
        "char",          "char8_t",     "char16_t",
        "char32_t",      "class",       "compl",
        "concept",       "const",       "consteval",
        "constexpr",     "constinit",   "const_cast",
        "continue",      "co_await",    "co_return",
        "co_yield",      "decltype",    "default",
        "delete",        "do",          "double",
        "dynamic_cast",  "else",        "enum",
        "explicit",      "export",      "extern",
        "false",         "float",       "for",
        "friend",        "goto",        "if",
        "inline",        "int",         "long",
        "mutable",       "namespace",   "new",
        "noexcept",      "not",         "not_eq",
        "nullptr",       "operator",    "or",
        "or_eq",         "private",     "protected",
        "public",        "register",    "reinterpret_cast",
        "requires",      "return",      "short",
        "signed",        "sizeof",      "static",
        "static_assert", "static_cast", "struct",
        "switch",        "template",    "this",
        "thread_local",  "throw",       "true",
        "try",           "typedef",     "typeid",
        "typename",      "union",       "unsigned",
        "using",         "virtual",     "void",
        "volatile",      "wchar_t",     "while",
        "xor",           "xor_eq"};
    return keywords.count(id) ? id + "_" : id;
}

const char* cpp_scalar(Scalar s) {
    switch (s) {
        case Scalar::Bool:
            return "bool";
        case Scalar::Int8:
            return "::std::int8_t";
        case Scalar::UInt8:
            return "::std::uint8_t";
        case Scalar::Int16:
            return "::std::int16_t";
        case Scalar::UInt16:
            return "::std::uint16_t";
        case Scalar::Int32:
            return "::std::int32_t";
        case Scalar::UInt32:
            return "::std::uint32_t";
        case Scalar::Int64:
            return "::std::int64_t";
        case Scalar::UInt64:
            return "::std::uint64_t";
        case Scalar::Float32:
            return "float";
        case Scalar::Float64:
            return "double";
    }
    return "void";
}

bool is_unsigned(Scalar s) {
    return s == Scalar::UInt8 || s == Scalar::UInt16 || s == Scalar::UInt32 || s == Scalar::UInt64;
}

// "a::b" for {"a", "b"}.
std::string cpp_namespace(const std::vector<std::string>& path) {
    std::string out;
    for (const auto& part : path) {
        if (!out.empty()) out += "::";
        out += escape(part);
    }
    return out;
}

// "::a::b::T", unambiguous wherever it is written.
std::string cpp_qualified(const std::vector<std::string>& path, const std::string& name) {
    std::string out;
    for (const auto& part : path) out += "::" + escape(part);
    return out + "::" + escape(name);
}

std::string cpp_element(const Schema& schema, const ElementType& el) {
    switch (el.kind) {
        case ElementType::Kind::Scalar:
            return cpp_scalar(el.scalar);
        case ElementType::Kind::Enum: {
            const Enum* e = schema.find_enum(el.qualified_name);
            return e ? cpp_qualified(e->namespace_path, e->name) : "?";
        }
        case ElementType::Kind::Struct: {
            const Struct* s = schema.find_struct(el.qualified_name);
            return s ? cpp_qualified(s->namespace_path, s->name) : "?";
        }
    }
    return "?";
}

std::string cpp_field_type(const Schema& schema, const Field& f) {
    if (f.text) return fmt::format("::shmrec::FixedString<{}>", f.array_length);
    const std::string el = cpp_element(schema, f.element);
    return f.array_length ? fmt::format("::std::array<{}, {}>", el, f.array_length) : el;
}

std::string enumerator_value(Scalar underlying, std::int64_t value) {
    if (is_unsigned(underlying)) return fmt::format("{}u", static_cast<std::uint64_t>(value));
    // -9223372036854775808 is not a literal: it is '-' applied to a too-large constant.
    if (value == std::numeric_limits<std::int64_t>::min()) return "-9223372036854775807 - 1";
    return fmt::format("{}", value);
}

// `text` as the inside of a "..." literal (file names may hold quotes or backslashes).
std::string escape_literal(const std::string& text) {
    std::string out;
    for (const char c : text) {
        if (c == '"' || c == '\\') out += '\\';
        out += c;
    }
    return out;
}

// A raw string delimiter that does not occur in `text` as ')delim"'.
std::string raw_delimiter(const std::string& text) {
    std::string delim = "shmrec";
    for (int n = 0; text.find(")" + delim + "\"") != std::string::npos; ++n) {
        delim = fmt::format("shmrec{}", n);
    }
    return delim;
}

std::string without_carriage_returns(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    for (std::size_t i = 0; i < text.size(); ++i) {
        if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n') continue;
        out += text[i];
    }
    return out;
}

class Emitter {
  public:
    Emitter(const Schema& schema, const std::string& flatc_header)
        : schema_(schema), flatc_header_(flatc_header) {}

    std::string run() {
        const SourceFile& root = schema_.files[0];
        const std::string source = std::filesystem::path(root.path).filename().string();
        if (root.declares_tables) return run_with_tables(source);
        std::vector<std::string> ours{"record_traits", "version"};
        if (uses_text()) ours.insert(ours.begin(), "fixed_string");
        emit_preamble(source, ours);
        emit_included_headers_and_format_check();

        for (const Enum& e : schema_.enums) {
            if (e.file == 0) emit_enum(e);
        }
        for (const Struct& s : schema_.structs) {
            if (s.file == 0) emit_struct(s);
        }
        close_namespace();

        // Reopening ::shmrec is the one spelling that names it whatever the schema's
        // namespaces are called (`struct ::shmrec::RecordTraits<...> {` is ill-formed).
        bool first = true;
        for (const Struct& s : schema_.structs) {
            if (s.file != 0) continue;
            if (first) out_ += "\nnamespace shmrec {\n";
            emit_traits(s, source, first);
            first = false;
        }
        if (!first) out_ += "\n}  // namespace shmrec\n";
        return std::move(out_);
    }

  private:
    // The banner and the includes: the standard headers, then shmrec/<name>.hpp for each of
    // `ours` (alphabetical).
    void emit_preamble(const std::string& source, const std::vector<std::string>& ours) {
        out_ += fmt::format(
            "// Generated by shmrec-gen from {}. Do not edit: change the schema and rebuild.\n"
            "#pragma once\n\n"
            "#include <array>\n"
            "#include <cstddef>\n"
            "#include <cstdint>\n"
            "#include <span>\n"
            "#include <string_view>\n\n",
            source);
        for (const auto& h : ours) out_ += fmt::format("#include \"shmrec/{}.hpp\"\n", h);
    }

    void emit_included_headers_and_format_check() {
        if (!schema_.root_direct_includes.empty()) {
            out_ += "\n";
            for (std::size_t i : schema_.root_direct_includes) {
                out_ += fmt::format("#include \"{}\"\n", header_name(schema_.files[i]));
            }
        }
        out_ += fmt::format(
            "\nstatic_assert(SHMREC_FORMAT_MAJOR == {0},\n"
            "              \"{1} was generated for shmrec format {0}: regenerate it with the "
            "shmrec-gen of the shmrec you build against\");\n",
            SHMREC_FORMAT_MAJOR, header_name(schema_.files[0]));
    }

    // A file with tables: flatc's header defines all of its types (tables, structs, enums);
    // ours includes the headers of included schemas first (flatc's code names their types,
    // which are shmrec's own), then flatc's, then the traits.
    std::string run_with_tables(const std::string& source) {
        emit_preamble(source, {"record_traits", "table_traits", "version"});
        emit_included_headers_and_format_check();
        std::string command = "flatc";
        for (const char* o : flatc_options) command += std::string(" ") + o;
        out_ += fmt::format(
            "\n// {0} declares tables, so its C++ types (tables, structs, enums) are flatc's\n"
            "// (docs/codegen.md, \"Tables\"). What follows is verbatim the output of\n"
            "//   {1} {0}\n"
            "// ---- flatc's output begins ----\n",
            source, command);
        out_ += flatc_header_;
        if (!flatc_header_.empty() && flatc_header_.back() != '\n') out_ += '\n';
        out_ += "// ---- flatc's output ends ----\n";

        out_ += "\nnamespace shmrec {\n";
        bool first = true;
        for (const Struct& s : schema_.structs) {
            if (s.file != 0) continue;
            emit_traits(s, source, first);
            first = false;
        }
        for (const Table& t : schema_.tables) {
            if (t.file != 0) continue;
            emit_table_traits(t, source, first);
            first = false;
        }
        out_ += "\n}  // namespace shmrec\n";
        return std::move(out_);
    }

    // `schema` and `binary_schema`: the text and bytes in the header's first traits, a
    // reference to them in the others.
    void emit_schema_members(const std::string& traits, const std::string& source, bool first) {
        if (first) {
            first_traits_ = traits;
            const std::string text = without_carriage_returns(schema_.root_text);
            const std::string delim = raw_delimiter(text);
            out_ +=
                fmt::format("    static constexpr ::std::string_view schema = R\"{0}({1}){0}\";\n",
                            delim, text);
            emit_binary_schema(source);
        } else {
            out_ += fmt::format(
                "    static constexpr ::std::string_view schema = {0}::schema;\n"
                "    static constexpr ::std::span<const ::std::uint8_t> binary_schema = "
                "{0}::binary_schema;\n",
                first_traits_);
        }
    }

    void emit_table_traits(const Table& t, const std::string& source, bool first) {
        const std::string type = cpp_qualified(t.namespace_path, t.name);
        out_ += fmt::format(
            "\ntemplate <>\n"
            "struct TableTraits<{0}> {{\n"
            "    static constexpr ::std::string_view name = \"{1}\";\n"
            "    static constexpr ::std::uint64_t fingerprint = 0x{2:016x}ULL;\n"
            "    static constexpr ::std::string_view schema_file = \"{3}\";\n",
            type, t.qualified_name, fingerprint(schema_, t), escape_literal(source));
        emit_schema_members("::shmrec::TableTraits<" + type + ">", source, first);
        out_ += "};\n";
        out_ += fmt::format("static_assert(::shmrec::Table<{}>);\n", type);
    }

    bool uses_text() const {
        for (const Struct& s : schema_.structs) {
            if (s.file != 0) continue;
            for (const Field& f : s.fields) {
                if (f.text) return true;
            }
        }
        return false;
    }

    void open_namespace(const std::vector<std::string>& path) {
        if (open_ && *open_ == path) return;
        close_namespace();
        out_ += "\n";
        if (!path.empty()) out_ += fmt::format("namespace {} {{\n\n", cpp_namespace(path));
        open_ = path;
    }

    void close_namespace() {
        if (open_ && !open_->empty()) {
            out_ += fmt::format("}}  // namespace {}\n", cpp_namespace(*open_));
        }
        open_.reset();
    }

    void emit_enum(const Enum& e) {
        open_namespace(e.namespace_path);
        out_ += fmt::format("enum class {} : {} {{\n", escape(e.name), cpp_scalar(e.underlying));
        for (const Enumerator& v : e.values) {
            out_ += fmt::format("    {} = {},\n", escape(v.name),
                                enumerator_value(e.underlying, v.value));
        }
        out_ += "};\n\n";
    }

    // Padding members are named padding<N>_ (padding<N>_<K>_ if a schema field has that name).
    static std::string padding_name(const Struct& s, int n) {
        auto taken = [&](const std::string& name) {
            for (const Field& f : s.fields) {
                if (escape(f.name) == name) return true;
            }
            return false;
        };
        std::string name = fmt::format("padding{}_", n);
        for (int k = 1; taken(name); ++k) name = fmt::format("padding{}_{}_", n, k);
        return name;
    }

    void emit_struct(const Struct& s) {
        open_namespace(s.namespace_path);
        const std::string name = escape(s.name);
        out_ +=
            fmt::format("// {}: {} bytes, aligned to {}.\n", s.qualified_name, s.size, s.alignment);
        out_ += fmt::format("struct alignas({}) {} {{\n", s.alignment, name);
        std::uint32_t at = 0;
        int pad = 0;
        auto emit_padding = [&](std::uint32_t until) {
            if (until <= at) return;
            out_ += fmt::format("    ::std::array<::std::uint8_t, {}> {}{{}};\n", until - at,
                                padding_name(s, pad++));
        };
        for (const Field& f : s.fields) {
            emit_padding(f.offset);
            out_ += fmt::format("    {} {}{{}};\n", cpp_field_type(schema_, f), escape(f.name));
            at = f.offset + f.size;
        }
        emit_padding(s.size);
        out_ += "};\n";
        out_ += fmt::format(
            "static_assert(sizeof({0}) == {1} && alignof({0}) == {2}, "
            "\"{3} must have flatc's size and alignment\");\n",
            name, s.size, s.alignment, s.qualified_name);
        for (const Field& f : s.fields) {
            out_ += fmt::format("static_assert(offsetof({}, {}) == {});\n", name, escape(f.name),
                                f.offset);
            if (f.text) {
                // The text type must be byte for byte the array flatc writes.
                out_ += fmt::format(
                    "static_assert(sizeof({0}::{1}) == {2} && alignof(decltype({0}::{1})) == 1, "
                    "\"{3}.{4}: text with the bytes of {5}\");\n",
                    name, escape(f.name), f.size, s.qualified_name, f.name, f.type_spelling);
            }
        }
        out_ += "\n";
    }

    void emit_traits(const Struct& s, const std::string& source, bool first) {
        const std::string type = cpp_qualified(s.namespace_path, s.name);
        if (schema_.files[s.file].declares_tables) {
            // flatc's struct: its members are private, so only size and alignment are checked
            // here (flatc's FLATBUFFERS_STRUCT_END checks the size too).
            out_ += fmt::format(
                "\nstatic_assert(sizeof({0}) == {1} && alignof({0}) == {2}, "
                "\"{3} must have the parser's size and alignment\");\n",
                type, s.size, s.alignment, s.qualified_name);
        }
        out_ += fmt::format(
            "\ntemplate <>\n"
            "struct RecordTraits<{0}> {{\n"
            "    static constexpr ::std::string_view name = \"{1}\";\n"
            "    static constexpr ::std::size_t size = {2};\n"
            "    static constexpr ::std::size_t alignment = {3};\n"
            "    static constexpr ::std::uint64_t fingerprint = 0x{4:016x}ULL;\n"
            "    // name, type, offset, size, array_length\n"
            "    static constexpr ::std::array<::shmrec::FieldInfo, {5}> fields{{{{\n",
            type, s.qualified_name, s.size, s.alignment, fingerprint(schema_, s), s.fields.size());
        for (const Field& f : s.fields) {
            out_ += fmt::format("        {{\"{}\", \"{}\", {}, {}, {}}},\n", f.name,
                                f.type_spelling, f.offset, f.size, f.array_length);
        }
        out_ += "    }};\n";
        out_ += fmt::format("    static constexpr ::std::string_view schema_file = \"{}\";\n",
                            escape_literal(source));
        emit_schema_members("::shmrec::RecordTraits<" + type + ">", source, first);
        out_ += "};\n";
        out_ += fmt::format("static_assert(::shmrec::Record<{}>);\n", type);
    }

    // The .bfbs bytes, once per header (in the first record's traits), 16 to a line.
    void emit_binary_schema(const std::string& source) {
        const auto& bytes = schema_.binary_schema;
        out_ += fmt::format(
            "    // FlatBuffers' binary schema of {} (Parser::Serialize()): embedded in regions "
            "so\n"
            "    // tools decode records without this header.\n"
            "    static constexpr ::std::array<::std::uint8_t, {}> binary_schema_bytes{{{{",
            source, bytes.size());
        for (std::size_t i = 0; i < bytes.size(); ++i) {
            out_ += i % 16 == 0 ? "\n        " : " ";
            out_ += fmt::format("0x{:02x},", bytes[i]);
        }
        out_ += "\n    }};\n";
        out_ +=
            "    static constexpr ::std::span<const ::std::uint8_t> binary_schema = "
            "binary_schema_bytes;\n";
    }

    const Schema& schema_;
    const std::string& flatc_header_;
    std::string out_;
    std::optional<std::vector<std::string>> open_;
    std::string first_traits_;
};

}  // namespace

std::string header_name(const SourceFile& file) {
    return file.stem + ".shmrec.hpp";
}

std::string emit_cpp(const Schema& schema, const std::string& flatc_header) {
    return Emitter(schema, flatc_header).run();
}

}  // namespace shmrec::codegen
