# The install locations the code needs at run time (generated units run the installed herald and
# read its installed router templates), fixed when the build is configured: a build configured
# with -DCMAKE_INSTALL_PREFIX=/opt writes /opt/bin/herald into its units.
configure_file(${CMAKE_CURRENT_LIST_DIR}/install_paths.hpp.in
               ${CMAKE_BINARY_DIR}/generated/herald/install_paths.hpp @ONLY)
