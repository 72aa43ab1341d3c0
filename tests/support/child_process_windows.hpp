// The Windows implementation of ChildProcess (child_process.hpp): CreateProcessW with anonymous
// pipes for stdin and stdout, TerminateProcess for SIGKILL / SIGTERM, NtSuspendProcess /
// NtResumeProcess for SIGSTOP / SIGCONT. Include child_process.hpp, not this file.
//
// Only the child's ends of its own pipes, its stderr and the extra_fd handle are inherited:
// PROC_THREAD_ATTRIBUTE_HANDLE_LIST names them, so two tests spawning at once on two threads
// never leak each other's pipe ends (a leaked stdout write end would keep the test from ever
// seeing end of file). Our ends are never inheritable.
#pragma once

#ifndef NOMINMAX
#define NOMINMAX
#endif
#ifndef WIN32_LEAN_AND_MEAN
#define WIN32_LEAN_AND_MEAN
#endif
#include <windows.h>
#include <io.h>
#include <tlhelp32.h>
#include <shellapi.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <system_error>
#include <thread>
#include <vector>

namespace shmrec_test {

namespace win {

[[noreturn]] inline void throw_last_error(const std::string& what) {
    throw std::system_error(static_cast<int>(::GetLastError()), std::system_category(), what);
}

inline std::wstring widen(std::string_view s) {
    if (s.empty()) return {};
    const int n = ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()),
                                        nullptr, 0);
    std::wstring w(static_cast<std::size_t>(n), L'\0');
    ::MultiByteToWideChar(CP_UTF8, 0, s.data(), static_cast<int>(s.size()), w.data(), n);
    return w;
}

inline std::string narrow(std::wstring_view w) {
    if (w.empty()) return {};
    const int n = ::WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()),
                                        nullptr, 0, nullptr, nullptr);
    std::string s(static_cast<std::size_t>(n), '\0');
    ::WideCharToMultiByte(CP_UTF8, 0, w.data(), static_cast<int>(w.size()), s.data(), n,
                          nullptr, nullptr);
    return s;
}

// One argument as the C runtime's command-line parser (CommandLineToArgvW, the MSVC and MinGW
// startup code) splits it back: quoted when it is empty or holds white space or a quote;
// backslashes doubled only where they precede a quote.
inline std::wstring quote_argument(const std::wstring& arg) {
    if (!arg.empty() && arg.find_first_of(L" \t\n\v\"") == std::wstring::npos) return arg;
    std::wstring out = L"\"";
    for (auto it = arg.begin();; ++it) {
        std::size_t backslashes = 0;
        while (it != arg.end() && *it == L'\\') {
            ++it;
            ++backslashes;
        }
        if (it == arg.end()) {
            out.append(backslashes * 2, L'\\');
            break;
        }
        if (*it == L'"') {
            out.append(backslashes * 2 + 1, L'\\');
        } else {
            out.append(backslashes, L'\\');
        }
        out.push_back(*it);
    }
    out.push_back(L'"');
    return out;
}

// The program name (argv[0]) is split by other rules: no escapes, quotes only toggle. It cannot
// hold a quote.
inline std::wstring quote_program(const std::wstring& program) {
    if (program.find(L'"') != std::wstring::npos) {
        throw std::invalid_argument("a program path cannot contain '\"'");
    }
    if (!program.empty() && program.find_first_of(L" \t") == std::wstring::npos) return program;
    return L"\"" + program + L"\"";
}

// The key of a "KEY=value" entry; entries like "=C:=C:\dir" (the per-drive directories) have a
// key that starts with '='.
inline std::wstring env_key(const std::wstring& entry) {
    return entry.substr(0, entry.find(L'=', 1));
}

// Environment names are case-insensitive on Windows.
inline bool same_key(const std::wstring& a, const std::wstring& b) {
    return ::CompareStringOrdinal(a.data(), static_cast<int>(a.size()), b.data(),
                                  static_cast<int>(b.size()), TRUE) == CSTR_EQUAL;
}

using NtProcessCall = LONG(NTAPI*)(HANDLE);

inline NtProcessCall ntdll_process_call(const char* name) {
    const HMODULE ntdll = ::GetModuleHandleW(L"ntdll.dll");
    if (ntdll == nullptr) return nullptr;
    return reinterpret_cast<NtProcessCall>(
        reinterpret_cast<void*>(::GetProcAddress(ntdll, name)));
}

// Every thread of process `pid`: how many are suspended (suspend count >= 1), and of how many.
// Probes each with SuspendThread (which returns the previous count) and ResumeThread.
struct SuspendCensus {
    int threads = 0;
    int suspended = 0;
};

inline SuspendCensus suspend_census(DWORD pid) {
    SuspendCensus census;
    const HANDLE snapshot = ::CreateToolhelp32Snapshot(TH32CS_SNAPTHREAD, 0);
    if (snapshot == INVALID_HANDLE_VALUE) return census;
    THREADENTRY32 entry{};
    entry.dwSize = sizeof entry;
    for (BOOL more = ::Thread32First(snapshot, &entry); more;
         more = ::Thread32Next(snapshot, &entry)) {
        if (entry.th32OwnerProcessID != pid) continue;
        const HANDLE thread = ::OpenThread(THREAD_SUSPEND_RESUME, FALSE, entry.th32ThreadID);
        if (thread == nullptr) continue;  // it ended meanwhile
        const DWORD previous = ::SuspendThread(thread);
        if (previous != static_cast<DWORD>(-1)) {
            ::ResumeThread(thread);
            ++census.threads;
            if (previous > 0) ++census.suspended;
        }
        ::CloseHandle(thread);
    }
    ::CloseHandle(snapshot);
    return census;
}

// How a process that ended with `code` would have ended on Linux (see child_process.hpp).
inline ExitStatus status_of_exit_code(DWORD code) {
    ExitStatus s;
    switch (code) {
        case 0xC0000005u:  // STATUS_ACCESS_VIOLATION
        case 0xC00000FDu:  // STATUS_STACK_OVERFLOW
        case 0xC0000006u:  // STATUS_IN_PAGE_ERROR (a mapped file's page that cannot be read)
            return ExitStatus::killed(SIGSEGV);
        case 0xC000001Du:  // STATUS_ILLEGAL_INSTRUCTION
            return ExitStatus::killed(SIGILL);
        case 0xC0000094u:  // STATUS_INTEGER_DIVIDE_BY_ZERO
            return ExitStatus::killed(SIGFPE);
        case 0xC0000409u:  // STATUS_STACK_BUFFER_OVERRUN (__fastfail)
            return ExitStatus::killed(SIGABRT);
        default: break;
    }
    if (code > 128 && code < 160) return ExitStatus::killed(static_cast<int>(code) - 128);
    s.exited = true;
    s.code = static_cast<int>(code);
    return s;
}

}  // namespace win

// For peer programs and test binaries: a crash (an unhandled exception) ends the process at once
// with the exception code as its exit code, which ExitStatus reads as the Linux signal. Without
// it Wine starts its debugger on the crashed process, which can keep it alive for many seconds.
inline void die_plainly_on_crash() {
    ::SetUnhandledExceptionFilter([](EXCEPTION_POINTERS* e) -> LONG {
        ::TerminateProcess(::GetCurrentProcess(), e->ExceptionRecord->ExceptionCode);
        return EXCEPTION_EXECUTE_HANDLER;
    });
}

// This process's arguments in UTF-8, from the wide command line: the C runtime's argv is in the
// ANSI code page, which cannot spell every path a test passes (grüße-日本.shm). Empty if the
// command line cannot be split.
inline std::vector<std::string> utf8_arguments() {
    int count = 0;
    LPWSTR* wide = ::CommandLineToArgvW(::GetCommandLineW(), &count);
    if (wide == nullptr) return {};
    std::vector<std::string> out;
    for (int i = 0; i < count; ++i) out.push_back(win::narrow(wide[i]));
    ::LocalFree(wide);
    return out;
}

// In a child started with SpawnOptions::extra_fd: a CRT descriptor for the handle it was given
// (-1 if none was).
inline int extra_fd_in_child() {
    const char* value = std::getenv("SHMREC_TEST_FD3");
    if (value == nullptr) return -1;
    const auto handle = static_cast<std::intptr_t>(std::strtoll(value, nullptr, 10));
    return ::_open_osfhandle(handle, 0);
}

class ChildProcess {
  public:
    using Clock = std::chrono::steady_clock;

    // `program` is searched as CreateProcessW searches the first word of a command line (the
    // program's folder, the current folder, the system folders, PATH; ".exe" appended when it
    // has no extension); argv[0] is `program`.
    ChildProcess(const std::string& program, const std::vector<std::string>& args,
                 const SpawnOptions& options = {}) {
        HANDLE child_stdin = nullptr, child_stdout = nullptr, child_stderr = nullptr,
               child_extra = nullptr;
        auto close_child_ends = [&] {
            for (HANDLE h : {child_stdin, child_stdout, child_stderr, child_extra}) {
                if (h != nullptr) ::CloseHandle(h);
            }
        };
        try {
            // Not inheritable at first: only the child's ends become so, and only the handle
            // list below decides which inherited handles this child gets. 64 KiB, as a Linux
            // pipe holds (the default is one page): a chatty peer the test reads only at its
            // end must not block on its stdout meanwhile.
            constexpr DWORD pipe_size = 64 * 1024;
            if (!::CreatePipe(&child_stdin, &to_child_, nullptr, pipe_size)) {
                win::throw_last_error("CreatePipe");
            }
            if (!::CreatePipe(&from_child_, &child_stdout, nullptr, pipe_size)) {
                win::throw_last_error("CreatePipe");
            }
            child_stdin = inheritable(child_stdin);
            child_stdout = inheritable(child_stdout);
            const HANDLE err = ::GetStdHandle(STD_ERROR_HANDLE);
            if (err != nullptr && err != INVALID_HANDLE_VALUE) child_stderr = duplicate(err);
            if (options.extra_fd >= 0) {
                const auto h = reinterpret_cast<HANDLE>(::_get_osfhandle(options.extra_fd));
                if (h == INVALID_HANDLE_VALUE) {
                    throw std::system_error(EBADF, std::generic_category(), "extra_fd");
                }
                child_extra = duplicate(h);
            }

            std::vector<HANDLE> inherited{child_stdin, child_stdout};
            if (child_stderr != nullptr) inherited.push_back(child_stderr);
            if (child_extra != nullptr) inherited.push_back(child_extra);
            SIZE_T size = 0;
            ::InitializeProcThreadAttributeList(nullptr, 1, 0, &size);
            std::vector<unsigned char> storage(size);
            const auto attributes =
                reinterpret_cast<LPPROC_THREAD_ATTRIBUTE_LIST>(storage.data());
            if (!::InitializeProcThreadAttributeList(attributes, 1, 0, &size)) {
                win::throw_last_error("InitializeProcThreadAttributeList");
            }
            struct ListGuard {
                LPPROC_THREAD_ATTRIBUTE_LIST list;
                ~ListGuard() { ::DeleteProcThreadAttributeList(list); }
            } guard{attributes};
            if (!::UpdateProcThreadAttribute(attributes, 0, PROC_THREAD_ATTRIBUTE_HANDLE_LIST,
                                             inherited.data(), inherited.size() * sizeof(HANDLE),
                                             nullptr, nullptr)) {
                win::throw_last_error("UpdateProcThreadAttribute");
            }

            std::wstring command_line = win::quote_program(win::widen(program));
            for (const auto& a : args) command_line += L" " + win::quote_argument(win::widen(a));

            SpawnOptions with_fd3 = options;
            if (child_extra != nullptr) {
                with_fd3.env.push_back("SHMREC_TEST_FD3=" +
                                       std::to_string(reinterpret_cast<std::intptr_t>(child_extra)));
            }
            std::wstring env_block = environment(with_fd3);

            STARTUPINFOEXW startup{};
            startup.StartupInfo.cb = sizeof startup;
            startup.StartupInfo.dwFlags = STARTF_USESTDHANDLES;
            startup.StartupInfo.hStdInput = child_stdin;
            startup.StartupInfo.hStdOutput = child_stdout;
            startup.StartupInfo.hStdError =
                child_stderr != nullptr ? child_stderr : INVALID_HANDLE_VALUE;
            startup.lpAttributeList = attributes;
            PROCESS_INFORMATION info{};
            // Wine 8 under heavy load now and then fails a start with ERROR_INTERNAL_ERROR
            // (seen once in a CI run, two test suites at once on 2 cores): nothing was
            // started, so try again a few times before giving up.
            for (int attempt = 1;; ++attempt) {
                if (::CreateProcessW(nullptr, command_line.data(), nullptr, nullptr, TRUE,
                                     EXTENDED_STARTUPINFO_PRESENT | CREATE_UNICODE_ENVIRONMENT,
                                     env_block.data(), nullptr, &startup.StartupInfo, &info)) {
                    break;
                }
                if (::GetLastError() != ERROR_INTERNAL_ERROR || attempt == 3) {
                    win::throw_last_error("CreateProcessW " + program);
                }
                ::Sleep(100);
            }
            ::CloseHandle(info.hThread);
            process_ = info.hProcess;
            pid_ = info.dwProcessId;
        } catch (...) {
            close_child_ends();
            close_fds();
            throw;
        }
        close_child_ends();
    }
    ChildProcess(const ChildProcess&) = delete;
    ChildProcess& operator=(const ChildProcess&) = delete;
    ~ChildProcess() {
        if (process_ != nullptr) {
            if (!reaped_) {
                ::TerminateProcess(process_, 128 + SIGKILL);  // a suspended one too
                ::WaitForSingleObject(process_, 10000);
            }
            ::CloseHandle(process_);
        }
        close_fds();
    }

    pid_t pid() const { return static_cast<pid_t>(pid_); }
    // The process handle (SYNCHRONIZE, PROCESS_ALL_ACCESS as CreateProcessW grants it).
    HANDLE handle() const { return process_; }

    // ---- stdin ----

    // Writes `line` and a newline to the child's stdin; throws if it cannot.
    void send(const std::string& line) {
        const std::string data = line + "\n";
        if (to_child_ == nullptr) throw std::system_error(EBADF, std::generic_category(), "send");
        DWORD written = 0;
        if (!::WriteFile(to_child_, data.data(), static_cast<DWORD>(data.size()), &written,
                         nullptr) ||
            written != data.size()) {
            win::throw_last_error("write to child");
        }
    }

    // The child sees end of file on its stdin.
    void close_stdin() {
        if (to_child_ != nullptr) ::CloseHandle(to_child_);
        to_child_ = nullptr;
    }

    // ---- stdout ----

    // The next line the child printed (without its newline, and without a '\r' before it), or
    // nothing at end of file or after `timeout`; eof() tells which.
    std::optional<std::string> read_line(
        std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            if (const auto nl = buffer_.find('\n'); nl != std::string::npos) {
                std::string line = buffer_.substr(0, nl);
                buffer_.erase(0, nl + 1);
                if (!line.empty() && line.back() == '\r') line.pop_back();
                lines_.push_back(line);
                return line;
            }
            if (eof_) return std::nullopt;
            // Anonymous pipes have no overlapped I/O: peek, and read only what is there.
            DWORD available = 0;
            if (!::PeekNamedPipe(from_child_, nullptr, 0, nullptr, &available, nullptr)) {
                eof_ = true;  // ERROR_BROKEN_PIPE: every write end is closed
                continue;
            }
            if (available == 0) {
                if (left_until(deadline).count() <= 0) return std::nullopt;
                std::this_thread::sleep_for(std::chrono::milliseconds(1));
                continue;
            }
            char chunk[4096];
            DWORD got = 0;
            const DWORD want = std::min<DWORD>(available, sizeof chunk);
            if (!::ReadFile(from_child_, chunk, want, &got, nullptr) || got == 0) {
                eof_ = true;
                continue;
            }
            buffer_.append(chunk, got);
        }
    }

    // Reads lines until one starts with `prefix` and returns it; "" if none came within
    // `timeout` (or before end of file).
    std::string expect_line(std::string_view prefix,
                            std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            const auto left = left_until(deadline);
            if (left.count() <= 0) return {};
            const std::optional<std::string> line = read_line(left);
            if (!line) return {};
            if (line->rfind(prefix, 0) == 0) return *line;
        }
    }

    // Reads until end of file (or the timeout); every line read so far.
    const std::vector<std::string>& read_all(
        std::chrono::milliseconds timeout = std::chrono::seconds(15)) {
        const auto deadline = Clock::now() + timeout;
        while (!eof_ && Clock::now() < deadline) read_line(left_until(deadline));
        return lines_;
    }

    // Every line read so far, in order.
    const std::vector<std::string>& lines() const { return lines_; }
    bool eof() const { return eof_; }

    // ---- signals and state ----

    // SIGKILL / SIGTERM: TerminateProcess (exit code 128 + sig); SIGSTOP / SIGCONT:
    // NtSuspendProcess / NtResumeProcess. Nothing once the child was reaped.
    void signal(int sig) const {
        if (process_ == nullptr || reaped_) return;
        switch (sig) {
            case SIGKILL:
            case SIGTERM: ::TerminateProcess(process_, static_cast<UINT>(128 + sig)); return;
            case SIGSTOP:
            case SIGCONT: {
                static const win::NtProcessCall suspend =
                    win::ntdll_process_call("NtSuspendProcess");
                static const win::NtProcessCall resume =
                    win::ntdll_process_call("NtResumeProcess");
                const win::NtProcessCall call = sig == SIGSTOP ? suspend : resume;
                if (call == nullptr) {
                    throw std::runtime_error("ntdll has no NtSuspendProcess / NtResumeProcess");
                }
                call(process_);
                return;
            }
            default:
                throw std::invalid_argument("ChildProcess::signal(" + std::to_string(sig) +
                                            "): no such signal on Windows");
        }
    }

    // Waits for the child to end. Leaves a child still running after `timeout` alone (the
    // destructor kills it) and reports it as timed_out. Once reaped, returns how it ended.
    ExitStatus wait_exit(std::chrono::milliseconds timeout = std::chrono::seconds(30)) {
        if (reaped_) return status_;
        const DWORD ms = static_cast<DWORD>(std::max<std::int64_t>(0, timeout.count()));
        if (::WaitForSingleObject(process_, ms) == WAIT_OBJECT_0) {
            record();
            return status_;
        }
        ExitStatus s;
        s.timed_out = true;
        return s;
    }

    // Waits until every thread of the child is suspended (signal(SIGSTOP), or the child's own
    // NtSuspendProcess); false on timeout or if it ended instead.
    bool wait_stopped(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return wait_state(timeout, [](const win::SuspendCensus& c) {
            return c.threads > 0 && c.suspended == c.threads;
        });
    }

    // Waits until no thread of a stopped child is suspended (signal(SIGCONT)); false on
    // timeout or if it ended.
    bool wait_continued(std::chrono::milliseconds timeout = std::chrono::seconds(10)) {
        return wait_state(timeout, [](const win::SuspendCensus& c) {
            return c.threads > 0 && c.suspended == 0;
        });
    }

    // Still running (not yet ended; records how it ended if it has).
    bool running() {
        if (reaped_) return false;
        if (::WaitForSingleObject(process_, 0) == WAIT_OBJECT_0) {
            record();
            return false;
        }
        return true;
    }

  private:
    static std::chrono::milliseconds left_until(Clock::time_point deadline) {
        return std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    }

    // `h` made inheritable (a duplicate; `h` is closed).
    static HANDLE inheritable(HANDLE h) {
        const HANDLE dup = duplicate(h);
        ::CloseHandle(h);
        return dup;
    }

    // An inheritable duplicate of `h`.
    static HANDLE duplicate(HANDLE h) {
        HANDLE dup = nullptr;
        if (!::DuplicateHandle(::GetCurrentProcess(), h, ::GetCurrentProcess(), &dup, 0, TRUE,
                               DUPLICATE_SAME_ACCESS)) {
            win::throw_last_error("DuplicateHandle");
        }
        return dup;
    }

    // This process's environment without the keys options.unset_env names or options.env
    // sets, then options.env; as a CREATE_UNICODE_ENVIRONMENT block.
    static std::wstring environment(const SpawnOptions& options) {
        std::vector<std::wstring> unset, added;
        for (const auto& k : options.unset_env) unset.push_back(win::widen(k));
        for (const auto& e : options.env) added.push_back(win::widen(e));
        std::wstring block;
        if (wchar_t* const strings = ::GetEnvironmentStringsW(); strings != nullptr) {
            for (const wchar_t* e = strings; *e != L'\0'; e += std::wcslen(e) + 1) {
                const std::wstring entry = e;
                const std::wstring key = win::env_key(entry);
                bool dropped = false;
                for (const auto& k : unset) dropped |= win::same_key(k, key);
                for (const auto& add : added) dropped |= win::same_key(win::env_key(add), key);
                if (!dropped) block += entry + L'\0';
            }
            ::FreeEnvironmentStringsW(strings);
        }
        for (const auto& add : added) block += add + L'\0';
        block += L'\0';
        return block;
    }

    template <class Is>
    bool wait_state(std::chrono::milliseconds timeout, Is is) {
        if (reaped_) return false;
        const auto deadline = Clock::now() + timeout;
        for (;;) {
            if (!running()) return false;
            if (is(win::suspend_census(pid_))) return true;
            if (Clock::now() >= deadline) return false;
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
    }

    void record() {
        DWORD code = 0;
        ::GetExitCodeProcess(process_, &code);
        reaped_ = true;
        status_ = win::status_of_exit_code(code);
    }

    void close_fds() {
        close_stdin();
        if (from_child_ != nullptr) ::CloseHandle(from_child_);
        from_child_ = nullptr;
    }

    HANDLE process_ = nullptr;
    DWORD pid_ = 0;
    HANDLE to_child_ = nullptr;
    HANDLE from_child_ = nullptr;
    bool reaped_ = false;
    bool eof_ = false;
    ExitStatus status_;
    std::string buffer_;
    std::vector<std::string> lines_;
};

}  // namespace shmrec_test
