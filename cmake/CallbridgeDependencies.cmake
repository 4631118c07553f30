# Debian 12 packages. CAF 0.17 ships no CMake config or .pc file, so its targets are imported by hand.
find_package(Threads REQUIRED)
find_package(PkgConfig REQUIRED)
find_package(RapidJSON CONFIG REQUIRED)
find_package(fmt REQUIRED)
# libcrypto (HMAC for the post-call webhook) is used by the pure protocol layer too.
find_package(OpenSSL REQUIRED)
pkg_check_modules(SPEEXDSP REQUIRED IMPORTED_TARGET speexdsp)

# RapidJSON's config sets variables only; give it a target. SYSTEM keeps its headers out of -Werror.
add_library(RapidJSON::RapidJSON INTERFACE IMPORTED)
set_target_properties(RapidJSON::RapidJSON PROPERTIES INTERFACE_SYSTEM_INCLUDE_DIRECTORIES "${RAPIDJSON_INCLUDE_DIRS}"
  INTERFACE_COMPILE_DEFINITIONS "RAPIDJSON_HAS_STDSTRING=1")

if(CALLBRIDGE_TESTS)
  find_package(Catch2 REQUIRED)
  include(Catch)
endif()

if(NOT CALLBRIDGE_PURE_ONLY)
  find_package(libwebsockets CONFIG REQUIRED)
  find_path(CAF_INCLUDE_DIR caf/all.hpp REQUIRED)
  find_library(CAF_CORE_LIBRARY caf_core REQUIRED)
  find_library(CAF_IO_LIBRARY caf_io REQUIRED)
  add_library(CAF::core SHARED IMPORTED)
  set_target_properties(CAF::core PROPERTIES IMPORTED_LOCATION ${CAF_CORE_LIBRARY}
    INTERFACE_SYSTEM_INCLUDE_DIRECTORIES ${CAF_INCLUDE_DIR} INTERFACE_LINK_LIBRARIES Threads::Threads)
  add_library(CAF::io SHARED IMPORTED)
  set_target_properties(CAF::io PROPERTIES IMPORTED_LOCATION ${CAF_IO_LIBRARY} INTERFACE_LINK_LIBRARIES CAF::core)
endif()
