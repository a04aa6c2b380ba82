#include "herald/scheduler/scheduler.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/units/quote.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <fmt/format.h>
#include <thread>

namespace herald::scheduler {

namespace {

constexpr std::array<std::pair<State, std::string_view>, 7> k_state_names{{
    {State::pending, "pending"},
    {State::starting, "starting"},
    {State::running, "running"},
    {State::stopping, "stopping"},
    {State::stopped, "stopped"},
    {State::failed, "failed"},
    {State::unknown, "unknown"},
}};

std::optional<unsigned long long> as_number(std::string_view text) {
  unsigned long long value = 0;
  const char* end = text.data() + text.size();
  auto [ptr, ec] = std::from_chars(text.data(), end, value);
  if (text.empty() || ec != std::errc() || ptr != end) {
    return std::nullopt;
  }
  return value;
}

bool is_lower_alnum(char c) {
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

[[noreturn]] void invalid(const InstanceSpec& spec, std::string_view what) {
  std::string who = spec.app.empty() ? std::string("instance") : escape_control(spec.name().str());
  throw Error(ErrorKind::usage, fmt::format("{}: {}", who, what));
}

/// True when `state` is one wait() returns on though it is not the one asked for.
bool settled_elsewhere(State state, State wanted) {
  if (state == State::failed) {
    return true;
  }
  return wanted == State::running && state == State::stopped;
}

} // namespace

std::string_view to_string(State state) {
  for (const auto& [value, name] : k_state_names) {
    if (value == state) {
      return name;
    }
  }
  return "unknown";
}

std::optional<State> parse_state(std::string_view text) {
  for (const auto& [value, name] : k_state_names) {
    if (name == text) {
      return value;
    }
  }
  return std::nullopt;
}

bool instance_order(const Instance& a, const Instance& b) {
  if (a.app != b.app) {
    return a.app < b.app;
  }
  auto na = as_number(a.instance);
  auto nb = as_number(b.instance);
  if (na && nb && *na != *nb) {
    return *na < *nb;
  }
  return a.instance < b.instance;
}

std::optional<Instance> Scheduler::find(const InstanceName& name) {
  for (auto& instance : list(name.app)) {
    if (instance.instance == name.instance) {
      return std::move(instance);
    }
  }
  return std::nullopt;
}

Instance Scheduler::wait(const InstanceName& name, State state, std::chrono::milliseconds timeout,
                         const StopToken* stop) {
  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  const std::chrono::milliseconds interval = poll_interval();
  for (;;) {
    if (stop != nullptr && stop->requested()) {
      throw Error(ErrorKind::cancelled,
                  fmt::format("stopped waiting for {} to be {}", name.str(), to_string(state)));
    }
    std::optional<Instance> seen = find(name);
    if (!seen) {
      throw Error(ErrorKind::not_found,
                  fmt::format("{} does not exist on {} (waiting for it to be {})", name.str(),
                              describe(), to_string(state)));
    }
    if (seen->state == state || settled_elsewhere(seen->state, state)) {
      return std::move(*seen);
    }
    auto now = Clock::now();
    if (now >= deadline) {
      throw Error(ErrorKind::temporary,
                  fmt::format("{} is still {} ({}) after {}, waiting for it to be {}", name.str(),
                              to_string(seen->state), escape_control(seen->detail),
                              format_duration(timeout), to_string(state)));
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    auto nap = std::min(interval, left);
    if (stop != nullptr) {
      stop->wait_for(nap);
    } else {
      std::this_thread::sleep_for(nap);
    }
  }
}

void Scheduler::put_unit(const UnitSpec& unit) {
  throw Error(ErrorKind::usage, fmt::format("the {} scheduler runs no units such as {}: {} runs "
                                            "containers only",
                                            backend(), herald::quoted(unit.name), describe()));
}

bool Scheduler::remove_unit(const std::string& name) {
  throw Error(ErrorKind::usage, fmt::format("the {} scheduler runs no units such as {}", backend(),
                                            herald::quoted(name)));
}

void validate(const InstanceSpec& spec) {
  if (spec.app.empty()) {
    throw Error(ErrorKind::usage, "instance: the app name is empty");
  }
  bool dns_label = spec.app.size() <= 63 && is_lower_alnum(spec.app.front()) &&
                   is_lower_alnum(spec.app.back()) &&
                   std::all_of(spec.app.begin(), spec.app.end(),
                               [](char c) { return is_lower_alnum(c) || c == '-'; });
  if (!dns_label) {
    throw Error(ErrorKind::usage,
                fmt::format("invalid app name {}: use lower-case letters, digits and '-' (a DNS "
                            "label: at most 63, starting and ending with a letter or digit)",
                            quoted(spec.app)));
  }
  if (auto problem = name_part_problem(spec.instance)) {
    invalid(spec, "the INSTANCE part " + *problem);
  }
  if (spec.image.empty()) {
    invalid(spec, "image is empty");
  }
  if (spec.container_port == 0) {
    invalid(spec, "container port is missing: the port the app listens on in its container");
  }
  if (spec.host_port && *spec.host_port == 0) {
    invalid(spec, "host port 0: expected 1-65535, or none for an ephemeral port");
  }
  for (const auto& [key, value] : spec.env) {
    if (!units::is_valid_environment_name(key)) {
      invalid(spec, fmt::format("invalid environment variable name {}: use letters, digits "
                                "and '_', not starting with a digit",
                                quoted(key)));
    }
  }
  if (spec.health) {
    const HealthCheck& h = *spec.health;
    if (!h.http_path.starts_with('/')) {
      invalid(spec, fmt::format("health check path {} must start with '/'", quoted(h.http_path)));
    }
    if (h.interval.count() <= 0 || h.timeout.count() <= 0 || h.timeout > h.interval) {
      invalid(spec, "health check interval and timeout must be positive, the timeout no longer "
                    "than the interval");
    }
    if (h.rise < 1 || h.fall < 1) {
      invalid(spec, "health check rise and fall must be at least 1");
    }
  }
  if (!spec.routing.domain.empty() && !spec.routing.path.empty()) {
    invalid(spec, "host routing (domain) and path routing exclude each other");
  }
  for (const auto& entry : spec.placement.metadata) {
    auto equals = entry.find('=');
    if (equals == std::string::npos || equals == 0) {
      invalid(spec, fmt::format("machine metadata {}: expected key=value", quoted(entry)));
    }
  }
}

} // namespace herald::scheduler
