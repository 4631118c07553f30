# ASan+UBSan for the whole build (tests, apps, fuzzers). UBSan findings abort so ctest sees them.
if(CALLBRIDGE_SANITIZE)
  add_compile_options(-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  add_link_options(-fsanitize=address,undefined)
endif()

if(CALLBRIDGE_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "CALLBRIDGE_FUZZ needs clang (configure with CXX=clang++ CC=clang)")
  endif()
  # Instrument everything for coverage; only the fuzz executables link libFuzzer's main.
  add_compile_options(-fsanitize=fuzzer-no-link)
endif()
