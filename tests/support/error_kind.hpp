#pragma once

#include "herald/core/error.hpp"

#include <doctest/doctest.h>
#include <functional>
#include <string>

namespace herald::test {

/// The kind of the herald::Error `action` throws (and its message into `message`); fails the
/// test when it throws none.
inline ErrorKind kind_of(const std::function<void()>& action, std::string* message = nullptr) {
  try {
    action();
  } catch (const Error& e) {
    if (message != nullptr) {
      *message = e.what();
    }
    return e.kind();
  }
  FAIL("no error was thrown");
  return ErrorKind::internal;
}

} // namespace herald::test
