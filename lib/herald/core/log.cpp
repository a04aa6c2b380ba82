#include "herald/core/log.hpp"

#include "herald/core/error.hpp"

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fmt/format.h>
#include <mutex>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

namespace herald::log {

namespace {

int journal_priority(spdlog::level::level_enum level) {
  switch (level) {
  case spdlog::level::trace:
  case spdlog::level::debug:
    return 7;
  case spdlog::level::info:
    return 6;
  case spdlog::level::warn:
    return 4;
  case spdlog::level::err:
    return 3;
  case spdlog::level::critical:
    return 2;
  default:
    return 6;
  }
}

const char* level_name(spdlog::level::level_enum level) {
  switch (level) {
  case spdlog::level::trace:
    return "trace";
  case spdlog::level::debug:
    return "debug";
  case spdlog::level::info:
    return "info";
  case spdlog::level::warn:
    return "warn";
  case spdlog::level::err:
    return "error";
  case spdlog::level::critical:
    return "critical";
  default:
    return "info";
  }
}

/// `time` in UTC as 2026-11-23T09:12:00 (with ".123" milliseconds when asked). Computed from the
/// epoch with <chrono>'s calendar: glibc's gmtime would first load the time-zone database
/// (/etc/localtime), which UTC does not need and a one-shot command should not pay for.
std::string utc_timestamp(std::chrono::system_clock::time_point time, bool millis) {
  using namespace std::chrono;
  auto day = floor<days>(time);
  year_month_day date{day};
  hh_mm_ss<milliseconds> clock{floor<milliseconds>(time - day)};
  std::string text =
      fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}", static_cast<int>(date.year()),
                  static_cast<unsigned>(date.month()), static_cast<unsigned>(date.day()),
                  clock.hours().count(), clock.minutes().count(), clock.seconds().count());
  if (millis) {
    text += fmt::format(".{:03}", clock.subseconds().count());
  }
  return text;
}

/// Writes each message as one line to stderr in the chosen format; one write per line so lines
/// of concurrent processes sharing a journal stream never interleave.
class StderrSink final : public spdlog::sinks::base_sink<std::mutex> {
public:
  explicit StderrSink(Format format) : m_format(format) {}

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    std::string_view text(msg.payload.data(), msg.payload.size());
    std::string line;
    switch (m_format) {
    case Format::journal:
      line = fmt::format("<{}>{}\n", journal_priority(msg.level), text);
      break;
    case Format::json: {
      nlohmann::json j;
      j["ts"] = utc_timestamp(msg.time, false) + "Z";
      j["level"] = level_name(msg.level);
      j["msg"] = text;
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      break;
    }
    case Format::text: {
      line =
          fmt::format("{}Z {:<5} {}\n", utc_timestamp(msg.time, true), level_name(msg.level), text);
      break;
    }
    }
    std::fwrite(line.data(), 1, line.size(), stderr);
    std::fflush(stderr);
  }
  void flush_() override { std::fflush(stderr); }

private:
  Format m_format;
};

} // namespace

Format resolve_format(std::string_view requested) {
  if (requested == "json") {
    return Format::json;
  }
  if (requested == "text") {
    return Format::text;
  }
  if (requested == "journal") {
    return Format::journal;
  }
  if (!requested.empty()) {
    throw Error(ErrorKind::usage,
                fmt::format("invalid --log-format '{}': use text, json or journal", requested));
  }
  const char* journal = std::getenv("JOURNAL_STREAM");
  return (journal != nullptr && *journal != '\0') ? Format::journal : Format::text;
}

void setup(const Options& options) {
  auto level = spdlog::level::from_str(std::string(options.level));
  if (level == spdlog::level::off && options.level != "off") {
    throw Error(ErrorKind::usage,
                fmt::format("invalid --log-level '{}': use trace, debug, info, warn, error or off",
                            options.level));
  }
  auto sink = std::make_shared<StderrSink>(resolve_format(options.format));
  auto logger = std::make_shared<spdlog::logger>("herald", std::move(sink));
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(std::move(logger));
}

} // namespace herald::log
