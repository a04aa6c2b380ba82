# herald_warnings: the warning set every herald target compiles with.
add_library(herald_warnings INTERFACE)
target_compile_options(herald_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
if(HERALD_WERROR)
  target_compile_options(herald_warnings INTERFACE -Werror)
endif()
