#include "run_flatc.hpp"

#if defined(_WIN32)
#include <process.h>  // _getpid, _spawnvp
#else
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
extern char** environ;
#endif

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <system_error>

namespace shmrec::codegen {
namespace {

namespace fs = std::filesystem;

#if defined(_WIN32)
// _spawnvp joins its arguments with spaces: quote as the C runtime splits them again.
std::string quoted(const std::string& arg) {
    if (!arg.empty() && arg.find_first_of(" \t\"") == std::string::npos) return arg;
    std::string out = "\"";
    std::size_t backslashes = 0;
    for (const char c : arg) {
        if (c == '\\') {
            ++backslashes;
            continue;
        }
        out.append(c == '"' ? 2 * backslashes + 1 : backslashes, '\\');
        backslashes = 0;
        out += c;
    }
    out.append(2 * backslashes, '\\');
    return out + "\"";
}

int process_id() {
    return ::_getpid();
}
#else
int process_id() {
    return static_cast<int>(::getpid());
}
#endif

// Runs `args` (args[0] is looked up in PATH when it has no directory); its output goes
// where ours goes. Returns the exit status, or -1 with `error` set.
int run(const std::vector<std::string>& args, std::string& error) {
#if defined(_WIN32)
    std::vector<std::string> quoted_args;
    for (const auto& a : args) quoted_args.push_back(quoted(a));
    std::vector<const char*> argv;
    for (const auto& a : quoted_args) argv.push_back(a.c_str());
    argv.push_back(nullptr);
    const intptr_t status = ::_spawnvp(_P_WAIT, args[0].c_str(), argv.data());
    if (status == -1) {
        error = "cannot run '" + args[0] + "': " + std::strerror(errno);
        return -1;
    }
    return static_cast<int>(status);
#else
    std::vector<char*> argv;
    for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    pid_t pid = 0;
    const int rc = ::posix_spawnp(&pid, args[0].c_str(), nullptr, nullptr, argv.data(), environ);
    if (rc != 0) {
        error = "cannot run '" + args[0] + "': " + std::strerror(rc);
        return -1;
    }
    int status = 0;
    while (::waitpid(pid, &status, 0) == -1) {
        if (errno != EINTR) {
            error = "waiting for '" + args[0] + "': " + std::strerror(errno);
            return -1;
        }
    }
    if (WIFEXITED(status)) return WEXITSTATUS(status);
    error = "'" + args[0] + "' was killed by signal " + std::to_string(WTERMSIG(status));
    return -1;
#endif
}

}  // namespace

std::optional<std::string> run_flatc(const std::string& flatc,
                                     const std::vector<std::string>& include_dirs,
                                     const std::string& schema_path, std::string& error) {
    // A directory of our own: nothing is written beside the outputs before every schema has
    // been rendered (main.cpp writes nothing when one fails).
    static std::atomic<int> counter{0};
    std::error_code ec;
    const fs::path dir =
        fs::temp_directory_path(ec) /
        ("shmrec-gen-" + std::to_string(process_id()) + "-" + std::to_string(counter++));
    if (ec || (fs::remove_all(dir, ec), !fs::create_directories(dir, ec))) {
        error =
            "cannot create a temporary directory for flatc (" + dir.string() + "): " + ec.message();
        return std::nullopt;
    }
    std::vector<std::string> args{flatc};
    for (const char* o : flatc_options) args.emplace_back(o);
    for (const auto& d : include_dirs) {
        args.emplace_back("-I");
        args.push_back(d);
    }
    args.emplace_back("-o");
    args.push_back(dir.string());
    args.push_back(schema_path);

    std::optional<std::string> header;
    const int status = run(args, error);
    if (status > 0) {
        error = "flatc ('" + flatc + "') failed on " + schema_path + " with exit status " +
                std::to_string(status);
    } else if (status == 0) {
        const fs::path file = dir / (fs::path(schema_path).stem().string() + "_generated.h");
        std::ifstream in(file, std::ios::binary);
        if (in) {
            header.emplace(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
        } else {
            error = "flatc ('" + flatc + "') wrote no " + file.filename().string();
        }
    }
    fs::remove_all(dir, ec);
    return header;
}

}  // namespace shmrec::codegen
