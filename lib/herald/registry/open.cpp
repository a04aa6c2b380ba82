#include "herald/registry/registry.hpp"
