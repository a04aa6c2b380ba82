#include "herald/scheduler/docker/docker_scheduler.hpp"

#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"
#include "herald/docker/ports.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <spdlog/spdlog.h>

namespace herald::scheduler::docker {

namespace hd = herald::docker;

namespace {

/// The label herald.port: the one container port the registrator registers.
constexpr const char* k_port_label = "herald.port";

/// Docker's rule for container names: [a-zA-Z0-9][a-zA-Z0-9_.-]+.
bool is_container_name(std::string_view name) {
  auto ok = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == '-';
  };
  return name.size() >= 2 && std::all_of(name.begin(), name.end(), ok) && name.front() != '_' &&
         name.front() != '.' && name.front() != '-';
}

bool is_meta_key(std::string_view key) {
  auto ok = [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'; };
  return !key.empty() && std::all_of(key.begin(), key.end(), ok) &&
         !(key[0] >= '0' && key[0] <= '9');
}

std::string upper(std::string_view text) {
  std::string out(text);
  for (char& c : out) {
    if (c >= 'a' && c <= 'z') {
      c = static_cast<char>(c - 'a' + 'A');
    }
  }
  return out;
}

/// "2s", "1500ms": the duration form `announce --check-interval` reads.
std::string duration_text(std::chrono::milliseconds d) {
  return format_duration(d);
}

/// Exit codes of a process ended by what `docker stop` sends (128 + SIGTERM / SIGKILL).
bool stopped_by_signal(int exit_code) {
  return exit_code == 143 || exit_code == 137;
}

/// Where the instance answers: its published port, when the binding names an address.
std::optional<HostPort> address_of(const hd::Container& container) {
  auto port = container.label(k_port_label);
  if (!container.running || !port) {
    return std::nullopt;
  }
  try {
    hd::HostAddress published = hd::published_address(container, *port, "");
    return HostPort{published.host, published.port};
  } catch (const Error&) {
    return std::nullopt; // published on every interface: the node's address is not ours to know
  }
}

} // namespace

std::string container_name(const InstanceName& name) {
  return "herald-" + name.app + "-" + name.instance;
}

std::map<std::string, std::string> container_labels(const InstanceSpec& spec) {
  std::map<std::string, std::string> labels;
  labels[k_app_label] = spec.app;
  labels[k_instance_label] = spec.instance;
  labels[k_spec_label] = spec.spec_hash;
  labels[k_port_label] = std::to_string(spec.container_port);
  labels["SERVICE_NAME"] = spec.app;
  if (!spec.routing.tags.empty()) {
    labels["SERVICE_TAGS"] = fmt::format("{}", fmt::join(spec.routing.tags, ","));
  }
  for (const auto& [key, value] : spec.routing.meta) {
    if (!is_meta_key(key) || key == "name" || key == "tags" || key == "ignore" || key == "id") {
      throw Error(ErrorKind::usage,
                  fmt::format("{}: meta key {} cannot be carried by a registrator label: use "
                              "lower-case letters, digits and '_' (and not name, tags, ignore, id)",
                              spec.name().str(), quoted(key)));
    }
    labels["SERVICE_" + upper(key)] = value;
  }
  if (!spec.routing.domain.empty()) {
    labels["SERVICE_HOST"] = spec.app + "." + spec.routing.domain;
  }
  if (!spec.routing.path.empty()) {
    labels["SERVICE_PATH"] = spec.routing.path;
  }
  if (spec.health) {
    labels["SERVICE_CHECK_HTTP"] = spec.health->http_path;
    labels["SERVICE_CHECK_INTERVAL"] = duration_text(spec.health->interval);
    labels["SERVICE_CHECK_TIMEOUT"] = duration_text(spec.health->timeout);
    labels["SERVICE_CHECK_RISE"] = std::to_string(spec.health->rise);
    labels["SERVICE_CHECK_FALL"] = std::to_string(spec.health->fall);
  }
  for (const auto& [key, value] : spec.labels) {
    labels.emplace(key, value); // never over herald's own
  }
  return labels;
}

hd::ContainerSpec container_spec(const InstanceSpec& spec) {
  hd::ContainerSpec out;
  out.image = spec.image;
  out.name = container_name(spec.name());
  out.cmd = spec.command;
  // A name given twice keeps its first place and its last value, as `docker run -e` does.
  std::vector<std::string> order;
  std::map<std::string, std::string> values;
  for (const auto& [key, value] : spec.env) {
    if (!values.contains(key)) {
      order.push_back(key);
    }
    values[key] = value;
  }
  for (const auto& key : order) {
    out.env.push_back(key + "=" + values[key]);
  }
  out.labels = container_labels(spec);
  out.publish.push_back({std::to_string(spec.container_port), spec.host_ip,
                         spec.host_port ? std::to_string(*spec.host_port) : std::string()});
  out.restart_policy = "unless-stopped";
  return out;
}

Instance instance_of(const hd::Container& container, const std::string& host) {
  Instance out;
  out.app = container.label(k_app_label).value_or("");
  out.instance = container.label(k_instance_label).value_or("");
  out.spec_hash = container.label(k_spec_label).value_or("");
  out.image = container.image;
  out.id = container.id;
  out.container = container.name;
  out.machine = host;
  out.restarts = container.restart_count;
  const std::string& status = container.status;
  if (status == "running" && !container.restarting) {
    out.state = container.paused ? State::unknown : State::running;
    out.detail = container.paused ? "paused" : "running";
  } else if (status == "restarting" || container.restarting) {
    out.state = container.restart_count > 0 ? State::failed : State::starting;
    out.detail = fmt::format("restarting (exit {}, {} restarts)", container.exit_code,
                             container.restart_count);
  } else if (status == "created") {
    out.state = State::stopped;
    out.detail = "created";
  } else if (status == "exited") {
    bool clean = container.exit_code == 0 || stopped_by_signal(container.exit_code);
    out.state = clean ? State::stopped : State::failed;
    out.detail = fmt::format("exited ({})", container.exit_code);
    if (!container.error.empty()) {
      out.detail += ": " + escape_control(container.error);
    }
  } else if (status == "dead") {
    out.state = State::failed;
    out.detail = "dead";
  } else if (status == "removing") {
    out.state = State::stopping;
    out.detail = "removing";
  } else if (status == "paused") {
    out.state = State::unknown;
    out.detail = "paused";
  } else {
    out.state = State::unknown;
    out.detail = escape_control(status);
  }
  out.address = address_of(container);
  if (out.address) {
    out.machine_ip = out.address->host;
  }
  return out;
}

DockerScheduler::DockerScheduler(hd::Client client, DockerSchedulerOptions options)
    : m_client(std::move(client)), m_options(options) {}

std::string DockerScheduler::describe() const {
  return "docker at " + m_client.connection().str();
}

const std::string& DockerScheduler::host() {
  if (m_host.empty()) {
    hd::SystemInfo info = m_client.info();
    m_host = info.name.empty() ? info.id : info.name;
  }
  return m_host;
}

std::optional<hd::Container> DockerScheduler::container_of(const InstanceName& name) {
  return m_client.find(container_name(name));
}

hd::Container DockerScheduler::existing(const InstanceName& name) {
  auto container = container_of(name);
  if (!container || container->label(k_app_label) != name.app ||
      container->label(k_instance_label) != name.instance) {
    throw Error(ErrorKind::not_found,
                fmt::format("no instance {} on {} (no container {} labelled {}={})",
                            escape_control(name.str()), describe(), container_name(name),
                            k_app_label, escape_control(name.app)));
  }
  return *container;
}

std::vector<Instance> DockerScheduler::list(std::string_view app) {
  hd::ListOptions options;
  options.all = true;
  options.filters["label"] = {app.empty() ? std::string(k_app_label)
                                          : std::string(k_app_label) + "=" + std::string(app)};
  std::vector<Instance> out;
  for (const auto& summary : m_client.list_containers(options)) {
    // Inspect for what the list leaves out (exit code, restarts, bindings); a container removed
    // in between is simply gone.
    if (auto container = m_client.find(summary.id)) {
      Instance instance = instance_of(*container, host());
      if (!instance.instance.empty()) {
        out.push_back(std::move(instance));
      }
    }
  }
  std::sort(out.begin(), out.end(), instance_order);
  return out;
}

std::optional<Instance> DockerScheduler::find(const InstanceName& name) {
  auto container = container_of(name);
  if (!container || container->label(k_app_label) != name.app ||
      container->label(k_instance_label) != name.instance) {
    return std::nullopt;
  }
  return instance_of(*container, host());
}

void DockerScheduler::ensure_image(const std::string& image) {
  if (m_client.has_image(image)) {
    return;
  }
  spdlog::info("pulling image {} on {}", escape_control(image), describe());
  try {
    m_client.pull(image, m_options.pull_timeout);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::cancelled) {
      throw;
    }
    throw Error(e.kind(), fmt::format("{} (the image is not on {}): push it to a registry the "
                                      "engine reaches, or load it there (docker load, docker "
                                      "import)",
                                      e.what(), describe()));
  }
}

void DockerScheduler::start(const InstanceSpec& spec) {
  validate(spec);
  const InstanceName name = spec.name();
  const std::string cname = container_name(name);
  if (!is_container_name(cname)) {
    throw Error(ErrorKind::usage,
                fmt::format("{}: the container name {} is not one Docker accepts: use letters, "
                            "digits, '_', '.' and '-' in the instance name",
                            escape_control(name.str()), quoted(cname)));
  }
  hd::ContainerSpec create = container_spec(spec); // checks the labels before any change

  if (auto current = container_of(name)) {
    if (current->label(k_app_label) != spec.app ||
        current->label(k_instance_label) != spec.instance) {
      throw Error(ErrorKind::failed,
                  fmt::format("a container named {} exists on {} and is not herald's {} (it has "
                              "no label {}={}): remove or rename it",
                              cname, describe(), name.str(), k_app_label, spec.app));
    }
    if (current->label(k_spec_label) == spec.spec_hash) {
      if (!current->running) {
        m_client.start(current->id);
      }
      return;
    }
    spdlog::debug("{}: replacing container {} (spec {} -> {})", name.str(), cname,
                  current->label(k_spec_label).value_or(""), spec.spec_hash);
    remove(name);
  }

  ensure_image(spec.image);
  std::string id = m_client.create(create);
  try {
    m_client.start(id);
  } catch (...) {
    // Never leave a created container behind a failed start (a port in use, a bad command).
    try {
      m_client.remove(id, true, true);
    } catch (const Error& e) {
      spdlog::warn("{}: could not remove container {} after a failed start: {}", name.str(), cname,
                   e.what());
    }
    throw;
  }
}

bool DockerScheduler::stop(const InstanceName& name, std::chrono::seconds grace) {
  return m_client.stop(existing(name).id, grace);
}

bool DockerScheduler::withdraw(const InstanceName& name) {
  hd::Container container = existing(name);
  if (!container.running || container.paused) {
    return false;
  }
  // SIGCONT changes nothing for a running process; its `kill` event is the registrator's cue.
  m_client.kill(container.id, "CONT");
  return true;
}

bool DockerScheduler::remove(const InstanceName& name) {
  auto container = container_of(name);
  if (!container || container->label(k_app_label) != name.app ||
      container->label(k_instance_label) != name.instance) {
    return false;
  }
  if (container->running || container->restarting) {
    m_client.stop(container->id, m_options.remove_grace);
  }
  try {
    m_client.remove(container->id, false, true);
  } catch (const Error& e) {
    if (e.kind() == ErrorKind::not_found) {
      return true; // removed by someone else in between
    }
    // Restarted in between (its restart policy): it was stopped once, so force it now.
    spdlog::debug("{}: removing {} again with force: {}", name.str(), container->name, e.what());
    m_client.remove(container->id, true, true);
  }
  return true;
}

std::vector<std::string> DockerScheduler::logs(const InstanceName& name, std::size_t lines) {
  std::vector<std::string> out = m_client.logs(existing(name).id, lines);
  for (auto& line : out) {
    line = escape_control(line);
  }
  return out;
}

std::vector<Machine> DockerScheduler::machines() {
  hd::SystemInfo info = m_client.info();
  Machine machine;
  machine.id = info.id;
  machine.name = info.name;
  return {machine};
}

} // namespace herald::scheduler::docker
