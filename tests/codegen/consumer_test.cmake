# Builds tests/codegen/consumer in WORK_DIR as a user would, then checks that headers are
# regenerated when a schema, or a schema it includes, changes, and only then.
#
#   cmake -DMODE=subdirectory|package -DSHMREC_SOURCE_DIR=... -DSHMREC_BUILD_DIR=...
#         -DCONSUMER_SOURCE=... -DWORK_DIR=... [-DCXX_COMPILER=...] [-DSANITIZE=...]
#         -P consumer_test.cmake
#
# MODE=package runs `cmake --install SHMREC_BUILD_DIR --prefix WORK_DIR/staging`, checks that
# the installed package names no path of this machine's build and needs no Boost or fmt
# package (FlatBuffers only optionally, for tables), then MOVES the install tree to
# WORK_DIR/moved/usr and builds the consumer against the moved copy only (with
# find_package(fmt/Boost) disabled); the consumer's table schema finds flatc and FlatBuffers'
# headers through the package. A second consumer build with FlatBuffers disabled too and only
# struct schemas shows that FlatBuffers stays optional.
# MODE=subdirectory uses add_subdirectory(<shmrec checkout outside the consumer> <bindir>), and
# first checks that leaving out <bindir> fails as the README says.
cmake_minimum_required(VERSION 3.25)

foreach(var MODE SHMREC_SOURCE_DIR SHMREC_BUILD_DIR CONSUMER_SOURCE WORK_DIR)
    if(NOT DEFINED ${var})
        message(FATAL_ERROR "consumer_test.cmake: -D${var}=... is required")
    endif()
endforeach()

function(run)
    execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    if(NOT rc EQUAL 0)
        list(JOIN ARGN " " cmd)
        message(FATAL_ERROR "consumer test: '${cmd}' failed (${rc}):\n${out}")
    endif()
endfunction()

set(src "${WORK_DIR}/src")
set(build "${WORK_DIR}/build")
file(REMOVE_RECURSE "${WORK_DIR}")
file(COPY "${CONSUMER_SOURCE}/" DESTINATION "${src}")
file(COPY "${SHMREC_SOURCE_DIR}/schema/student.fbs" "${SHMREC_SOURCE_DIR}/schema/enrolment.fbs"
     DESTINATION "${src}/schemas")

set(configure_args -S "${src}" -B "${build}" -G Ninja -DCONSUMER_MODE=${MODE})
if(CXX_COMPILER)
    list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
# A sanitizer build of shmrec installs a sanitized libshmrec.a: its consumer links the same
# sanitizer runtime, as any consumer of such a build would.
if(SANITIZE)
    list(APPEND configure_args "-DCMAKE_CXX_FLAGS=-fsanitize=${SANITIZE}"
         "-DCMAKE_EXE_LINKER_FLAGS=-fsanitize=${SANITIZE}")
endif()

if(MODE STREQUAL "package")
    set(staging "${WORK_DIR}/staging")
    set(prefix "${WORK_DIR}/moved/usr")
    run("${CMAKE_COMMAND}" --install "${SHMREC_BUILD_DIR}" --prefix "${staging}")

    # Relocatable: no installed CMake file may name the source tree, the build tree, the
    # install prefix or an absolute library path (e.g. /usr/lib/x86_64-linux-gnu/librt.a).
    file(GLOB_RECURSE package_files "${staging}/*.cmake")
    if(NOT package_files)
        message(FATAL_ERROR "consumer test: no .cmake files installed under ${staging}")
    endif()
    file(REAL_PATH "${SHMREC_SOURCE_DIR}" source_real)
    file(REAL_PATH "${SHMREC_BUILD_DIR}" build_real)
    set(forbidden "${SHMREC_SOURCE_DIR}" "${source_real}" "${SHMREC_BUILD_DIR}" "${build_real}"
                  "${staging}" "${WORK_DIR}")
    list(REMOVE_DUPLICATES forbidden)
    foreach(file IN LISTS package_files)
        file(READ "${file}" text)
        foreach(path IN LISTS forbidden)
            string(FIND "${text}" "${path}" at)
            if(NOT at EQUAL -1)
                message(FATAL_ERROR "consumer test: ${file} contains the path ${path}; "
                        "the installed package must be relocatable")
            endif()
        endforeach()
        if(text MATCHES "[\"; (]/[^\"; )]*\\.(a|so)(\\.[0-9]+)*[\"; )]")
            message(FATAL_ERROR "consumer test: ${file} names the absolute library path "
                    "'${CMAKE_MATCH_0}'; link system libraries by name or imported target")
        endif()
        # What a consumer must have: Threads only; FlatBuffers is optional, found quietly for
        # tables (see shmrecConfig.cmake.in).
        if(text MATCHES "(fmt|Boost)::[A-Za-z_-]+|find_dependency\\((fmt|Boost|FlatBuffers|flatbuffers)")
            message(FATAL_ERROR "consumer test: ${file} requires '${CMAKE_MATCH_0}' of "
                    "consumers; Boost and fmt are private to shmrec, FlatBuffers optional")
        endif()
    endforeach()
    # ...which holds only while no public header includes them.
    file(GLOB_RECURSE installed_headers "${staging}/include/shmrec/*")
    foreach(header IN LISTS installed_headers)
        # FlatBuffers only in the headers of table records (table_*.hpp): their users have it
        # already, through the generated headers shmrec_add_schema() gives them.
        set(private_packages "boost|fmt|flatbuffers")
        if(header MATCHES "/table_[a-z_]+\\.hpp$")
            set(private_packages "boost|fmt")
        endif()
        file(STRINGS "${header}" includes REGEX "^[ \t]*#[ \t]*include[ \t]*<(${private_packages})/")
        if(includes)
            message(FATAL_ERROR "consumer test: the public header ${header} has '${includes}'; "
                    "consumers would then need that package: declare it PUBLIC in "
                    "runtime/CMakeLists.txt and find_dependency() it in shmrecConfig.cmake.in")
        endif()
    endforeach()

    # Move the install tree: the consumer builds against the moved copy, the original is gone.
    file(MAKE_DIRECTORY "${WORK_DIR}/moved")
    file(RENAME "${staging}" "${prefix}")
    list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${prefix}"
         -DCMAKE_DISABLE_FIND_PACKAGE_fmt=ON -DCMAKE_DISABLE_FIND_PACKAGE_Boost=ON)

    # Schemas of structs only need no FlatBuffers at all: the package is found and the
    # consumer builds and runs without it.
    set(no_fb_args ${configure_args})
    list(FIND no_fb_args "${build}" at)
    list(REMOVE_AT no_fb_args ${at})
    list(INSERT no_fb_args ${at} "${WORK_DIR}/build_no_flatbuffers")
    run("${CMAKE_COMMAND}" ${no_fb_args} -DCONSUMER_TABLES=OFF
        -DCMAKE_DISABLE_FIND_PACKAGE_FlatBuffers=ON -DCMAKE_DISABLE_FIND_PACKAGE_flatbuffers=ON)
    run("${CMAKE_COMMAND}" --build "${WORK_DIR}/build_no_flatbuffers" -j2)
    run("${WORK_DIR}/build_no_flatbuffers/consumer")
else()
    # The checkout lies outside the consumer's tree, so add_subdirectory() needs its binary
    # directory argument; without it CMake refuses, as the README says.
    cmake_path(IS_PREFIX src "${SHMREC_SOURCE_DIR}" NORMALIZE inside)
    if(inside)
        message(FATAL_ERROR "consumer test: ${SHMREC_SOURCE_DIR} must lie outside ${src}")
    endif()
    execute_process(COMMAND "${CMAKE_COMMAND}" -S "${src}" -B "${WORK_DIR}/no_bindir" -G Ninja
                            -DCONSUMER_MODE=subdirectory_no_bindir
                            "-DSHMREC_SOURCE_DIR=${SHMREC_SOURCE_DIR}"
                    RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE out)
    string(REGEX REPLACE "[ \t\r\n]+" " " out_flat "${out}")   # CMake wraps its messages
    if(rc EQUAL 0 OR NOT out_flat MATCHES "a binary directory must be explicitly specified")
        message(FATAL_ERROR "consumer test: add_subdirectory(<outside dir>) without a binary "
                "directory did not fail as documented (${rc}):\n${out}")
    endif()
    list(APPEND configure_args "-DSHMREC_SOURCE_DIR=${SHMREC_SOURCE_DIR}")
endif()

run("${CMAKE_COMMAND}" ${configure_args})
run("${CMAKE_COMMAND}" --build "${build}" -j2)
run("${build}/consumer")

if(MODE STREQUAL "package")
    file(READ "${build}/CMakeCache.txt" cache)
    string(FIND "${cache}" "shmrec_DIR:PATH=${prefix}/" at)
    if(at EQUAL -1)
        message(FATAL_ERROR "consumer test: find_package(shmrec) did not use the moved copy ${prefix}")
    endif()
    file(READ "${build}/build.ninja" ninja)
    string(FIND "${ninja}" "${staging}" at)
    if(NOT at EQUAL -1)
        message(FATAL_ERROR "consumer test: the consumer's build names the original prefix ${staging}")
    endif()
endif()

file(GLOB_RECURSE student_hpp "${build}/*/student.shmrec.hpp")
file(GLOB_RECURSE outer_hpp "${build}/*/outer.shmrec.hpp")
file(GLOB_RECURSE enrolment_hpp "${build}/*/enrolment.shmrec.hpp")
if(NOT student_hpp OR NOT outer_hpp OR NOT enrolment_hpp)
    message(FATAL_ERROR "consumer test: generated headers not found under ${build}")
endif()
file(READ "${student_hpp}" student_v1)
file(READ "${outer_hpp}" outer_v1)
file(READ "${enrolment_hpp}" enrolment_v1)

# A rebuild with nothing changed leaves the headers alone.
file(TIMESTAMP "${outer_hpp}" outer_time_v1 "%s%f")
run("${CMAKE_COMMAND}" --build "${build}" -j2)
file(TIMESTAMP "${outer_hpp}" outer_time_again "%s%f")
if(NOT outer_time_v1 STREQUAL outer_time_again)
    message(FATAL_ERROR "consumer test: a no-op rebuild rewrote ${outer_hpp}")
endif()

# Change the schema itself: its header must follow.
file(READ "${src}/schemas/student.fbs" text)
string(REPLACE "id: long;" "id: long;\n  age: ubyte;" changed "${text}")
if(changed STREQUAL text)
    message(FATAL_ERROR "consumer test: student.fbs has no 'id: long;' to add a field after")
endif()
file(WRITE "${src}/schemas/student.fbs" "${changed}")
# Change only the included schema: the including schema's header must follow (depfile).
file(READ "${src}/schemas/common/inner.fbs" text)
string(REPLACE "a: int;" "a: int;\n  b: int;" text "${text}")
file(WRITE "${src}/schemas/common/inner.fbs" "${text}")

run("${CMAKE_COMMAND}" --build "${build}" -j2)
run("${build}/consumer")
file(READ "${student_hpp}" student_v2)
file(READ "${outer_hpp}" outer_v2)
file(READ "${enrolment_hpp}" enrolment_v2)
if(student_v1 STREQUAL student_v2 OR NOT student_v2 MATCHES "age")
    message(FATAL_ERROR "consumer test: student.shmrec.hpp was not regenerated after student.fbs changed")
endif()
if(outer_v1 STREQUAL outer_v2)
    message(FATAL_ERROR "consumer test: outer.shmrec.hpp was not regenerated after the schema it includes (inner.fbs) changed")
endif()
if(enrolment_v1 STREQUAL enrolment_v2)
    message(FATAL_ERROR "consumer test: enrolment.shmrec.hpp (a table) was not regenerated after the schema it includes (student.fbs) changed")
endif()
if(MODE STREQUAL "package")
    message(STATUS "consumer test (package): relocatable, needs no Boost/fmt (FlatBuffers only for tables); "
                   "built against the moved copy, ran, regenerated on schema changes")
else()
    message(STATUS "consumer test (subdirectory): outside checkout with a binary dir; "
                   "built, ran, regenerated on schema changes")
endif()
