#include "output_files.hpp"

#if defined(_WIN32)
#include <process.h>  // _getpid
#else
#include <unistd.h>
#endif

#include <fstream>
#include <iterator>
#include <system_error>

namespace shmrec::codegen {
namespace {

std::string escape_make(const std::string& path) {
    std::string out;
    for (const char c : path) {
        if (c == ' ' || c == '#' || c == '\\') out += '\\';
        if (c == '$') out += '$';
        out += c;
    }
    return out;
}

}  // namespace

WriteResult write_if_changed(const std::filesystem::path& path, const std::string& content,
                             std::string& error) {
    {
        std::ifstream in(path, std::ios::binary);
        if (in) {
            const std::string old((std::istreambuf_iterator<char>(in)),
                                  std::istreambuf_iterator<char>());
            if (old == content) return WriteResult::unchanged;
        }
    }
    // The temporary sits beside the target so rename() stays within one file system.
    std::filesystem::path tmp = path;
#if defined(_WIN32)
    tmp += ".tmp" + std::to_string(::_getpid());
#else
    tmp += ".tmp" + std::to_string(::getpid());
#endif
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out.write(content.data(), static_cast<std::streamsize>(content.size()));
        out.close();
        if (!out) {
            error = "cannot write " + tmp.string();
            std::error_code ignored;
            std::filesystem::remove(tmp, ignored);
            return WriteResult::failed;
        }
    }
    std::error_code ec;
    std::filesystem::rename(tmp, path, ec);
    if (ec) {
        error = "cannot rename " + tmp.string() + " to " + path.string() + ": " + ec.message();
        std::filesystem::remove(tmp, ec);
        return WriteResult::failed;
    }
    return WriteResult::written;
}

std::string make_depfile(const std::vector<std::filesystem::path>& outputs,
                         const std::vector<std::filesystem::path>& dependencies) {
    std::string out;
    for (const auto& o : outputs) {
        if (!out.empty()) out += ' ';
        out += escape_make(o.generic_string());
    }
    out += ':';
    for (const auto& d : dependencies) out += " \\\n  " + escape_make(d.generic_string());
    out += '\n';
    return out;
}

}  // namespace shmrec::codegen
