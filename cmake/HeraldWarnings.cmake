# herald_warnings: the warning set every herald target compiles with.
add_library(herald_warnings INTERFACE)
target_compile_options(herald_warnings INTERFACE -Wall -Wextra -Wpedantic -Wshadow
                       -Wnon-virtual-dtor -Wcast-align -Woverloaded-virtual -Wimplicit-fallthrough)
if(HERALD_WERROR)
  target_compile_options(herald_warnings INTERFACE -Werror)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    # g++ 12 reports -Wrestrict/-Wstringop-overflow inside libstdc++'s std::string once inlined
    # at -O2 and -Wmaybe-uninitialized inside std::regex (GCC PR 105329, PR 105651, PR 105562): false positives in the standard library, kept as
    # warnings so they stay visible but do not fail the build.
    target_compile_options(herald_warnings INTERFACE -Wno-error=restrict
                           -Wno-error=stringop-overflow -Wno-error=array-bounds
                           -Wno-error=maybe-uninitialized)
  endif()
endif()
