# herald_settings: language level and sanitizers, carried by an INTERFACE target.
add_library(herald_settings INTERFACE)
target_compile_features(herald_settings INTERFACE cxx_std_20)
set(CMAKE_CXX_EXTENSIONS OFF)

if(HERALD_FUZZ)
  if(NOT CMAKE_CXX_COMPILER_ID STREQUAL "Clang")
    message(FATAL_ERROR "HERALD_FUZZ needs clang (libFuzzer): configure with "
                        "-DCMAKE_CXX_COMPILER=clang++ (Debian packages clang, libclang-rt-14-dev), "
                        "or run scripts/fuzz")
  endif()
  set(HERALD_SANITIZE ON)
  # Coverage feedback for libFuzzer in every object; the harnesses link -fsanitize=fuzzer.
  target_compile_options(herald_settings INTERFACE -fsanitize=fuzzer-no-link)
endif()

if(HERALD_SANITIZE)
  target_compile_options(herald_settings INTERFACE -fsanitize=address,undefined
                         -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(herald_settings INTERFACE -fsanitize=address,undefined)
endif()
