#include "herald/launch/policy.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/render/command.hpp"

#include <algorithm>
#include <cmath>
#include <fmt/format.h>
#include <fnmatch.h>
#include <regex>
#include <spdlog/spdlog.h>

namespace herald::launch {

namespace {

bool is_label_char(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-';
}

char lower(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c;
}

std::string lower(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    c = lower(c);
  }
  return out;
}

bool is_glob(std::string_view pattern) {
  return pattern.find_first_of("*?[") != std::string_view::npos;
}

} // namespace

std::string_view to_string(Reason reason) {
  switch (reason) {
  case Reason::bad_name:
    return "bad_name";
  case Reason::not_allowed:
    return "not_allowed";
  case Reason::denied:
    return "denied";
  case Reason::policy_cmd:
    return "policy_cmd";
  case Reason::cap:
    return "cap";
  case Reason::client_rate:
    return "client_rate";
  case Reason::overall_rate:
    return "overall_rate";
  }
  return "unknown";
}

bool valid_app_name(std::string_view name) {
  if (name.empty() || name.size() > 63 || name.front() == '-' || name.back() == '-') {
    return false;
  }
  return std::all_of(name.begin(), name.end(), is_label_char);
}

std::optional<std::string> app_from_path(std::string_view target) {
  if (target.empty() || target.front() != '/') {
    return std::nullopt;
  }
  auto rest = target.substr(1);
  auto end = rest.find_first_of("/?#");
  auto segment = rest.substr(0, end);
  if (segment.empty()) {
    return std::nullopt;
  }
  return std::string(segment);
}

std::optional<std::string> app_from_host(std::string_view host, std::string_view domain) {
  if (host.empty() || host.front() == '[') {
    return std::nullopt;
  }
  if (auto colon = host.rfind(':'); colon != std::string_view::npos) {
    auto port = host.substr(colon + 1);
    if (port.empty() || port.size() > 5 ||
        !std::all_of(port.begin(), port.end(), [](char c) { return c >= '0' && c <= '9'; })) {
      return std::nullopt;
    }
    host = host.substr(0, colon);
  }
  if (!host.empty() && host.back() == '.') {
    host.remove_suffix(1);
  }
  while (!domain.empty() && domain.front() == '.') {
    domain.remove_prefix(1);
  }
  if (!domain.empty() && domain.back() == '.') {
    domain.remove_suffix(1);
  }
  if (domain.empty() || host.size() < domain.size() + 2) {
    return std::nullopt;
  }
  auto suffix = host.substr(host.size() - domain.size());
  if (lower(suffix) != lower(domain) || host[host.size() - domain.size() - 1] != '.') {
    return std::nullopt;
  }
  auto label = host.substr(0, host.size() - domain.size() - 1);
  if (label.empty() || label.find('.') != std::string_view::npos) {
    return std::nullopt;
  }
  return lower(label);
}

// ---- TokenBucket ----

TokenBucket::TokenBucket(Rate rate, Clock::time_point now)
    : m_rate(rate), m_tokens(std::max(1, rate.burst)), m_last(now) {
  m_rate.burst = std::max(1, rate.burst);
}

void TokenBucket::refill(Clock::time_point now) {
  if (now <= m_last) {
    return;
  }
  double seconds = std::chrono::duration<double>(now - m_last).count();
  m_tokens = std::min<double>(m_rate.burst, m_tokens + seconds * m_rate.per_second);
  m_last = now;
}

bool TokenBucket::available(Clock::time_point now) {
  if (m_rate.per_second <= 0) {
    return true;
  }
  refill(now);
  return m_tokens >= 1.0;
}

bool TokenBucket::try_take(Clock::time_point now) {
  if (!available(now)) {
    return false;
  }
  if (m_rate.per_second > 0) {
    m_tokens -= 1.0;
  }
  return true;
}

std::chrono::milliseconds TokenBucket::wait_time(Clock::time_point now) {
  if (available(now)) {
    return std::chrono::milliseconds(0);
  }
  double seconds = (1.0 - m_tokens) / m_rate.per_second;
  return std::chrono::milliseconds(static_cast<long long>(std::ceil(seconds * 1000)));
}

bool TokenBucket::full(Clock::time_point now) {
  if (m_rate.per_second <= 0) {
    return true;
  }
  refill(now);
  return m_tokens >= m_rate.burst;
}

// ---- Policy ----

struct Policy::Pattern {
  std::string text;
  enum class Kind { exact, glob, regex } kind = Kind::exact;
  std::optional<std::regex> regex;

  bool matches(const std::string& app) const {
    switch (kind) {
    case Kind::exact:
      return app == text;
    case Kind::glob:
      return ::fnmatch(text.c_str(), app.c_str(), 0) == 0;
    case Kind::regex:
      return std::regex_match(app, *regex);
    }
    return false;
  }
};

Policy::Policy(PolicyOptions options, SteadyNow now)
    : m_options(std::move(options)), m_now(std::move(now)) {
  if (!m_now) {
    m_now = [] { return std::chrono::steady_clock::now(); };
  }
  auto compile = [](const std::vector<std::string>& texts, std::string_view list) {
    std::vector<Pattern> out;
    for (const auto& text : texts) {
      Pattern p;
      p.text = text;
      if (text.empty()) {
        throw Error(ErrorKind::config, fmt::format("{} pattern is empty", list));
      }
      if (text.size() >= 2 && text.front() == '/' && text.back() == '/') {
        p.kind = Pattern::Kind::regex;
        try {
          p.regex.emplace(text.substr(1, text.size() - 2), std::regex::ECMAScript);
        } catch (const std::regex_error& e) {
          throw Error(ErrorKind::config, fmt::format("{} pattern {} is not a valid regex: {}", list,
                                                     quoted(text), e.what()));
        }
      } else if (is_glob(text)) {
        p.kind = Pattern::Kind::glob;
      }
      out.push_back(std::move(p));
    }
    return out;
  };
  m_allow = compile(m_options.allow, "--allow");
  m_deny = compile(m_options.deny, "--deny");
  if (m_options.overall_rate.per_second > 0) {
    m_overall.emplace(m_options.overall_rate, m_now());
  }
}

Policy::~Policy() = default;

bool Policy::matches(const std::vector<Pattern>& patterns, std::string_view app,
                     std::string* which) const {
  std::string name(app);
  for (const auto& p : patterns) {
    if (p.matches(name)) {
      if (which != nullptr) {
        *which = p.text;
      }
      return true;
    }
  }
  return false;
}

Decision Policy::check(std::string_view app) {
  Decision d;
  if (!valid_app_name(app)) {
    d.reason = Reason::bad_name;
    d.detail = "not a DNS label";
    return d;
  }
  std::string which;
  if (matches(m_deny, app, &which)) {
    d.reason = Reason::denied;
    d.detail = "deny pattern " + which;
    return d;
  }
  if (!matches(m_allow, app, &which)) {
    d.reason = Reason::not_allowed;
    d.detail = m_allow.empty() ? "the allow-list is empty" : "no allow pattern matches";
    return d;
  }
  if (m_options.known && !m_options.known(app)) {
    d.reason = Reason::not_allowed;
    d.detail = "nothing to make it from";
    return d;
  }
  if (m_options.policy_cmd.empty()) {
    d.allowed = true;
    d.detail = "allow pattern " + which;
    return d;
  }
  return run_policy_cmd(std::string(app));
}

Decision Policy::run_policy_cmd(const std::string& app) {
  std::shared_future<Decision> answer;
  std::promise<Decision> mine;
  bool runner = false;
  {
    std::lock_guard lock(m_cmd_mutex);
    auto now = m_now();
    if (auto it = m_cache.find(app); it != m_cache.end()) {
      if (it->second.expires > now) {
        Decision d;
        d.allowed = it->second.allowed;
        d.reason = Reason::policy_cmd;
        d.detail = it->second.detail + " (cached)";
        return d;
      }
      m_cache.erase(it);
    }
    if (auto it = m_running.find(app); it != m_running.end()) {
      answer = it->second;
    } else if (m_running.size() >= k_policy_cmd_concurrency) {
      Decision d;
      d.reason = Reason::policy_cmd;
      d.detail = "too many policy commands running";
      return d;
    } else {
      answer = mine.get_future().share();
      m_running.emplace(app, answer);
      runner = true;
    }
  }
  if (!runner) {
    return answer.get();
  }

  Decision d;
  d.reason = Reason::policy_cmd;
  try {
    auto argv = m_options.policy_cmd;
    argv.push_back(app);
    auto result = render::run_command(argv, m_options.policy_timeout);
    d.allowed = result.ok();
    d.detail = result.ok() ? "policy command allowed" : render::describe_failure(result);
  } catch (const std::exception& e) {
    d.detail = e.what();
  }
  {
    std::lock_guard lock(m_cmd_mutex);
    if (m_cache.size() >= k_policy_cache_size) {
      auto now = m_now();
      std::erase_if(m_cache, [&](const auto& entry) { return entry.second.expires <= now; });
      if (m_cache.size() >= k_policy_cache_size) {
        m_cache.clear();
      }
    }
    m_cache[app] = CachedAnswer{d.allowed, d.detail, m_now() + m_options.policy_cache};
    m_running.erase(app);
  }
  mine.set_value(d);
  return d;
}

Decision Policy::admit(std::string_view client, int on_demand_apps) {
  Decision d;
  if (m_options.max_apps > 0 && on_demand_apps >= m_options.max_apps) {
    d.reason = Reason::cap;
    d.detail =
        fmt::format("{} apps started on demand exist (cap {})", on_demand_apps, m_options.max_apps);
    d.retry_after = std::chrono::seconds(30);
    return d;
  }
  std::lock_guard lock(m_rate_mutex);
  auto now = m_now();
  TokenBucket* client_bucket = nullptr;
  if (m_options.client_rate.per_second > 0) {
    std::string key(client);
    auto it = m_clients.find(key);
    if (it == m_clients.end()) {
      if (m_clients.size() >= k_max_tracked_clients) {
        // A full bucket is the same as none: forget those first. Only a flood of addresses
        // leaves the table full then, and the overall bucket still bounds the launches.
        std::erase_if(m_clients, [&](const auto& entry) {
          auto bucket = entry.second;
          return bucket.full(now);
        });
        if (m_clients.size() >= k_max_tracked_clients) {
          m_clients.clear();
        }
      }
      it = m_clients.emplace(key, TokenBucket(m_options.client_rate, now)).first;
    }
    client_bucket = &it->second;
  }
  auto to_seconds = [](std::chrono::milliseconds ms) {
    return std::chrono::seconds(std::max<long long>(1, (ms.count() + 999) / 1000));
  };
  if (client_bucket != nullptr && !client_bucket->available(now)) {
    d.reason = Reason::client_rate;
    d.detail = "client rate";
    d.retry_after = to_seconds(client_bucket->wait_time(now));
    return d;
  }
  if (m_overall && !m_overall->available(now)) {
    d.reason = Reason::overall_rate;
    d.detail = "overall rate";
    d.retry_after = to_seconds(m_overall->wait_time(now));
    return d;
  }
  if (client_bucket != nullptr) {
    client_bucket->try_take(now);
  }
  if (m_overall) {
    m_overall->try_take(now);
  }
  d.allowed = true;
  return d;
}

} // namespace herald::launch
