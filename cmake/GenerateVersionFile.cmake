# The version lives in project(); this writes it where the code can see it.
configure_file(${CMAKE_CURRENT_LIST_DIR}/version.hpp.in
               ${CMAKE_BINARY_DIR}/generated/herald/version.hpp @ONLY)
