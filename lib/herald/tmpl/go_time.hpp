#pragma once

// Go's time.Time formatting for confd's `datetime` (time.Now) and its methods. Internal to tmpl/.

#include "herald/tmpl/value.hpp"

#include <string>
#include <string_view>

namespace herald::tmpl::go {

/// time.Now() in the local zone, with a monotonic reading as Go attaches one.
TimeValue time_now();

/// t.Format(layout) with Go's reference-time layout ("2006-01-02 15:04:05").
std::string format_time(const TimeValue& t, std::string_view layout);

/// t.String(): "2006-01-02 15:04:05.999999999 -0700 MST" plus " m=±s.nnnnnnnnn" when monotonic.
std::string time_string(const TimeValue& t);

/// t converted to UTC (time.Time.UTC), dropping nothing but the zone.
TimeValue time_utc(const TimeValue& t);

/// t converted to the local zone (time.Time.Local).
TimeValue time_local(const TimeValue& t);

/// The calendar fields of t in its zone.
struct CivilTime {
  int year = 1970, month = 1, day = 1, hour = 0, minute = 0, second = 0;
  int weekday = 4; ///< 0 = Sunday
  int yday = 1;    ///< 1-based day of the year
};

/// Breaks t down in its own zone.
CivilTime civil(const TimeValue& t);

} // namespace herald::tmpl::go
