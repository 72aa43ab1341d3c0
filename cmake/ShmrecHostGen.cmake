# shmrec::gen in a cross build: shmrec-gen is a build-host tool (like flatc), so the cross
# build does not build codegen/ but imports the native executable. SHMREC_GEN_EXECUTABLE
# defaults to the native build of this source tree (build/codegen/shmrec-gen); build it first:
#   cmake -S . -B build -G Ninja && cmake --build build --target shmrec-gen
# (`make test-windows` does). Generated headers depend on that file, so rebuilding the
# native generator regenerates them in the cross build too.

include_guard(GLOBAL)

set(SHMREC_GEN_EXECUTABLE "${PROJECT_SOURCE_DIR}/build/codegen/shmrec-gen" CACHE FILEPATH
    "Native shmrec-gen the cross build runs (build it with: cmake --build build --target shmrec-gen)")

if(NOT EXISTS "${SHMREC_GEN_EXECUTABLE}" OR IS_DIRECTORY "${SHMREC_GEN_EXECUTABLE}")
    message(FATAL_ERROR
        "shmrec (cross build): no native code generator at SHMREC_GEN_EXECUTABLE="
        "'${SHMREC_GEN_EXECUTABLE}'. Build it first, natively:\n"
        "  cmake -S ${PROJECT_SOURCE_DIR} -B ${PROJECT_SOURCE_DIR}/build -G Ninja\n"
        "  cmake --build ${PROJECT_SOURCE_DIR}/build --target shmrec-gen\n"
        "or pass -DSHMREC_GEN_EXECUTABLE=<path to a native shmrec-gen>.")
endif()

# A generator of another version would write headers for another format.
execute_process(COMMAND "${SHMREC_GEN_EXECUTABLE}" --version
    OUTPUT_VARIABLE _shmrec_gen_version ERROR_VARIABLE _shmrec_gen_version
    RESULT_VARIABLE _shmrec_gen_rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT _shmrec_gen_rc EQUAL 0)
    message(FATAL_ERROR "shmrec (cross build): '${SHMREC_GEN_EXECUTABLE} --version' failed "
                        "(${_shmrec_gen_rc}): ${_shmrec_gen_version}. Is it a native executable?")
endif()
if(NOT _shmrec_gen_version MATCHES "(^|[^0-9.])${PROJECT_VERSION}([^0-9.]|$)")
    message(FATAL_ERROR "shmrec (cross build): ${SHMREC_GEN_EXECUTABLE} is version "
                        "'${_shmrec_gen_version}', this source tree is ${PROJECT_VERSION}")
endif()

add_executable(shmrec::gen IMPORTED GLOBAL)
set_target_properties(shmrec::gen PROPERTIES IMPORTED_LOCATION "${SHMREC_GEN_EXECUTABLE}")
message(STATUS "shmrec: code generator (native): ${SHMREC_GEN_EXECUTABLE}")

# flatc, which shmrec-gen runs for schemas with tables, is a build-host tool too: the build
# machine's, as flatbuffers::flatc (the name find_package(FlatBuffers) gives it natively, which
# is what shmrec_add_schema() looks for). Its output must match the FlatBuffers headers the
# cross build compiles with (ShmrecCrossDeps.cmake); flatc's code static_asserts the version.
if(NOT TARGET flatbuffers::flatc)
    find_program(SHMREC_FLATC_EXECUTABLE flatc
        DOC "Native flatc that shmrec-gen runs for schemas with tables")
    if(SHMREC_FLATC_EXECUTABLE)
        add_executable(flatbuffers::flatc IMPORTED GLOBAL)
        set_target_properties(flatbuffers::flatc PROPERTIES
            IMPORTED_LOCATION "${SHMREC_FLATC_EXECUTABLE}")
        message(STATUS "shmrec: flatc (native): ${SHMREC_FLATC_EXECUTABLE}")
    else()
        message(WARNING "shmrec (cross build): no native flatc found (Debian package "
                        "flatbuffers-compiler, or -DSHMREC_FLATC_EXECUTABLE=<path>); schemas "
                        "that declare tables will fail to generate")
    endif()
endif()
