# Every dependency is a Debian 12 package; nothing is downloaded. A missing one stops configure
# naming the package to install (scripts/setup installs them all).
macro(herald_require found package)
  if(NOT ${found})
    message(FATAL_ERROR "herald: missing dependency; install the Debian package '${package}' "
                        "(or run ./scripts/setup)")
  endif()
endmacro()

find_package(CURL QUIET)
herald_require(CURL_FOUND libcurl4-openssl-dev)
find_package(CLI11 CONFIG QUIET)
herald_require(CLI11_FOUND libcli11-dev)
find_package(nlohmann_json CONFIG QUIET)
herald_require(nlohmann_json_FOUND nlohmann-json3-dev)
find_package(fmt CONFIG QUIET)
herald_require(fmt_FOUND libfmt-dev)
find_package(spdlog CONFIG QUIET)
herald_require(spdlog_FOUND libspdlog-dev)
find_package(yaml-cpp CONFIG QUIET)
herald_require(yaml-cpp_FOUND libyaml-cpp-dev)
# Boost.Beast (headers only) for `herald launch serve`'s HTTP server: it costs nothing until
# used, where Debian's shared cpp-httplib would load libstdc++.so at every start of every command
# (see HERALD_LEAN_LINK below). Compiled in lib/herald/launch/server.cpp only.
find_package(Boost 1.74 QUIET)
herald_require(Boost_FOUND libboost-dev)

# A one-shot command (announce --once, deregister) spends most of its life in the dynamic loader:
# each shared C++ library adds objects to map and symbol lookups to resolve at every start, and
# libcurl's own 32 libraries are a floor we cannot go below. With HERALD_LEAN_LINK (the default)
# the C++ dependencies that are not libcurl's are linked into the binary instead: fmt and spdlog
# compiled once in herald_lib (lib/herald/core/log_compiled.cpp), toml++ header-only, yaml-cpp
# from Debian's static archive, libstdc++/libgcc statically. herald then loads libcurl's tree and
# libc only (bench/announce.py measures the effect). Off under the sanitizers, which want the
# shared runtime.
if(HERALD_SANITIZE)
  set(herald_lean_default OFF)
else()
  set(herald_lean_default ON)
endif()
option(HERALD_LEAN_LINK "Link fmt, spdlog, toml++, yaml-cpp and libstdc++ into the binary"
       ${herald_lean_default})

if(HERALD_LEAN_LINK)
  # toml++'s package config only defines its target when it does not exist yet: define it first
  # as the header-only library, so find_package below still checks the package is installed.
  find_path(HERALD_TOMLPLUSPLUS_INCLUDE toml++/toml.h)
  if(HERALD_TOMLPLUSPLUS_INCLUDE AND NOT TARGET tomlplusplus::tomlplusplus)
    add_library(tomlplusplus::tomlplusplus INTERFACE IMPORTED)
    set_target_properties(tomlplusplus::tomlplusplus PROPERTIES
      INTERFACE_INCLUDE_DIRECTORIES "${HERALD_TOMLPLUSPLUS_INCLUDE}"
      INTERFACE_COMPILE_DEFINITIONS "TOML_HEADER_ONLY=1")
  endif()
  # Debian's libyaml-cpp-dev ships libyaml-cpp.a beside the .so; point the imported target at it.
  find_library(HERALD_YAML_CPP_ARCHIVE NAMES libyaml-cpp.a)
  herald_require(HERALD_YAML_CPP_ARCHIVE libyaml-cpp-dev)
  set_target_properties(yaml-cpp PROPERTIES
    IMPORTED_LOCATION "${HERALD_YAML_CPP_ARCHIVE}"
    IMPORTED_LOCATION_NONE "${HERALD_YAML_CPP_ARCHIVE}")
  set_property(TARGET yaml-cpp PROPERTY IMPORTED_SONAME_NONE)
endif()

find_package(tomlplusplus CONFIG QUIET)
herald_require(tomlplusplus_FOUND libtomlplusplus-dev)

# herald_log_deps: fmt and spdlog as herald_lib and its users see them.
add_library(herald_log_deps INTERFACE)
if(HERALD_LEAN_LINK)
  # Headers only here; their out-of-line definitions are compiled once in herald_lib, so no TU
  # pays for the header-only mode's inline implementation.
  target_include_directories(herald_log_deps SYSTEM INTERFACE
    $<TARGET_PROPERTY:fmt::fmt,INTERFACE_INCLUDE_DIRECTORIES>
    $<TARGET_PROPERTY:spdlog::spdlog,INTERFACE_INCLUDE_DIRECTORIES>)
  target_compile_definitions(herald_log_deps INTERFACE SPDLOG_COMPILED_LIB SPDLOG_FMT_EXTERNAL)
  target_link_libraries(herald_log_deps INTERFACE Threads::Threads)
else()
  target_link_libraries(herald_log_deps INTERFACE spdlog::spdlog fmt::fmt)
endif()

# herald_link_options: how every executable linking herald_lib (herald, the tests) is linked.
add_library(herald_link_options INTERFACE)
if(HERALD_LEAN_LINK)
  # --as-needed drops any shared library nothing references; -O1 lets the linker optimise the
  # hash tables the loader searches. libc is named first so it heads the loader's search order:
  # most of the ~8900 symbol relocations of libcurl's libraries are libc symbols, found then
  # before libresolv and libm (which herald needs) are searched: about 1% fewer instructions per
  # start. libcurl exports no symbol libc also defines, so nothing resolves differently.
  target_link_options(herald_link_options INTERFACE -static-libstdc++ -static-libgcc
                      LINKER:--as-needed LINKER:-O1
                      LINKER:--push-state,--no-as-needed,-lc,--pop-state)
endif()
find_package(PkgConfig QUIET)
herald_require(PKG_CONFIG_FOUND pkg-config)
pkg_check_modules(SYSTEMD QUIET IMPORTED_TARGET libsystemd)
herald_require(SYSTEMD_FOUND libsystemd-dev)
find_package(Threads REQUIRED)

if(HERALD_BUILD_TESTS)
  find_package(doctest CONFIG QUIET)
  herald_require(doctest_FOUND doctest-dev)
  find_package(httplib CONFIG QUIET)
  if(NOT httplib_FOUND)
    pkg_check_modules(HTTPLIB QUIET IMPORTED_TARGET cpp-httplib)
    herald_require(HTTPLIB_FOUND libcpp-httplib-dev)
  endif()
endif()
