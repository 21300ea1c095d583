# spw_nng_prefix(TAG PREFIX OUT) -- the one reader of the env file that
# scripts/deps/nng-packaged (through scripts/deps/nng110, nng112) writes into
# a private NNG prefix. TAG is that release's variable prefix (NNG110,
# NNG112). Sets in the caller's scope:
#   OUT_FOUND    TRUE when PREFIX/env was read and nng.h, libnng.so and the
#                loader it names exist; FALSE otherwise (the others unset)
#   OUT_INCLUDE  include dir (holds nng/nng.h)
#   OUT_LIBDIR   dir holding libnng.so
#   OUT_LOADER   the suite's dynamic loader
#   OUT_LIBPATH  colon list of the prefix's library dirs
#   OUT_VERSION  the NNG release (package version)
# The file is shell: bash sources it, so quoting is bash's, not ours.
function(spw_nng_prefix tag prefix out)
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
