# ---- Installing the library (cmake --install) -------------------------------------------------
# A hypervisor team links its own host-side code against rmmemu: one shared library, librmmemu.so
# (the core: RMI, RSI, RTTs, measurement, attestation; the vCPU on Unicorn; the reference host),
# the public headers (include/rmmemu/), the rmmemu CLI, a pkg-config file (rmmemu.pc) and a CMake
# package (find_package(rmmemu) -> rmmemu::rmmemu). The engine, Unicorn 2.1.1, is not in bookworm:
# when it comes from .cache/unicorn (scripts/fetch-unicorn.sh) its libunicorn.so.2 is installed
# beside the library in LIBDIR/rmmemu/, found through the RPATH $ORIGIN/rmmemu, so the installed
# tree does not depend on the source tree. tests/cli/install.sh checks all of it.
# Sanitizer and fuzzing builds are for this project's own tests: no install rules there.
if(RMMEMU_SANITIZE OR RMMEMU_TSAN OR RMMEMU_FUZZ)
  return()
endif()
include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(RMMEMU_VERSION 0.11.0)
set(RMMEMU_LIB_SRC ${RMMEMU_CORE_SRC} ${RMMEMU_EMU_SRC} ${RMMEMU_HOST_SRC})
list(FILTER RMMEMU_LIB_SRC EXCLUDE REGEX ".*/host/cli\\.c$")   # the CLI's commands (and its embedded demo)
# The static libraries' objects are not position independent: the shared library compiles the
# same sources again (a few seconds of build time).
add_library(rmmemu_shared SHARED ${RMMEMU_LIB_SRC})
set_target_properties(rmmemu_shared PROPERTIES OUTPUT_NAME rmmemu VERSION ${RMMEMU_VERSION} SOVERSION 0
  EXPORT_NAME rmmemu)
target_include_directories(rmmemu_shared
  PUBLIC $<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>
  PRIVATE ${CMAKE_SOURCE_DIR}/include ${CMAKE_SOURCE_DIR} ${UNICORN_INCLUDE})
target_compile_options(rmmemu_shared PRIVATE ${RMMEMU_WARN})
target_link_libraries(rmmemu_shared PRIVATE ${CRYPTO_LIB} ${CBOR_LIB} ${YAML_LIB} ${FDT_LIB} ${Z_LIB}
  ${UNICORN_LIB} Threads::Threads)
target_link_options(rmmemu_shared PRIVATE -Wl,--no-undefined)

set(RMMEMU_UNICORN_BUNDLED OFF)
if(NOT UNICORN_LIBDIR MATCHES "^/usr/lib")
  set(RMMEMU_UNICORN_BUNDLED ON)
endif()
if(RMMEMU_UNICORN_BUNDLED)
  set_target_properties(rmmemu_shared PROPERTIES INSTALL_RPATH "$ORIGIN/rmmemu")
  set_target_properties(rmmemu_cli PROPERTIES
    INSTALL_RPATH "$ORIGIN/../${CMAKE_INSTALL_LIBDIR}/rmmemu")
  # libunicorn.so.2 is a symlink to the versioned file: install the file under the soname.
  get_filename_component(RMMEMU_UNICORN_REAL ${UNICORN_LIB} REALPATH)
  install(FILES ${RMMEMU_UNICORN_REAL} DESTINATION ${CMAKE_INSTALL_LIBDIR}/rmmemu
    RENAME libunicorn.so.2 PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ OWNER_EXECUTE
    GROUP_EXECUTE WORLD_EXECUTE)
endif()

install(TARGETS rmmemu_shared EXPORT rmmemuTargets
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS rmmemu_cli RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY ${CMAKE_SOURCE_DIR}/include/rmmemu DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.h")

install(EXPORT rmmemuTargets NAMESPACE rmmemu:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rmmemu)
configure_package_config_file(${CMAKE_SOURCE_DIR}/cmake/rmmemuConfig.cmake.in
  ${CMAKE_BINARY_DIR}/rmmemuConfig.cmake INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rmmemu)
write_basic_package_version_file(${CMAKE_BINARY_DIR}/rmmemuConfigVersion.cmake
  VERSION ${RMMEMU_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_BINARY_DIR}/rmmemuConfig.cmake ${CMAKE_BINARY_DIR}/rmmemuConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/rmmemu)

# pkg-config: the prefix is taken at install time (cmake --install DIR --prefix P).
configure_file(${CMAKE_SOURCE_DIR}/cmake/rmmemu.pc.in ${CMAKE_BINARY_DIR}/rmmemu.pc.in @ONLY)
install(CODE "
  file(READ \"${CMAKE_BINARY_DIR}/rmmemu.pc.in\" pc)
  string(REPLACE \"%PREFIX%\" \"\${CMAKE_INSTALL_PREFIX}\" pc \"\${pc}\")
  file(WRITE \"\$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/rmmemu.pc\" \"\${pc}\")
  message(STATUS \"Installing: \$ENV{DESTDIR}\${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig/rmmemu.pc\")
")
