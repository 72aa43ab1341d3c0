#include "schema_model.hpp"

namespace shmrec::codegen {

std::uint32_t scalar_size(Scalar s) noexcept {
    switch (s) {
        case Scalar::Bool:
        case Scalar::Int8:
        case Scalar::UInt8:
            return 1;
        case Scalar::Int16:
        case Scalar::UInt16:
            return 2;
        case Scalar::Int32:
        case Scalar::UInt32:
        case Scalar::Float32:
            return 4;
        case Scalar::Int64:
        case Scalar::UInt64:
        case Scalar::Float64:
            return 8;
    }
    return 0;
}

const char* scalar_schema_name(Scalar s) noexcept {
    switch (s) {
        case Scalar::Bool:
            return "bool";
        case Scalar::Int8:
            return "byte";
        case Scalar::UInt8:
            return "ubyte";
        case Scalar::Int16:
            return "short";
        case Scalar::UInt16:
            return "ushort";
        case Scalar::Int32:
            return "int";
        case Scalar::UInt32:
            return "uint";
        case Scalar::Int64:
            return "long";
        case Scalar::UInt64:
            return "ulong";
        case Scalar::Float32:
            return "float";
        case Scalar::Float64:
            return "double";
    }
    return "?";
}

const Struct* Schema::find_struct(const std::string& qualified_name) const {
    for (const auto& s : structs) {
        if (s.qualified_name == qualified_name) return &s;
    }
    return nullptr;
}

const Enum* Schema::find_enum(const std::string& qualified_name) const {
    for (const auto& e : enums) {
        if (e.qualified_name == qualified_name) return &e;
    }
    return nullptr;
}

const Table* Schema::find_table(const std::string& qualified_name) const {
    for (const auto& t : tables) {
        if (t.qualified_name == qualified_name) return &t;
    }
    return nullptr;
}

}  // namespace shmrec::codegen
