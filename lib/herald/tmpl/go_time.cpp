#include "herald/tmpl/go_time.hpp"

#include <chrono>
#include <ctime>

namespace herald::tmpl::go {
namespace {

// Go's monotonic readings count from process start; this is the closest stand-in.
const auto k_process_start = std::chrono::steady_clock::now();

constexpr const char* k_long_days[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                                       "Thursday", "Friday", "Saturday"};
constexpr const char* k_long_months[] = {"January",   "February", "March",    "April",
                                         "May",       "June",     "July",     "August",
                                         "September", "October",  "November", "December"};

enum Std {
  std_none,
  std_long_month,
  std_month,
  std_num_month,
  std_zero_month,
  std_long_week_day,
  std_week_day,
  std_day,
  std_under_day,
  std_zero_day,
  std_under_year_day,
  std_zero_year_day,
  std_hour,
  std_hour12,
  std_zero_hour12,
  std_minute,
  std_zero_minute,
  std_second,
  std_zero_second,
  std_long_year,
  std_year,
  std_pm,
  std_lower_pm,
  std_tz,
  std_iso8601_tz,
  std_iso8601_seconds_tz,
  std_iso8601_short_tz,
  std_iso8601_colon_tz,
  std_iso8601_colon_seconds_tz,
  std_num_tz,
  std_num_seconds_tz,
  std_num_short_tz,
  std_num_colon_tz,
  std_num_colon_seconds_tz,
  std_frac_second0,
  std_frac_second9
};

struct Chunk {
  std::string_view prefix;
  Std std = std_none;
  int frac_digits = 0;
  char frac_sep = '.';
  std::string_view suffix;
};

bool starts_with_lower(std::string_view s) {
  return !s.empty() && s[0] >= 'a' && s[0] <= 'z';
}

bool is_digit_at(std::string_view s, std::size_t i) {
  return i < s.size() && s[i] >= '0' && s[i] <= '9';
}

// Go's nextStdChunk: the text before the first layout element, the element, and the rest.
Chunk next_std_chunk(std::string_view layout) {
  auto at = [&](std::size_t i, std::string_view lit) { return layout.substr(i).starts_with(lit); };
  auto make = [&](std::size_t i, Std s, std::size_t len) {
    return Chunk{layout.substr(0, i), s, 0, '.', layout.substr(i + len)};
  };
  for (std::size_t i = 0; i < layout.size(); ++i) {
    char c = layout[i];
    switch (c) {
    case 'J':
      if (at(i, "Jan")) {
        if (at(i, "January")) {
          return make(i, std_long_month, 7);
        }
        if (!starts_with_lower(layout.substr(i + 3))) {
          return make(i, std_month, 3);
        }
      }
      break;
    case 'M':
      if (at(i, "Mon")) {
        if (at(i, "Monday")) {
          return make(i, std_long_week_day, 6);
        }
        if (!starts_with_lower(layout.substr(i + 3))) {
          return make(i, std_week_day, 3);
        }
      }
      if (at(i, "MST")) {
        return make(i, std_tz, 3);
      }
      break;
    case '0':
      if (i + 1 < layout.size() && layout[i + 1] >= '1' && layout[i + 1] <= '6') {
        static constexpr Std std0x[] = {std_zero_month,  std_zero_day,    std_zero_hour12,
                                        std_zero_minute, std_zero_second, std_year};
        return make(i, std0x[layout[i + 1] - '1'], 2);
      }
      if (at(i, "002")) {
        return make(i, std_zero_year_day, 3);
      }
      break;
    case '1':
      if (at(i, "15")) {
        return make(i, std_hour, 2);
      }
      return make(i, std_num_month, 1);
    case '2':
      if (at(i, "2006")) {
        return make(i, std_long_year, 4);
      }
      return make(i, std_day, 1);
    case '_':
      if (i + 1 < layout.size() && layout[i + 1] == '2') {
        if (at(i + 1, "2006")) {
          return Chunk{layout.substr(0, i + 1), std_long_year, 0, '.', layout.substr(i + 5)};
        }
        return make(i, std_under_day, 2);
      }
      if (at(i, "__2")) {
        return make(i, std_under_year_day, 3);
      }
      break;
    case '3':
      return make(i, std_hour12, 1);
    case '4':
      return make(i, std_minute, 1);
    case '5':
      return make(i, std_second, 1);
    case 'P':
      if (at(i, "PM")) {
        return make(i, std_pm, 2);
      }
      break;
    case 'p':
      if (at(i, "pm")) {
        return make(i, std_lower_pm, 2);
      }
      break;
    case '-':
      if (at(i, "-070000")) {
        return make(i, std_num_seconds_tz, 7);
      }
      if (at(i, "-07:00:00")) {
        return make(i, std_num_colon_seconds_tz, 9);
      }
      if (at(i, "-0700")) {
        return make(i, std_num_tz, 5);
      }
      if (at(i, "-07:00")) {
        return make(i, std_num_colon_tz, 6);
      }
      if (at(i, "-07")) {
        return make(i, std_num_short_tz, 3);
      }
      break;
    case 'Z':
      if (at(i, "Z070000")) {
        return make(i, std_iso8601_seconds_tz, 7);
      }
      if (at(i, "Z07:00:00")) {
        return make(i, std_iso8601_colon_seconds_tz, 9);
      }
      if (at(i, "Z0700")) {
        return make(i, std_iso8601_tz, 5);
      }
      if (at(i, "Z07:00")) {
        return make(i, std_iso8601_colon_tz, 6);
      }
      if (at(i, "Z07")) {
        return make(i, std_iso8601_short_tz, 3);
      }
      break;
    case '.':
    case ',':
      if (i + 1 < layout.size() && (layout[i + 1] == '0' || layout[i + 1] == '9')) {
        char ch = layout[i + 1];
        std::size_t j = i + 1;
        while (j < layout.size() && layout[j] == ch) {
          ++j;
        }
        if (!is_digit_at(layout, j)) {
          Chunk chunk{layout.substr(0, i), ch == '9' ? std_frac_second9 : std_frac_second0,
                      static_cast<int>(j - (i + 1)), c, layout.substr(j)};
          return chunk;
        }
      }
      break;
    default:
      break;
    }
  }
  return Chunk{layout, std_none, 0, '.', {}};
}

void append_int(std::string& b, long long x, int width) {
  if (x < 0) {
    b += '-';
    x = -x;
  }
  std::string digits = std::to_string(x);
  for (int i = static_cast<int>(digits.size()); i < width; ++i) {
    b += '0';
  }
  b += digits;
}

long long floor_div(long long a, long long b) {
  long long q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) {
    --q;
  }
  return q;
}

// Howard Hinnant's civil_from_days.
void civil_from_days(long long z, int& y, int& m, int& d) {
  z += 719468;
  long long era = (z >= 0 ? z : z - 146096) / 146097;
  long long doe = z - era * 146097;
  long long yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  long long yy = yoe + era * 400;
  long long doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  long long mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(yy + (m <= 2));
}

bool is_leap(int y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

TimeValue with_local_zone(TimeValue t) {
  std::time_t secs = static_cast<std::time_t>(t.unix_seconds);
  std::tm tm{};
  localtime_r(&secs, &tm);
  t.utc_offset = static_cast<std::int32_t>(tm.tm_gmtoff);
  t.zone = tm.tm_zone != nullptr ? tm.tm_zone : "";
  return t;
}

} // namespace

TimeValue time_now() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  TimeValue t;
  t.unix_seconds = ts.tv_sec;
  t.nanoseconds = static_cast<std::int32_t>(ts.tv_nsec);
  t = with_local_zone(std::move(t));
  t.monotonic = true;
  t.monotonic_ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                       std::chrono::steady_clock::now() - k_process_start)
                       .count() +
                   1;
  return t;
}

TimeValue time_utc(const TimeValue& t) {
  TimeValue u = t;
  u.utc_offset = 0;
  u.zone = "UTC";
  return u;
}

TimeValue time_local(const TimeValue& t) {
  return with_local_zone(t);
}

CivilTime civil(const TimeValue& t) {
  long long secs = t.unix_seconds + t.utc_offset;
  long long days = floor_div(secs, 86400);
  long long rem = secs - days * 86400;
  CivilTime c;
  civil_from_days(days, c.year, c.month, c.day);
  c.hour = static_cast<int>(rem / 3600);
  c.minute = static_cast<int>((rem % 3600) / 60);
  c.second = static_cast<int>(rem % 60);
  c.weekday = static_cast<int>(((days % 7) + 11) % 7); // 1970-01-01 was a Thursday
  static constexpr int k_before[] = {0, 31, 59, 90, 120, 151, 181, 212, 243, 273, 304, 334};
  c.yday = k_before[c.month - 1] + c.day + ((c.month > 2 && is_leap(c.year)) ? 1 : 0);
  return c;
}

std::string format_time(const TimeValue& t, std::string_view layout) {
  CivilTime c = civil(t);
  std::string b;
  while (!layout.empty()) {
    Chunk chunk = next_std_chunk(layout);
    b += chunk.prefix;
    if (chunk.std == std_none) {
      break;
    }
    layout = chunk.suffix;
    int offset = t.utc_offset;
    switch (chunk.std) {
    case std_year: {
      int y = c.year;
      if (y < 0) {
        y = -y;
      }
      append_int(b, y % 100, 2);
      break;
    }
    case std_long_year:
      append_int(b, c.year, 4);
      break;
    case std_month:
      b += std::string_view(k_long_months[c.month - 1]).substr(0, 3);
      break;
    case std_long_month:
      b += k_long_months[c.month - 1];
      break;
    case std_num_month:
      append_int(b, c.month, 0);
      break;
    case std_zero_month:
      append_int(b, c.month, 2);
      break;
    case std_week_day:
      b += std::string_view(k_long_days[c.weekday]).substr(0, 3);
      break;
    case std_long_week_day:
      b += k_long_days[c.weekday];
      break;
    case std_day:
      append_int(b, c.day, 0);
      break;
    case std_under_day:
      if (c.day < 10) {
        b += ' ';
      }
      append_int(b, c.day, 0);
      break;
    case std_zero_day:
      append_int(b, c.day, 2);
      break;
    case std_under_year_day:
      if (c.yday < 100) {
        b += ' ';
        if (c.yday < 10) {
          b += ' ';
        }
      }
      append_int(b, c.yday, 0);
      break;
    case std_zero_year_day:
      append_int(b, c.yday, 3);
      break;
    case std_hour:
      append_int(b, c.hour, 2);
      break;
    case std_hour12:
    case std_zero_hour12: {
      int hr = c.hour % 12;
      if (hr == 0) {
        hr = 12;
      }
      append_int(b, hr, chunk.std == std_zero_hour12 ? 2 : 0);
      break;
    }
    case std_minute:
      append_int(b, c.minute, 0);
      break;
    case std_zero_minute:
      append_int(b, c.minute, 2);
      break;
    case std_second:
      append_int(b, c.second, 0);
      break;
    case std_zero_second:
      append_int(b, c.second, 2);
      break;
    case std_pm:
      b += c.hour >= 12 ? "PM" : "AM";
      break;
    case std_lower_pm:
      b += c.hour >= 12 ? "pm" : "am";
      break;
    case std_iso8601_tz:
    case std_iso8601_colon_tz:
    case std_iso8601_seconds_tz:
    case std_iso8601_short_tz:
    case std_iso8601_colon_seconds_tz:
    case std_num_tz:
    case std_num_colon_tz:
    case std_num_seconds_tz:
    case std_num_short_tz:
    case std_num_colon_seconds_tz: {
      bool iso = chunk.std == std_iso8601_tz || chunk.std == std_iso8601_colon_tz ||
                 chunk.std == std_iso8601_seconds_tz || chunk.std == std_iso8601_short_tz ||
                 chunk.std == std_iso8601_colon_seconds_tz;
      if (offset == 0 && iso) {
        b += 'Z';
        break;
      }
      int zone = offset / 60;
      int absoffset = offset;
      if (zone < 0) {
        b += '-';
        zone = -zone;
        absoffset = -absoffset;
      } else {
        b += '+';
      }
      append_int(b, zone / 60, 2);
      if (chunk.std == std_iso8601_colon_tz || chunk.std == std_num_colon_tz ||
          chunk.std == std_iso8601_colon_seconds_tz || chunk.std == std_num_colon_seconds_tz) {
        b += ':';
      }
      if (chunk.std != std_num_short_tz && chunk.std != std_iso8601_short_tz) {
        append_int(b, zone % 60, 2);
      }
      if (chunk.std == std_iso8601_seconds_tz || chunk.std == std_num_seconds_tz ||
          chunk.std == std_num_colon_seconds_tz || chunk.std == std_iso8601_colon_seconds_tz) {
        if (chunk.std == std_num_colon_seconds_tz || chunk.std == std_iso8601_colon_seconds_tz) {
          b += ':';
        }
        append_int(b, absoffset % 60, 2);
      }
      break;
    }
    case std_tz: {
      if (!t.zone.empty()) {
        b += t.zone;
        break;
      }
      int zone = offset / 60;
      if (zone < 0) {
        b += '-';
        zone = -zone;
      } else {
        b += '+';
      }
      append_int(b, zone / 60, 2);
      append_int(b, zone % 60, 2);
      break;
    }
    case std_frac_second0:
    case std_frac_second9: {
      bool trim = chunk.std == std_frac_second9;
      int n = chunk.frac_digits;
      if (trim && (n == 0 || t.nanoseconds == 0)) {
        break;
      }
      std::string frac;
      frac += chunk.frac_sep;
      append_int(frac, t.nanoseconds, 9);
      if (n < 9) {
        frac.resize(frac.size() - static_cast<std::size_t>(9 - n));
      }
      if (trim) {
        while (!frac.empty() && frac.back() == '0') {
          frac.pop_back();
        }
        if (!frac.empty() && frac.back() == chunk.frac_sep) {
          frac.pop_back();
        }
      }
      b += frac;
      break;
    }
    case std_none:
      break;
    }
  }
  return b;
}

std::string time_string(const TimeValue& t) {
  std::string s = format_time(t, "2006-01-02 15:04:05.999999999 -0700 MST");
  if (t.monotonic) {
    long long m2 = t.monotonic_ns;
    char sign = '+';
    if (m2 < 0) {
      sign = '-';
      m2 = -m2;
    }
    long long m1 = m2 / 1000000000;
    m2 %= 1000000000;
    long long m0 = m1 / 1000000000;
    m1 %= 1000000000;
    s += " m=";
    s += sign;
    int wid = 0;
    if (m0 != 0) {
      append_int(s, m0, 0);
      wid = 9;
    }
    append_int(s, m1, wid);
    s += '.';
    append_int(s, m2, 9);
  }
  return s;
}

} // namespace herald::tmpl::go
