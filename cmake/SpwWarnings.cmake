# SPW_WARNINGS -- the one set of warning flags for every C target of the
# suite (transport, conformance, peers, interop, bench, fuzz), with -Werror
# under SPW_WERROR (the presets turn it on). Included by the top-level
# CMakeLists.txt, and by conformance/peers when that folder is configured on
# its own. Use: target_compile_options(<target> PRIVATE ${SPW_WARNINGS}).
include_guard(GLOBAL)

option(SPW_WERROR "Treat warnings as errors" OFF)
set(SPW_WARNINGS -Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes
    -Wconversion -Wno-sign-conversion -Wformat=2 -Wvla)
if(SPW_WERROR)
  list(APPEND SPW_WARNINGS -Werror)
endif()
