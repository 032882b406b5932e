# Compiler launcher and warnings shared by every ScaleLab target.

# ccache, when present. BASEDIR + NOHASHDIR make paths relative, so a fresh clone in another
# folder (as CI makes) still hits the cache.
find_program(SCALELAB_CCACHE ccache)
if(SCALELAB_CCACHE AND NOT CMAKE_CXX_COMPILER_LAUNCHER)
    set(CMAKE_CXX_COMPILER_LAUNCHER
        ${CMAKE_COMMAND} -E env
        "CCACHE_BASEDIR=${CMAKE_SOURCE_DIR}" "CCACHE_NOHASHDIR=1"
        "CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime"
        ${SCALELAB_CCACHE})
    message(STATUS "ScaleLab: using ccache (${SCALELAB_CCACHE})")
endif()

# scalelab_warnings(target): the warning set every first-party target compiles with.
function(scalelab_warnings target)
    if(CMAKE_CXX_COMPILER_ID MATCHES "GNU|Clang")
        target_compile_options(${target} PRIVATE -Wall -Wextra -Wno-unused-parameter)
    endif()
endfunction()

# scalelab_torch_pch(target): reuse the core's precompiled torch header where possible.
function(scalelab_torch_pch target)
    if(SCALELAB_USE_PCH)
        target_precompile_headers(${target} REUSE_FROM scalelab_core)
    endif()
endfunction()

# Sanitizers and fuzzing (scripts/test.sh --sanitize, scripts/fuzz.sh). vptr checks are off: they
# report LibTorch's own cross-library casts.
option(SCALELAB_SANITIZE "Build everything with AddressSanitizer + UndefinedBehaviorSanitizer" OFF)
option(SCALELAB_FUZZ "Build the libFuzzer targets under tests/fuzz (clang only)" OFF)
if(SCALELAB_SANITIZE)
    add_compile_options(-fsanitize=address,undefined -fno-sanitize=vptr
                        -fno-sanitize-recover=undefined -fno-omit-frame-pointer -g)
    add_link_options(-fsanitize=address,undefined -fno-sanitize=vptr)
endif()
if(SCALELAB_FUZZ)
    if(NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
        message(FATAL_ERROR "SCALELAB_FUZZ needs clang (CXX=clang++)")
    endif()
    add_compile_options(-fsanitize=fuzzer-no-link)
endif()
