#include "binary_schema.hpp"

#include <flatbuffers/idl.h>
#include <flatbuffers/util.h>

#include <filesystem>
#include <stdexcept>
#include <string>

namespace shmrec_test {

namespace {

std::vector<std::uint8_t> serialize(const std::string& text, const std::string& path,
                                    Builtins builtins) {
    flatbuffers::IDLOptions options;
    options.binary_schema_builtins = builtins == Builtins::kept;
    flatbuffers::Parser parser(options);
    // Includes are looked up beside the schema file, as flatc does.
    const std::string dir = std::filesystem::path(path).parent_path().string() + "/";
    const char* includes[] = {path.empty() ? nullptr : dir.c_str(), nullptr};
    if (!parser.Parse(text.c_str(), includes, path.empty() ? nullptr : path.c_str())) {
        throw std::runtime_error("schema does not parse: " + parser.error_);
    }
    parser.Serialize();
    const auto* data = parser.builder_.GetBufferPointer();
    return {data, data + parser.builder_.GetSize()};
}

const reflection::Schema& schema_of(const std::vector<std::uint8_t>& bfbs) {
    return *reflection::GetSchema(bfbs.data());
}

}  // namespace

std::vector<std::uint8_t> binary_schema_from_text(const std::string& fbs_text, Builtins builtins) {
    return serialize(fbs_text, "", builtins);
}

std::vector<std::uint8_t> binary_schema_from_file(const std::string& fbs_path, Builtins builtins) {
    std::string text;
    if (!flatbuffers::LoadFile(fbs_path.c_str(), false, &text)) {
        throw std::runtime_error("cannot read " + fbs_path);
    }
    return serialize(text, fbs_path, builtins);
}

int object_index(const std::vector<std::uint8_t>& bfbs, std::string_view name) {
    const auto& objects = *schema_of(bfbs).objects();
    for (flatbuffers::uoffset_t i = 0; i < objects.size(); ++i) {
        if (objects.Get(i)->name()->string_view() == name) return static_cast<int>(i);
    }
    throw std::runtime_error("no object " + std::string(name));
}

const reflection::Object& object_named(const std::vector<std::uint8_t>& bfbs,
                                       std::string_view name) {
    return *schema_of(bfbs).objects()->Get(
        static_cast<flatbuffers::uoffset_t>(object_index(bfbs, name)));
}

int enum_index(const std::vector<std::uint8_t>& bfbs, std::string_view name) {
    const auto& enums = *schema_of(bfbs).enums();
    for (flatbuffers::uoffset_t i = 0; i < enums.size(); ++i) {
        if (enums.Get(i)->name()->string_view() == name) return static_cast<int>(i);
    }
    throw std::runtime_error("no enum " + std::string(name));
}

const reflection::Field& field_named(const std::vector<std::uint8_t>& bfbs,
                                     std::string_view struct_name, std::string_view field) {
    for (const auto* f : *object_named(bfbs, struct_name).fields()) {
        if (f->name()->string_view() == field) return *f;
    }
    throw std::runtime_error("no field " + std::string(field));
}

std::vector<std::uint8_t> doubling_dag(int depth) {
    std::string text = "namespace dag; struct L { v: ulong; }\n";
    for (int k = depth - 1; k >= 0; --k) {
        const auto below = k + 1 == depth ? std::string("L") : "S" + std::to_string(k + 1);
        text += "struct S" + std::to_string(k) + " { a: " + below + "; b: " + below + "; }\n";
    }
    auto bfbs = binary_schema_from_text(text);
    for (int k = 0; k < depth; ++k) {
        const auto name = "dag.S" + std::to_string(k);
        overwrite<std::int32_t>(object_named(bfbs, name), reflection::Object::VT_BYTESIZE, 8);
        // Field::offset is 16 bits: for the large structs high up, `b` wrapped to 0 already
        // (and was then left out as the default).
        const auto& b = field_named(bfbs, name, "b");
        if (b.offset() != 0) overwrite<std::uint16_t>(b, reflection::Field::VT_OFFSET, 0);
    }
    return bfbs;
}

}  // namespace shmrec_test
