// FlatBuffers' Parser -> schema model. The parser's layout (bytesize, minalign, each
// field's value.offset) is taken as the truth; nothing here computes a layout itself.
#include "load_schema.hpp"

#include <flatbuffers/idl.h>
#include <flatbuffers/util.h>
#include <fmt/format.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <regex>
#include <set>
#include <sstream>

namespace shmrec::codegen {
namespace {

namespace fb = flatbuffers;

// The field attribute that makes a byte array text (docs/codegen.md, "Text fields"). The
// schema declares it, as FlatBuffers requires of every user attribute:
// `attribute "shmrec_text";`.
constexpr const char* text_attribute = "shmrec_text";

std::optional<std::string> read_text(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return std::nullopt;
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

std::string stem_of(const std::string& path) {
    return std::filesystem::path(path).stem().string();
}

// FlatBuffers 2.0.8 reports "FILE:LINE: COL: error: TEXT"; we print "FILE:LINE: error: TEXT",
// the form compilers and editors recognise. Lines of another shape pass unchanged.
void add_parser_errors(const std::string& error_text, std::vector<std::string>& errors) {
    static const std::regex with_column(R"(^(.*):([0-9]+): [0-9]+: (error|warning): (.*)$)");
    std::istringstream lines(error_text);
    std::string line;
    while (std::getline(lines, line)) {
        if (line.empty()) continue;
        std::smatch m;
        if (std::regex_match(line, m, with_column)) {
            errors.push_back(m.str(1) + ":" + m.str(2) + ": " + m.str(3) + ": " + m.str(4));
        } else {
            errors.push_back(line);
        }
    }
}

// The line of `keyword name` in a schema text, skipping comments and string literals; 0 if
// not found. The parser keeps no line numbers for definitions, so errors about a whole
// definition (a table, a union) find it again this way.
int declaration_line(const std::string& text, const std::string& keyword, const std::string& name) {
    auto is_ident = [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; };
    std::vector<std::pair<std::string, int>> words;  // identifiers with their line
    int line = 1;
    for (std::size_t i = 0; i < text.size();) {
        const char c = text[i];
        if (c == '\n') {
            ++line;
            ++i;
        } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '/') {
            while (i < text.size() && text[i] != '\n') ++i;
        } else if (c == '/' && i + 1 < text.size() && text[i + 1] == '*') {
            i += 2;
            while (i + 1 < text.size() && !(text[i] == '*' && text[i + 1] == '/')) {
                if (text[i] == '\n') ++line;
                ++i;
            }
            i += 2;
        } else if (c == '"') {
            ++i;
            while (i < text.size() && text[i] != '"' && text[i] != '\n') {
                if (text[i] == '\\') ++i;
                ++i;
            }
            ++i;
        } else if (is_ident(c)) {
            const std::size_t start = i;
            while (i < text.size() && is_ident(text[i])) ++i;
            words.emplace_back(text.substr(start, i - start), line);
        } else {
            ++i;
        }
    }
    for (std::size_t w = 0; w + 1 < words.size(); ++w) {
        if (words[w].first == keyword && words[w + 1].first == name) return words[w].second;
    }
    return 0;
}

std::string location(const std::string& file, int line) {
    return line > 0 ? file + ":" + std::to_string(line) : file;
}

std::optional<Scalar> to_scalar(fb::BaseType t) {
    switch (t) {
        case fb::BASE_TYPE_BOOL:
            return Scalar::Bool;
        case fb::BASE_TYPE_CHAR:
            return Scalar::Int8;
        case fb::BASE_TYPE_UCHAR:
            return Scalar::UInt8;
        case fb::BASE_TYPE_SHORT:
            return Scalar::Int16;
        case fb::BASE_TYPE_USHORT:
            return Scalar::UInt16;
        case fb::BASE_TYPE_INT:
            return Scalar::Int32;
        case fb::BASE_TYPE_UINT:
            return Scalar::UInt32;
        case fb::BASE_TYPE_LONG:
            return Scalar::Int64;
        case fb::BASE_TYPE_ULONG:
            return Scalar::UInt64;
        case fb::BASE_TYPE_FLOAT:
            return Scalar::Float32;
        case fb::BASE_TYPE_DOUBLE:
            return Scalar::Float64;
        default:
            return std::nullopt;
    }
}

std::string qualified(const fb::Definition& def) {
    return def.defined_namespace ? def.defined_namespace->GetFullyQualifiedName(def.name)
                                 : def.name;
}

std::vector<std::string> namespace_of(const fb::Definition& def) {
    return def.defined_namespace ? def.defined_namespace->components : std::vector<std::string>{};
}

class Loader {
  public:
    Loader(const fb::Parser& parser, std::string root_path, std::vector<std::string>& errors)
        : parser_(parser), root_path_(std::move(root_path)), errors_(errors) {}

    std::optional<Schema> run(std::string root_text) {
        schema_.root_text = std::move(root_text);
        collect_files();
        reject_unsupported();
        for (const fb::EnumDef* e : parser_.enums_.vec) {
            if (!e->is_union) add_enum(*e);
        }
        std::set<const fb::StructDef*> done;
        for (const fb::StructDef* s : parser_.structs_.vec) {
            if (s->fixed) add_struct_after_members(*s, done);
        }
        for (const fb::StructDef* t : parser_.structs_.vec) {
            if (!t->fixed) add_table(*t);
        }
        if (failed_) return std::nullopt;
        return std::move(schema_);
    }

  private:
    void error(const std::string& where, const std::string& text) {
        errors_.push_back(where + ": error: " + text);
        failed_ = true;
    }

    std::size_t file_index(const std::string& path) {
        for (std::size_t i = 0; i < schema_.files.size(); ++i) {
            if (schema_.files[i].path == path) return i;
        }
        schema_.files.push_back({path, stem_of(path)});
        return schema_.files.size() - 1;
    }

    void collect_files() {
        file_index(root_path_);
        std::set<std::string> others;
        for (const auto& [file, includes] : parser_.files_included_per_file_) {
            if (!file.empty()) others.insert(file);
            for (const auto& inc : includes) others.insert(inc.filename);
        }
        for (const auto* s : parser_.structs_.vec) others.insert(s->file);
        for (const auto* e : parser_.enums_.vec) others.insert(e->file);
        others.erase("");
        for (const auto& f : others) file_index(f);
        for (const auto* s : parser_.structs_.vec) {
            if (!s->fixed) schema_.files[file_index(s->file)].declares_tables = true;
        }

        // Headers are named by stem, so two schemas with one stem would write one file.
        std::map<std::string, std::string> by_stem;
        for (const auto& f : schema_.files) {
            auto [it, fresh] = by_stem.emplace(f.stem, f.path);
            if (!fresh && it->second != f.path) {
                error(f.path, "schema files '" + it->second + "' and '" + f.path +
                                  "' share the name '" + f.stem +
                                  "'; their generated headers would collide");
            }
        }

        auto direct = parser_.files_included_per_file_.find(root_path_);
        if (direct != parser_.files_included_per_file_.end()) {
            for (const auto& inc : direct->second) {
                schema_.root_direct_includes.push_back(file_index(inc.filename));
            }
        }
        std::sort(schema_.root_direct_includes.begin(), schema_.root_direct_includes.end(),
                  [&](std::size_t a, std::size_t b) {
                      return schema_.files[a].stem < schema_.files[b].stem;
                  });
        schema_.root_direct_includes.erase(
            std::unique(schema_.root_direct_includes.begin(), schema_.root_direct_includes.end()),
            schema_.root_direct_includes.end());
    }

    int line_of(const std::string& file, const std::string& keyword, const std::string& name) {
        const auto text = read_text(file);
        return text ? declaration_line(*text, keyword, name) : 0;
    }

    void reject_unsupported() {
        for (const fb::EnumDef* e : parser_.enums_.vec) {
            if (!e->is_union) continue;
            error(location(e->file, line_of(e->file, "union", e->name)),
                  "union '" + qualified(*e) +
                      "' is not supported yet: shmrec handles structs and tables (unions come "
                      "later)");
        }
        for (const fb::ServiceDef* s : parser_.services_.vec) {
            error(location(s->file, line_of(s->file, "rpc_service", s->name)),
                  "rpc_service '" + qualified(*s) + "' is not supported by shmrec");
        }
    }

    void add_enum(const fb::EnumDef& def) {
        Enum e;
        e.namespace_path = namespace_of(def);
        e.name = def.name;
        e.qualified_name = qualified(def);
        e.file = file_index(def.file);
        const auto underlying = to_scalar(def.underlying_type.base_type);
        if (!underlying || *underlying == Scalar::Bool || *underlying == Scalar::Float32 ||
            *underlying == Scalar::Float64) {
            error(def.file, "enum '" + e.qualified_name + "' has an unsupported underlying type");
            return;
        }
        e.underlying = *underlying;
        for (const fb::EnumVal* v : def.Vals()) e.values.push_back({v->name, v->GetAsInt64()});
        schema_.enums.push_back(std::move(e));
    }

    std::optional<ElementType> element_type(const fb::Type& t, const fb::StructDef& owner,
                                            const std::string& field) {
        ElementType el;
        if (t.base_type == fb::BASE_TYPE_STRUCT && t.struct_def && t.struct_def->fixed) {
            el.kind = ElementType::Kind::Struct;
            el.qualified_name = qualified(*t.struct_def);
            return el;
        }
        const auto scalar = to_scalar(t.base_type);
        if (!scalar || (t.enum_def && t.enum_def->is_union)) {
            error(owner.file, "field '" + qualified(owner) + "." + field +
                                  "' has a type shmrec does not support");
            return std::nullopt;
        }
        el.scalar = *scalar;
        if (t.enum_def) {
            el.kind = ElementType::Kind::Enum;
            el.qualified_name = qualified(*t.enum_def);
        }
        return el;
    }

    std::uint32_t element_alignment(const ElementType& el, const fb::Type& t) const {
        if (el.kind == ElementType::Kind::Struct) {
            return static_cast<std::uint32_t>(t.struct_def->minalign);
        }
        return scalar_size(el.scalar);
    }

    static std::string spelling(const ElementType& el) {
        return el.kind == ElementType::Kind::Scalar ? scalar_schema_name(el.scalar)
                                                    : el.qualified_name;
    }

    // Adds `def` after the structs its fields contain, so the model's order is one a C++
    // compiler accepts whatever order the schema declared them in.
    void add_struct_after_members(const fb::StructDef& def, std::set<const fb::StructDef*>& done) {
        if (!done.insert(&def).second) return;
        for (const fb::FieldDef* f : def.fields.vec) {
            const fb::StructDef* inner = f->value.type.struct_def;
            if (inner && inner->fixed) add_struct_after_members(*inner, done);
        }
        add_struct(def);
    }

    void add_struct(const fb::StructDef& def) {
        Struct s;
        s.namespace_path = namespace_of(def);
        s.name = def.name;
        s.qualified_name = qualified(def);
        s.size = static_cast<std::uint32_t>(def.bytesize);
        s.alignment = static_cast<std::uint32_t>(def.minalign);
        s.file = file_index(def.file);
        std::uint32_t end = 0;
        for (const fb::FieldDef* f : def.fields.vec) {
            const fb::Type& t = f->value.type;
            Field field;
            field.name = f->name;
            field.offset = f->value.offset;
            if (t.base_type == fb::BASE_TYPE_ARRAY) {
                const fb::Type el_type = t.VectorType();
                auto el = element_type(el_type, def, f->name);
                if (!el) continue;
                field.element = *el;
                field.array_length = t.fixed_length;
                field.alignment = element_alignment(field.element, el_type);
                field.type_spelling =
                    "[" + spelling(field.element) + ":" + std::to_string(t.fixed_length) + "]";
            } else {
                auto el = element_type(t, def, f->name);
                if (!el) continue;
                field.element = *el;
                field.alignment = element_alignment(field.element, t);
                field.type_spelling = spelling(field.element);
            }
            field.size = static_cast<std::uint32_t>(fb::InlineSize(t));
            if (f->attributes.Lookup(text_attribute)) {
                const bool bytes =
                    field.array_length != 0 && field.element.kind == ElementType::Kind::Scalar &&
                    (field.element.scalar == Scalar::UInt8 || field.element.scalar == Scalar::Int8);
                if (!bytes) {
                    error(location(def.file, line_of(def.file, "struct", def.name)),
                          "field '" + s.qualified_name + "." + field.name + "' is " +
                              field.type_spelling + ": (" + text_attribute +
                              ") marks only [ubyte:N] and [byte:N] fields");
                } else if (schema_.files[s.file].declares_tables) {
                    // flatc defines the structs of a file with tables; its byte arrays are
                    // flatbuffers::Array, never shmrec::FixedString (docs/codegen.md, "Tables").
                    error(location(def.file, line_of(def.file, "struct", def.name)),
                          "field '" + s.qualified_name + "." + field.name + "' is marked (" +
                              text_attribute + "), but " + stem_of(def.file) +
                              ".fbs declares tables, so flatc generates its structs and they "
                              "have no text fields: move struct '" +
                              s.qualified_name +
                              "' into a schema file without tables and include that file");
                } else {
                    field.text = true;
                }
            }
            if (field.offset < end) {
                error(def.file, "field '" + s.qualified_name + "." + field.name +
                                    "' overlaps the field before it (unexpected parser layout)");
            }
            end = field.offset + field.size;
            s.fields.push_back(std::move(field));
        }
        if (end > s.size) {
            error(def.file, "struct '" + s.qualified_name + "' fields exceed its size");
        }
        schema_.structs.push_back(std::move(s));
    }

    // A table's default, spelled so that equal values compare equal ("0" and "0.0" for a
    // float both give "0"); the parser keeps the schema's text.
    static std::string normalised_default(const fb::FieldDef& f, Scalar scalar) {
        if (f.IsOptional()) return "null";
        const std::string& c = f.value.constant;
        if (scalar == Scalar::Float32 || scalar == Scalar::Float64) {
            return fmt::format("{}", std::strtod(c.c_str(), nullptr));
        }
        if (c == "true") return "1";
        if (c == "false") return "0";
        if (scalar == Scalar::UInt64) {
            return fmt::format("{}", std::strtoull(c.c_str(), nullptr, 0));
        }
        return fmt::format("{}", std::strtoll(c.c_str(), nullptr, 0));
    }

    // The spelling of a table field's type, or of one vector element; nullopt (after an
    // error) for what shmrec does not support.
    std::optional<std::string> table_type(const fb::Type& t, const fb::StructDef& owner,
                                          const fb::FieldDef& f, TableField& field) {
        if (t.base_type == fb::BASE_TYPE_STRING) return "string";
        if (t.base_type == fb::BASE_TYPE_STRUCT && t.struct_def) {
            field.referenced = qualified(*t.struct_def);
            return field.referenced;
        }
        // A union (and its hidden _type field) was reported where the union is declared.
        if (t.enum_def && t.enum_def->is_union) return std::nullopt;
        const auto scalar = to_scalar(t.base_type);
        if (!scalar) {
            error(location(owner.file, line_of(owner.file, "table", owner.name)),
                  "field '" + qualified(owner) + "." + f.name +
                      "' has a type shmrec does not support yet");
            return std::nullopt;
        }
        if (t.enum_def) {
            field.referenced = qualified(*t.enum_def);
            return field.referenced;
        }
        return std::string(scalar_schema_name(*scalar));
    }

    void add_table(const fb::StructDef& def) {
        Table table;
        table.namespace_path = namespace_of(def);
        table.name = def.name;
        table.qualified_name = qualified(def);
        table.file = file_index(def.file);
        for (const fb::FieldDef* f : def.fields.vec) {
            const fb::Type& t = f->value.type;
            TableField field;
            field.name = f->name;
            // The vtable slot the parser assigned: offset 4 + 2 * id.
            field.id = (static_cast<std::uint32_t>(f->value.offset) - 4u) / 2u;
            field.deprecated = f->deprecated;
            field.required = f->IsRequired();
            if (t.base_type == fb::BASE_TYPE_VECTOR) {
                auto el = table_type(t.VectorType(), def, *f, field);
                if (!el) continue;
                field.type_spelling = "[" + *el + "]";
            } else {
                auto spelled = table_type(t, def, *f, field);
                if (!spelled) continue;
                field.type_spelling = *spelled;
                if (const auto scalar = to_scalar(t.base_type)) {
                    field.default_value = normalised_default(*f, *scalar);
                }
            }
            table.fields.push_back(std::move(field));
        }
        std::sort(table.fields.begin(), table.fields.end(),
                  [](const TableField& a, const TableField& b) { return a.id < b.id; });
        schema_.tables.push_back(std::move(table));
    }

    const fb::Parser& parser_;
    std::string root_path_;
    std::vector<std::string>& errors_;
    Schema schema_;
    bool failed_ = false;
};

}  // namespace

std::optional<Schema> load_schema(const std::string& schema_path,
                                  const std::vector<std::string>& include_dirs,
                                  std::vector<std::string>& errors) {
    auto text = read_text(schema_path);
    if (!text) {
        errors.push_back(schema_path + ": error: cannot read the schema file");
        return std::nullopt;
    }
    // The parser keeps pointers into these strings until Parse() returns.
    std::vector<std::string> dirs;
    for (const auto& d : include_dirs) dirs.push_back(fb::PosixPath(d));
    dirs.push_back(fb::StripFileName(fb::PosixPath(schema_path)));
    std::vector<const char*> dir_ptrs;
    for (const auto& d : dirs) dir_ptrs.push_back(d.c_str());
    dir_ptrs.push_back(nullptr);

    const std::string path = fb::PosixPath(schema_path);
    fb::Parser parser;
    if (!parser.Parse(text->c_str(), dir_ptrs.data(), path.c_str())) {
        add_parser_errors(parser.error_, errors);
        return std::nullopt;
    }
    auto schema = Loader(parser, path, errors).run(std::move(*text));
    if (schema) {
        // With FlatBuffers' built-in attributes too (bit_flags, force_align, ...): a tool that
        // has only the region then prints a bit_flags combination by its names.
        parser.opts.binary_schema_builtins = true;
        // Tables are looked up by qualified name, never as "the" root table: a root_type
        // leaves no trace in the bytes, so adding or removing one changes nothing.
        parser.root_struct_def_ = nullptr;
        parser.Serialize();
        const std::uint8_t* bytes = parser.builder_.GetBufferPointer();
        schema->binary_schema.assign(bytes, bytes + parser.builder_.GetSize());
    }
    return schema;
}

}  // namespace shmrec::codegen
