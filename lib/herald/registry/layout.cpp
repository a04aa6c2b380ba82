#include "herald/registry/layout.hpp"
