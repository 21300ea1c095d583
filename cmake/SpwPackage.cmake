# The Debian package: `cpack -G DEB` in a build tree makes
# spwire_<VERSION>_<arch>.deb from what `cmake --install` installs (bin/
# spw-conform and spw-peer, share/spwire/ data, the library, its headers and
# pkg-config/CMake files). Included by the top-level CMakeLists.txt after
# every folder, so it sees every install() rule. scripts/tests/deb-install
# builds, installs, runs and removes it.
#
# Cache settings:
#   SPW_DEB_MAINTAINER  the package's Maintainer field, "Name <address>"
#
# Configure with -DCMAKE_INSTALL_PREFIX=/usr for a package: GNUInstallDirs then
# picks Debian's multiarch library directory (lib/<triplet>), and the
# installed spw-conform finds /usr/share/spwire from /usr/bin.
include_guard(GLOBAL)

set(SPW_DEB_MAINTAINER "spwire maintainers <maintainers@spwire.invalid>" CACHE STRING
    "Maintainer field of the Debian package (Name <address>)")

# The licence, when the tree has one, as Debian's copyright file.
if(EXISTS ${PROJECT_SOURCE_DIR}/LICENSE)
  install(FILES ${PROJECT_SOURCE_DIR}/LICENSE DESTINATION ${CMAKE_INSTALL_DATAROOTDIR}/doc/spwire
    RENAME copyright)
endif()

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME spwire)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_VENDOR spwire)
set(CPACK_PACKAGE_CONTACT "${SPW_DEB_MAINTAINER}")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "conformance gate and black-box fuzzer for SP (NNG/nanomsg) transports")
# the long description; CPack puts the summary above it as the synopsis line
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "spw-conform runs a catalogue of conformance cases against an implementation
of the SP socket transport or SP over TCP (NNG, nanomsg, their bindings, an
independent implementation), gives each case a verdict, writes JUnit and
JSON reports, and fuzzes the implementation black-box. spw-peer is spwire's
own reference peer; libspwire is its transport library.")
# spwire_0.1.0_amd64.deb: Debian's own naming, the architecture from dpkg
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SPW_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# Depends from what the binaries really link (dpkg-shlibdeps, in dpkg-dev)
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_STRIP_FILES ON)
include(CPack)

# The package end to end on this machine (scripts/tests/deb-install: its own
# release tree with -Werror, cpack, dpkg -i, a short run from /usr/bin, dpkg
# -P). Label `package`, in the gate's default preset. Exit 3 (it refuses to
# touch an installation it did not make, or has no root) is a SKIP, visible
# in ctest's summary, never a pass.
if(BUILD_TESTING AND SPW_BUILD_TESTS AND CMAKE_HOST_SYSTEM_NAME STREQUAL "Linux")
  add_test(NAME package.deb
    COMMAND bash ${PROJECT_SOURCE_DIR}/scripts/tests/deb-install
            --build ${CMAKE_BINARY_DIR}/deb-test -j 2)
  set_tests_properties(package.deb PROPERTIES LABELS package TIMEOUT 900
    SKIP_RETURN_CODE 3 RUN_SERIAL TRUE)
endif()
