#include "herald/core/duration.hpp"

#include "herald/core/error.hpp"

#include <cmath>
#include <cstdlib>
#include <fmt/format.h>

namespace herald {

namespace {

[[noreturn]] void bad_duration(std::string_view text, std::string_view what) {
  throw Error(ErrorKind::usage,
              fmt::format("invalid duration '{}' for {}: use a number with a unit, such as 500ms, "
                          "45s, 1m30s or 2h",
                          text, what));
}

double unit_millis(std::string_view unit) {
  if (unit == "ms") {
    return 1.0;
  }
  if (unit == "s" || unit.empty()) {
    return 1000.0;
  }
  if (unit == "m" || unit == "min") {
    return 60'000.0;
  }
  if (unit == "h") {
    return 3'600'000.0;
  }
  if (unit == "us" || unit == "µs") {
    return 0.001;
  }
  return -1.0;
}

} // namespace

std::chrono::milliseconds parse_duration(std::string_view text, std::string_view what) {
  if (text.empty()) {
    bad_duration(text, what);
  }
  std::size_t pos = 0;
  double total = 0;
  bool bare_number = true;
  while (pos < text.size()) {
    std::size_t start = pos;
    while (pos < text.size() && ((text[pos] >= '0' && text[pos] <= '9') || text[pos] == '.')) {
      ++pos;
    }
    if (pos == start) {
      bad_duration(text, what);
    }
    std::string number(text.substr(start, pos - start));
    char* end = nullptr;
    double value = std::strtod(number.c_str(), &end);
    if (end != number.c_str() + number.size()) {
      bad_duration(text, what);
    }
    std::size_t unit_start = pos;
    while (pos < text.size() && !((text[pos] >= '0' && text[pos] <= '9') || text[pos] == '.')) {
      ++pos;
    }
    std::string_view unit = text.substr(unit_start, pos - unit_start);
    if (!unit.empty()) {
      bare_number = false;
    } else if (!bare_number || unit_start != text.size() || start != 0) {
      // A unitless number is only allowed alone ("60"), never inside "1m30".
      bad_duration(text, what);
    }
    double factor = unit_millis(unit);
    if (factor < 0) {
      bad_duration(text, what);
    }
    total += value * factor;
  }
  if (!std::isfinite(total) || total > 1e15) {
    bad_duration(text, what);
  }
  return std::chrono::milliseconds(static_cast<long long>(std::llround(total)));
}

std::string format_duration(std::chrono::milliseconds d) {
  long long ms = d.count();
  std::string sign;
  if (ms < 0) {
    sign = "-";
    ms = -ms;
  }
  if (ms < 1000) {
    return fmt::format("{}{}ms", sign, ms);
  }
  long long total_s = ms / 1000;
  long long rest_ms = ms % 1000;
  long long h = total_s / 3600;
  long long m = (total_s % 3600) / 60;
  long long s = total_s % 60;
  std::string out = sign;
  if (h > 0) {
    out += fmt::format("{}h", h);
  }
  if (m > 0) {
    out += fmt::format("{}m", m);
  }
  if (s > 0 || rest_ms > 0) {
    if (rest_ms > 0) {
      std::string frac = fmt::format("{:03}", rest_ms);
      while (!frac.empty() && frac.back() == '0') {
        frac.pop_back();
      }
      out += fmt::format("{}.{}s", s, frac);
    } else {
      out += fmt::format("{}s", s);
    }
  }
  return out;
}

} // namespace herald
