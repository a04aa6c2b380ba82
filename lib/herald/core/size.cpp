#include "herald/core/size.hpp"

#include "herald/core/error.hpp"

#include <cctype>
#include <fmt/format.h>
#include <limits>

namespace herald {

namespace {

[[noreturn]] void bad_size(std::string_view text, std::string_view what) {
  throw Error(ErrorKind::usage,
              fmt::format("invalid size '{}' for {}: use a whole number of bytes with an "
                          "optional unit, such as 512K, 64M or 1G",
                          text, what));
}

/// The power of 1024 a unit stands for, or -1.
int unit_shift(std::string_view unit) {
  std::string u;
  for (char c : unit) {
    u += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  }
  if (u.empty() || u == "B") {
    return 0;
  }
  if (u.ends_with("IB")) {
    u.erase(u.size() - 2);
  } else if (u.size() == 2 && u.back() == 'B') {
    u.pop_back();
  }
  if (u == "K") {
    return 10;
  }
  if (u == "M") {
    return 20;
  }
  if (u == "G") {
    return 30;
  }
  if (u == "T") {
    return 40;
  }
  return -1;
}

} // namespace

std::size_t parse_size(std::string_view text, std::string_view what) {
  std::size_t pos = 0;
  std::size_t value = 0;
  while (pos < text.size() && text[pos] >= '0' && text[pos] <= '9') {
    std::size_t digit = static_cast<std::size_t>(text[pos] - '0');
    if (value > (std::numeric_limits<std::size_t>::max() - digit) / 10) {
      bad_size(text, what);
    }
    value = value * 10 + digit;
    ++pos;
  }
  if (pos == 0) {
    bad_size(text, what);
  }
  std::string_view unit = text.substr(pos);
  while (!unit.empty() && unit.front() == ' ') {
    unit.remove_prefix(1);
  }
  int shift = unit_shift(unit);
  if (shift < 0 || value == 0 || value > (std::numeric_limits<std::size_t>::max() >> shift)) {
    bad_size(text, what);
  }
  return value << shift;
}

std::string format_size(std::size_t bytes) {
  static constexpr const char* k_units[] = {"TiB", "GiB", "MiB", "KiB"};
  int shift = 40;
  for (const char* unit : k_units) {
    std::size_t step = std::size_t{1} << shift;
    if (bytes >= step && bytes % step == 0) {
      return fmt::format("{} {}", bytes / step, unit);
    }
    shift -= 10;
  }
  return fmt::format("{} bytes", bytes);
}

} // namespace herald
