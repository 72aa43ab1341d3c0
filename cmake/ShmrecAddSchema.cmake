# shmrec_add_schema(<target> SCHEMAS <file.fbs>... [INCLUDE_DIRS <dir>...] [OUTPUT_DIR <dir>])
#
# Generates <stem>.shmrec.hpp for every schema at build time with shmrec-gen and creates the
# INTERFACE library <target>: link it and `#include "<stem>.shmrec.hpp"`. It carries the
# generated headers' directory and links shmrec::runtime.
#
# A schema that declares tables gets its C++ from flatc: shmrec-gen runs the flatc of the
# target flatbuffers::flatc, as it exists where this file is included (find_package(FlatBuffers):
# done by shmrec's own CMakeLists.txt and by shmrecConfig.cmake; the cross build imports the
# build machine's, ShmrecHostGen.cmake) and embeds its output. <target> then also carries
# FlatBuffers' include directory. Without flatbuffers::flatc, schemas of structs only still
# work; one with tables fails to generate, and shmrec-gen's message says why.
#
#   SCHEMAS       the .fbs files; relative paths are relative to CMAKE_CURRENT_SOURCE_DIR.
#                 A schema another one includes must be listed too (it needs its own header).
#   INCLUDE_DIRS  where `include "x.fbs";` is looked up (passed as -I); relative paths are
#                 relative to CMAKE_CURRENT_SOURCE_DIR. The schema's own directory is searched
#                 last, as flatc does.
#   OUTPUT_DIR    where the headers go; default ${CMAKE_CURRENT_BINARY_DIR}/<target>_shmrec.
#
# Headers are regenerated when a schema, a schema it includes (through a depfile), the
# generator or flatc changes. The generator is the target shmrec::gen: an ALIAS of shmrec-gen in a
# source tree (add_subdirectory), an IMPORTED executable after find_package(shmrec).
# This file is installed next to shmrecConfig.cmake, so it uses no source-tree paths.

include_guard(GLOBAL)

# Functions keep the policies in force where they are defined: DEPFILE paths are then
# converted by CMake for Ninja (CMP0116) whatever the consumer's cmake_minimum_required.
cmake_policy(PUSH)
cmake_policy(VERSION 3.20...3.25)

# Imported targets are visible only in the directory that imported them and below, but a
# project that add_subdirectory()s shmrec calls shmrec_add_schema() from its own directories.
# So flatc and FlatBuffers' include directory are remembered where this file is included
# (shmrec's top directory, or where find_package(shmrec) ran), for the function to use anywhere.
if(TARGET flatbuffers::flatc)
    get_target_property(_shmrec_flatc flatbuffers::flatc LOCATION)
    set_property(GLOBAL PROPERTY SHMREC_FLATC_EXECUTABLE "${_shmrec_flatc}")
endif()
if(TARGET flatbuffers::flatbuffers)
    get_target_property(_shmrec_fb_dirs flatbuffers::flatbuffers INTERFACE_INCLUDE_DIRECTORIES)
    set_property(GLOBAL PROPERTY SHMREC_FLATBUFFERS_INCLUDE_DIRS "${_shmrec_fb_dirs}")
endif()

function(shmrec_add_schema target)
    cmake_parse_arguments(PARSE_ARGV 1 arg "" "OUTPUT_DIR" "SCHEMAS;INCLUDE_DIRS")
    if(arg_UNPARSED_ARGUMENTS)
        message(FATAL_ERROR
            "shmrec_add_schema(${target}): unexpected arguments '${arg_UNPARSED_ARGUMENTS}'. "
            "Usage: shmrec_add_schema(<target> SCHEMAS <file.fbs>... "
            "[INCLUDE_DIRS <dir>...] [OUTPUT_DIR <dir>])")
    endif()
    if(NOT arg_SCHEMAS)
        message(FATAL_ERROR
            "shmrec_add_schema(${target}): no SCHEMAS given. "
            "Usage: shmrec_add_schema(<target> SCHEMAS <file.fbs>... "
            "[INCLUDE_DIRS <dir>...] [OUTPUT_DIR <dir>])")
    endif()
    if(TARGET ${target})
        message(FATAL_ERROR "shmrec_add_schema(${target}): a target named '${target}' already exists")
    endif()
    if(NOT TARGET shmrec::gen)
        message(FATAL_ERROR
            "shmrec_add_schema(${target}): the generator target shmrec::gen does not exist. "
            "Use find_package(shmrec) or add_subdirectory(<shmrec source dir>) first.")
    endif()
    if(NOT TARGET shmrec::runtime)
        message(FATAL_ERROR
            "shmrec_add_schema(${target}): the target shmrec::runtime does not exist. "
            "Use find_package(shmrec) or add_subdirectory(<shmrec source dir>) first.")
    endif()

    if(arg_OUTPUT_DIR)
        cmake_path(ABSOLUTE_PATH arg_OUTPUT_DIR BASE_DIRECTORY "${CMAKE_CURRENT_BINARY_DIR}"
                   NORMALIZE OUTPUT_VARIABLE out_dir)
    else()
        set(out_dir "${CMAKE_CURRENT_BINARY_DIR}/${target}_shmrec")
    endif()

    set(include_args "")
    foreach(dir IN LISTS arg_INCLUDE_DIRS)
        cmake_path(ABSOLUTE_PATH dir BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE
                   OUTPUT_VARIABLE abs_dir)
        if(NOT IS_DIRECTORY "${abs_dir}")
            message(FATAL_ERROR
                "shmrec_add_schema(${target}): INCLUDE_DIRS entry '${dir}' is not a directory "
                "(looked for ${abs_dir})")
        endif()
        list(APPEND include_args -I "${abs_dir}")
    endforeach()

    # flatc for tables: a new flatc may write other code, so its file is a dependency.
    set(flatc_args "")
    get_property(flatc GLOBAL PROPERTY SHMREC_FLATC_EXECUTABLE)
    if(flatc)
        set(flatc_args --flatc "${flatc}")
    endif()

    set(headers "")
    set(stems "")
    foreach(schema IN LISTS arg_SCHEMAS)
        cmake_path(ABSOLUTE_PATH schema BASE_DIRECTORY "${CMAKE_CURRENT_SOURCE_DIR}" NORMALIZE
                   OUTPUT_VARIABLE abs_schema)
        if(NOT EXISTS "${abs_schema}" OR IS_DIRECTORY "${abs_schema}")
            message(FATAL_ERROR
                "shmrec_add_schema(${target}): schema '${schema}' not found "
                "(looked for ${abs_schema})")
        endif()
        cmake_path(GET abs_schema STEM LAST_ONLY stem)
        if(stem IN_LIST stems)
            message(FATAL_ERROR
                "shmrec_add_schema(${target}): two schemas are named '${stem}'; both would "
                "generate ${stem}.shmrec.hpp")
        endif()
        list(APPEND stems "${stem}")

        set(header "${out_dir}/${stem}.shmrec.hpp")
        add_custom_command(
            OUTPUT "${header}"
            COMMAND shmrec::gen ${include_args} ${flatc_args} -o "${out_dir}"
                    --depfile "${out_dir}/${stem}.shmrec.d" "${abs_schema}"
            DEPENDS "${abs_schema}" shmrec::gen ${flatc}
            DEPFILE "${out_dir}/${stem}.shmrec.d"
            COMMENT "shmrec-gen: ${stem}.shmrec.hpp from ${schema}"
            VERBATIM)
        list(APPEND headers "${header}")
    endforeach()

    add_custom_target(${target}_generate DEPENDS ${headers})
    add_library(${target} INTERFACE)
    target_include_directories(${target} INTERFACE "$<BUILD_INTERFACE:${out_dir}>")
    target_link_libraries(${target} INTERFACE shmrec::runtime)
    # flatc's code of a table schema includes flatbuffers/flatbuffers.h (header-only for what
    # it uses, so the include directory and no library). SYSTEM: it is not our code to warn on.
    get_property(fb_dirs GLOBAL PROPERTY SHMREC_FLATBUFFERS_INCLUDE_DIRS)
    if(fb_dirs)
        target_include_directories(${target} SYSTEM INTERFACE ${fb_dirs})
    endif()
    target_compile_features(${target} INTERFACE cxx_std_20)
    add_dependencies(${target} ${target}_generate)
    set_target_properties(${target} PROPERTIES SHMREC_GENERATED_HEADERS "${headers}")
endfunction()

cmake_policy(POP)
