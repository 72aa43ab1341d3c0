# Cross-build for 64-bit Windows with Debian's MinGW-w64 GCC (posix threads), tests run under Wine.
#
#   cmake -S . -B build-windows -G Ninja \
#         -DCMAKE_TOOLCHAIN_FILE=cmake/toolchains/mingw-w64-x86_64.cmake \
#         -DSHMREC_GEN_EXECUTABLE=$PWD/build/codegen/shmrec-gen
#
# `make test-windows` does all of it (docs: /work/shared/design/WINDOWS.md, section 4).
# Packages: g++-mingw-w64-x86-64-posix for the build; wine64 and wine to run what it built.
#
# Executables are linked -static: no libstdc++-6.dll, libgcc_s_seh-1.dll or libwinpthread-1.dll
# has to be found at run time (a missing DLL fails silently under WINEDEBUG=-all, rc 53).
#
# ctest runs every .exe through CMAKE_CROSSCOMPILING_EMULATOR, which carries Wine's environment
# itself (the `/usr/bin/env ...` form), so ctest needs no WINE* variables:
#   SHMREC_WINEPREFIX  the Wine prefix (default <build dir>/wine-prefix). tools/windows/wine-session.sh
#                      creates it once and keeps one wineserver alive while the tests run; without
#                      a running wineserver every test cold-starts Wine (seconds each).
#   SHMREC_WINEDEBUG   WINEDEBUG (default -all; `-all,err+module` names a missing DLL).
# WINEDLLOVERRIDES disables mscoree and mshtml (no Mono/Gecko install prompts, faster prefix);
# the comma form avoids a ';', which would split the CMake list. DISPLAY is dropped: the tests
# are console programs and must never open a window.

set(CMAKE_SYSTEM_NAME Windows)
set(CMAKE_SYSTEM_PROCESSOR x86_64)

set(_shmrec_mingw x86_64-w64-mingw32)
# The -posix variants: std::thread, std::mutex and friends need the winpthreads thread model.
set(CMAKE_C_COMPILER   ${_shmrec_mingw}-gcc-posix)     # GoogleTest's project() enables C
set(CMAKE_CXX_COMPILER ${_shmrec_mingw}-g++-posix)
set(CMAKE_RC_COMPILER  ${_shmrec_mingw}-windres)

# Libraries and headers come from the MinGW sysroot only: never /usr/include (glibc's headers)
# or /usr/lib. Header-only host dependencies are added one tree at a time by
# cmake/ShmrecCrossDeps.cmake. Programs (the native shmrec-gen) are host programs.
set(CMAKE_FIND_ROOT_PATH /usr/${_shmrec_mingw})
set(CMAKE_FIND_ROOT_PATH_MODE_PROGRAM NEVER)
set(CMAKE_FIND_ROOT_PATH_MODE_LIBRARY ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_INCLUDE ONLY)
set(CMAKE_FIND_ROOT_PATH_MODE_PACKAGE ONLY)

set(CMAKE_EXE_LINKER_FLAGS_INIT "-static")

set(SHMREC_WINEPREFIX "${CMAKE_BINARY_DIR}/wine-prefix" CACHE PATH
    "Wine prefix the tests run in (tools/windows/wine-session.sh creates it)")
set(SHMREC_WINEDEBUG "-all" CACHE STRING "WINEDEBUG for the tests run under Wine")
set(SHMREC_WINE "/usr/lib/wine/wine64" CACHE FILEPATH
    "Wine's 64-bit loader (Debian puts no wine64 on PATH)")
set(CMAKE_CROSSCOMPILING_EMULATOR
    /usr/bin/env -u DISPLAY -u WAYLAND_DISPLAY
    "WINEPREFIX=${SHMREC_WINEPREFIX}" "WINEDEBUG=${SHMREC_WINEDEBUG}"
    "WINEDLLOVERRIDES=mscoree,mshtml=d"
    "${SHMREC_WINE}")
