# Builds tests/codegen/consumer in WORK_DIR as a user would, then checks that headers are
# regenerated when a schema, or a schema it includes, changes, and only then.
#
#   cmake -DMODE=subdirectory|package -DSHMREC_SOURCE_DIR=... -DSHMREC_BUILD_DIR=...
#         -DCONSUMER_SOURCE=... -DWORK_DIR=... [-DCXX_COMPILER=...] -P consumer_test.cmake
#
# MODE=package first runs `cmake --install SHMREC_BUILD_DIR --prefix WORK_DIR/prefix`.
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
file(COPY "${SHMREC_SOURCE_DIR}/schema/student.fbs" DESTINATION "${src}/schemas")

set(configure_args -S "${src}" -B "${build}" -G Ninja -DCONSUMER_MODE=${MODE})
if(CXX_COMPILER)
    list(APPEND configure_args "-DCMAKE_CXX_COMPILER=${CXX_COMPILER}")
endif()
if(MODE STREQUAL "package")
    set(prefix "${WORK_DIR}/prefix")
    run("${CMAKE_COMMAND}" --install "${SHMREC_BUILD_DIR}" --prefix "${prefix}")
    list(APPEND configure_args "-DCMAKE_PREFIX_PATH=${prefix}")
else()
    list(APPEND configure_args "-DSHMREC_SOURCE_DIR=${SHMREC_SOURCE_DIR}")
endif()

run("${CMAKE_COMMAND}" ${configure_args})
run("${CMAKE_COMMAND}" --build "${build}" -j2)
run("${build}/consumer")

file(GLOB_RECURSE student_hpp "${build}/*/student.shmrec.hpp")
file(GLOB_RECURSE outer_hpp "${build}/*/outer.shmrec.hpp")
if(NOT student_hpp OR NOT outer_hpp)
    message(FATAL_ERROR "consumer test: generated headers not found under ${build}")
endif()
file(READ "${student_hpp}" student_v1)
file(READ "${outer_hpp}" outer_v1)

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
if(student_v1 STREQUAL student_v2 OR NOT student_v2 MATCHES "age")
    message(FATAL_ERROR "consumer test: student.shmrec.hpp was not regenerated after student.fbs changed")
endif()
if(outer_v1 STREQUAL outer_v2)
    message(FATAL_ERROR "consumer test: outer.shmrec.hpp was not regenerated after the schema it includes (inner.fbs) changed")
endif()
message(STATUS "consumer test (${MODE}): built, ran, regenerated on schema changes")
