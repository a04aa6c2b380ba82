# herald_settings: language level and sanitizers, carried by an INTERFACE target.
add_library(herald_settings INTERFACE)
target_compile_features(herald_settings INTERFACE cxx_std_20)
set(CMAKE_CXX_EXTENSIONS OFF)

if(HERALD_SANITIZE)
  target_compile_options(herald_settings INTERFACE -fsanitize=address,undefined
                         -fno-omit-frame-pointer -fno-sanitize-recover=undefined)
  target_link_options(herald_settings INTERFACE -fsanitize=address,undefined)
endif()
