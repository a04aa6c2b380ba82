#include "herald/core/log.hpp"

#include "herald/core/error.hpp"

#include <fmt/chrono.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include <cstdio>
#include <cstdlib>
#include <mutex>

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
      j["ts"] = fmt::format("{:%Y-%m-%dT%H:%M:%S}Z", fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)));
      j["level"] = level_name(msg.level);
      j["msg"] = text;
      line = j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
      break;
    }
    case Format::text: {
      auto since_epoch = msg.time.time_since_epoch();
      auto millis =
          std::chrono::duration_cast<std::chrono::milliseconds>(since_epoch).count() % 1000;
      line = fmt::format("{:%Y-%m-%dT%H:%M:%S}.{:03}Z {:<5} {}\n",
                         fmt::gmtime(std::chrono::system_clock::to_time_t(msg.time)), millis,
                         level_name(msg.level), text);
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
