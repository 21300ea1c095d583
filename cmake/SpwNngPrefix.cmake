# The packaged NNG releases in private prefixes (scripts/deps/nng110,
# nng112, through scripts/deps/nng-packaged): where they are, read once for
# every folder, and how a program links against one. Included by the
# top-level CMakeLists.txt (and by conformance/peers configured on its own).
#
# Cache settings: SPW_NNG110_PREFIX, SPW_NNG112_PREFIX (default: the
# environment variables of the same names), each the prefix holding env and
# root/.
# Sets, for each release t in SPW_NNG_PACKAGED (nng110 nng112), with T its
# upper case:
#   SPW_T_FOUND    TRUE when SPW_T_PREFIX/env was read and nng.h, libnng.so
#                  and the loader it names exist; FALSE otherwise (the
#                  others then unset)
#   SPW_T_INCLUDE  include dir (holds nng/nng.h)
#   SPW_T_LIBDIR   dir holding libnng.so
#   SPW_T_LOADER   the suite's dynamic loader
#   SPW_T_LIBPATH  colon list of the prefix's library dirs
#   SPW_T_VERSION  the NNG release (package version)
# and spw_nng_link(TARGET t [DIRECT]) below.
#
# NNG 1.5.2 built from Debian's sources by scripts/deps/src-libs, one
# directory per flavour: SPW_NNG_SRC_ROOT (cache, default the environment
# variable of that name) is the install directory src-libs reports without
# its flavour (build/deps/src/nng-1.5.2). fuzz/ links its fuzz_nng target
# against it, conformance/peers its sanitizer-built peer; see
# spw_nng_src_lib() below.
include_guard(GLOBAL)

set(SPW_NNG_SRC_ROOT "$ENV{SPW_NNG_SRC_ROOT}" CACHE PATH
    "nng built by scripts/deps/src-libs (holds <flavour>/lib/libnng.a)")

# spw_nng_src_lib(FLAVOUR OUT) -- OUT the static libnng.a of that src-libs
# flavour under SPW_NNG_SRC_ROOT, or empty when it is not there.
function(spw_nng_src_lib flavour out)
  set(a "${SPW_NNG_SRC_ROOT}/${flavour}/lib/libnng.a")
  if(SPW_NNG_SRC_ROOT AND EXISTS "${a}" AND EXISTS "${SPW_NNG_SRC_ROOT}/${flavour}/include/nng/nng.h")
    set(${out} "${a}" PARENT_SCOPE)
  else()
    set(${out} "" PARENT_SCOPE)
  endif()
endfunction()

set(SPW_NNG_PACKAGED nng110 nng112)
set(SPW_NNG110_PREFIX "$ENV{SPW_NNG110_PREFIX}" CACHE PATH
    "Prefix made by scripts/deps/nng110 (holds env and root/)")
set(SPW_NNG112_PREFIX "$ENV{SPW_NNG112_PREFIX}" CACHE PATH
    "Prefix made by scripts/deps/nng112 (holds env and root/)")

# _spw_nng_prefix_read(TAG PREFIX OUT) -- the one reader of the env file that
# scripts/deps/nng-packaged writes into a prefix. TAG is that release's
# variable prefix in the file (NNG110, NNG112); sets OUT_FOUND and the
# others as listed above.
# The file is shell: bash sources it, so quoting is bash's, not ours.
function(_spw_nng_prefix_read tag prefix out)
  set(${out}_FOUND FALSE PARENT_SCOPE)
  if(NOT prefix OR NOT EXISTS "${prefix}/env")
    return()
  endif()
  set(fields INCLUDE LIBDIR LOADER LIBPATH VERSION)
  set(names "")
  foreach(f IN LISTS fields)
    list(APPEND names ${tag}_${f})
  endforeach()
  # A bracket argument: CMake must not expand the shell's ${!n}.
  execute_process(
    COMMAND bash -c [=[. "$1" && shift && for n in "$@"; do printf '%s\n' "${!n}"; done]=]
            spw "${prefix}/env" ${names}
    OUTPUT_VARIABLE env RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
  if(NOT rc EQUAL 0)
    return()
  endif()
  string(REPLACE "\n" ";" env "${env}")
  list(LENGTH env n)
  list(LENGTH fields nf)
  if(NOT n EQUAL nf)
    return()
  endif()
  set(i 0)
  foreach(f IN LISTS fields)
    list(GET env ${i} v)
    if(v STREQUAL "")
      return()
    endif()
    set(val_${f} "${v}")
    math(EXPR i "${i} + 1")
  endforeach()
  if(NOT EXISTS "${val_INCLUDE}/nng/nng.h" OR NOT EXISTS "${val_LIBDIR}/libnng.so"
     OR NOT EXISTS "${val_LOADER}")
    return()
  endif()
  foreach(f IN LISTS fields)
    set(${out}_${f} "${val_${f}}" PARENT_SCOPE)
  endforeach()
  set(${out}_FOUND TRUE PARENT_SCOPE)
endfunction()

foreach(_t IN LISTS SPW_NNG_PACKAGED)
  string(TOUPPER ${_t} _tag)
  _spw_nng_prefix_read(${_tag} "${SPW_${_tag}_PREFIX}" SPW_${_tag})
endforeach()

# spw_nng_link(TARGET t [DIRECT]) -- TARGET compiled against the headers and
# linked against the libnng.so of packaged release t (nng110, nng112; its
# SPW_T_FOUND must be TRUE). The library needs symbols only its suite's glibc
# has: the link does not check its dependencies, and the program runs
# through the prefix's loader -- a wrapper or the caller passes
# SPW_T_LOADER and SPW_T_LIBPATH. DIRECT instead makes that loader the
# executable's program interpreter and the prefix's library dirs its
# DT_RPATH (unlike RUNPATH it also serves libnng's own dependencies), so it
# runs by name: what libFuzzer's -fork/-merge and afl-fuzz need.
function(spw_nng_link target t)
  cmake_parse_arguments(PARSE_ARGV 2 arg "DIRECT" "" "")
  string(TOUPPER ${t} tag)
  if(NOT SPW_${tag}_FOUND)
    message(FATAL_ERROR "spw_nng_link(${target} ${t}): no packaged NNG in SPW_${tag}_PREFIX='${SPW_${tag}_PREFIX}'")
  endif()
  target_include_directories(${target} BEFORE PRIVATE ${SPW_${tag}_INCLUDE})
  target_link_libraries(${target} PRIVATE "${SPW_${tag}_LIBDIR}/libnng.so")
  target_link_options(${target} PRIVATE -Wl,--allow-shlib-undefined)
  if(arg_DIRECT)
    target_link_options(${target} PRIVATE "-Wl,--dynamic-linker=${SPW_${tag}_LOADER}"
      -Wl,--disable-new-dtags "-Wl,-rpath,${SPW_${tag}_LIBPATH}")
  endif()
  set_target_properties(${target} PROPERTIES SKIP_BUILD_RPATH ON)
endfunction()
