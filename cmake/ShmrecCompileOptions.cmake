# Warning and sanitizer flags for shmrec's own targets (never forced onto consumers).
add_library(shmrec_warnings INTERFACE)
target_compile_options(shmrec_warnings INTERFACE
    $<$<CXX_COMPILER_ID:GNU,Clang>:-Wall -Wextra -Wpedantic -Wshadow -Wconversion
        -Wno-sign-conversion -Wnon-virtual-dtor -Wold-style-cast -Wundef>)

if(SHMREC_SANITIZE)
    string(REPLACE "," ";" _shmrec_sanitizers "${SHMREC_SANITIZE}")
    foreach(_s IN LISTS _shmrec_sanitizers)
        if(NOT _s MATCHES "^(address|undefined|thread|fuzzer-no-link)$")
            message(FATAL_ERROR "SHMREC_SANITIZE: unknown sanitizer '${_s}'")
        endif()
    endforeach()
    add_compile_options(-fsanitize=${SHMREC_SANITIZE} -fno-omit-frame-pointer -g)
    add_link_options(-fsanitize=${SHMREC_SANITIZE})
    if(SHMREC_SANITIZE MATCHES "undefined")
        add_compile_options(-fno-sanitize-recover=undefined)
    endif()
endif()
