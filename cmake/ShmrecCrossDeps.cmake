# Dependencies of a cross build for Windows (CMAKE_CROSSCOMPILING AND WIN32), instead of the
# find_package() calls of a native build: there is no MinGW build of Boost, fmt, CLI11 or
# nlohmann_json in Debian, but all of them work header-only. Each header tree of the build
# machine is linked into <build>/host-headers, and only that directory is added (as a SYSTEM
# include directory): adding /usr/include itself would pull glibc's headers into a MinGW build.
#
# The targets have the names the native build's packages define, so no CMakeLists.txt that
# links them needs to know about the cross build:
#   Boost::headers                    Boost (Interprocess on Windows), header-only anyway
#   fmt::fmt, fmt::fmt-header-only    fmt compiled in (FMT_HEADER_ONLY); libfmt.a has no MinGW build
#   CLI11::CLI11                      header-only anyway
#   nlohmann_json::nlohmann_json      header-only anyway
#   flatbuffers::flatbuffers          the headers only: enough for flatbuffers/flatbuffers.h and
#                                     reflection_generated.h (the runtime's schema comparison
#                                     uses no more), not for reflection.h's functions or the
#                                     parser (libflatbuffers); that is why inspect/ and the tool
#                                     are not built for Windows yet
# The code generator is a build-host tool; see ShmrecHostGen.cmake.

include_guard(GLOBAL)

set(SHMREC_HOST_INCLUDE_DIR "/usr/include" CACHE PATH
    "Where the build machine's header-only dependencies are (boost/, fmt/, CLI/, nlohmann/, flatbuffers/)")
set(_shmrec_host_headers "${CMAKE_BINARY_DIR}/host-headers")
file(MAKE_DIRECTORY "${_shmrec_host_headers}")

# shmrec_cross_header_target(<target> <tree> <probe header> [<interface definitions>...])
function(_shmrec_cross_header_target target tree probe)
    set(src "${SHMREC_HOST_INCLUDE_DIR}/${tree}")
    if(NOT EXISTS "${SHMREC_HOST_INCLUDE_DIR}/${probe}")
        message(FATAL_ERROR
            "shmrec (Windows cross build): ${SHMREC_HOST_INCLUDE_DIR}/${probe} not found for "
            "${target}; install the Debian package (tools/install-deps.sh) or set "
            "SHMREC_HOST_INCLUDE_DIR")
    endif()
    if(NOT EXISTS "${_shmrec_host_headers}/${tree}")
        file(CREATE_LINK "${src}" "${_shmrec_host_headers}/${tree}" SYMBOLIC)
    endif()
    if(NOT TARGET ${target})
        add_library(${target} INTERFACE IMPORTED GLOBAL)
        set_target_properties(${target} PROPERTIES
            INTERFACE_INCLUDE_DIRECTORIES "${_shmrec_host_headers}"
            INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${_shmrec_host_headers}")
        if(ARGN)
            set_property(TARGET ${target} PROPERTY INTERFACE_COMPILE_DEFINITIONS ${ARGN})
        endif()
    endif()
endfunction()

_shmrec_cross_header_target(Boost::headers boost boost/version.hpp)
# Boost 1.74's winapi::unlink_file() (behind shared_memory_object/named_mutex/named_semaphore
# remove()) indexes past a wchar_t[1] member; GCC 12 at -O2 drops its loop and Wine then
# refuses the rename (WINDOWS.md 3a). The option keeps the loop.
set_property(TARGET Boost::headers APPEND PROPERTY INTERFACE_COMPILE_OPTIONS
    $<$<CXX_COMPILER_ID:GNU>:-fno-aggressive-loop-optimizations>)

_shmrec_cross_header_target(fmt::fmt-header-only fmt fmt/format.h FMT_HEADER_ONLY=1)
_shmrec_cross_header_target(fmt::fmt fmt fmt/format.h FMT_HEADER_ONLY=1)
_shmrec_cross_header_target(CLI11::CLI11 CLI CLI/CLI.hpp)
_shmrec_cross_header_target(nlohmann_json::nlohmann_json nlohmann nlohmann/json.hpp)
_shmrec_cross_header_target(flatbuffers::flatbuffers flatbuffers flatbuffers/flatbuffers.h)
