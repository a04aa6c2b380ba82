#pragma once

#include <algorithm>
#include <memory>
#include <mutex>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>
#include <string>
#include <vector>

namespace herald::test {

/// Collects every log line at `level` and above while alive, and restores the previous default
/// logger afterwards.
class LogCapture {
public:
  explicit LogCapture(spdlog::level::level_enum level = spdlog::level::info)
      : m_sink(std::make_shared<Sink>()), m_previous(spdlog::default_logger()) {
    auto logger = std::make_shared<spdlog::logger>("test", m_sink);
    logger->set_level(level);
    spdlog::set_default_logger(logger);
  }
  ~LogCapture() { spdlog::set_default_logger(m_previous); }
  LogCapture(const LogCapture&) = delete;
  LogCapture& operator=(const LogCapture&) = delete;

  /// Every line logged so far, as "level: message" ("warning: registry lost: ...").
  std::vector<std::string> lines() const {
    std::lock_guard lock(m_sink->lines_mutex);
    return m_sink->lines;
  }
  /// How many lines contain `text`.
  std::size_t count(const std::string& text) const {
    auto all = lines();
    return static_cast<std::size_t>(std::count_if(
        all.begin(), all.end(), [&](const auto& l) { return l.find(text) != std::string::npos; }));
  }

private:
  struct Sink final : spdlog::sinks::base_sink<std::mutex> {
    std::mutex lines_mutex;
    std::vector<std::string> lines;

  protected:
    void sink_it_(const spdlog::details::log_msg& msg) override {
      std::lock_guard lock(lines_mutex);
      lines.push_back(std::string(spdlog::level::to_string_view(msg.level).data()) + ": " +
                      std::string(msg.payload.data(), msg.payload.size()));
    }
    void flush_() override {}
  };

  std::shared_ptr<Sink> m_sink;
  std::shared_ptr<spdlog::logger> m_previous;
};

} // namespace herald::test
