#include "herald/announce/container_services.hpp"

#include "herald/core/strings.hpp"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <optional>

namespace herald::announce {

namespace {

constexpr std::string_view k_service_prefix = "SERVICE_";

std::string lower(std::string_view text) {
  std::string out(text);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

bool is_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](unsigned char c) { return std::isdigit(c); });
}

/// SERVICE_* settings split into the container-wide ones and the per-port ones, keys lowercased.
struct Metadata {
  std::map<std::string, std::string> common;
  std::map<std::string, std::map<std::string, std::string>> by_port; ///< "8080" -> key -> value
};

void add_setting(Metadata& meta, std::string_view key, std::string_view value) {
  if (key.substr(0, k_service_prefix.size()) != k_service_prefix) {
    return;
  }
  std::string_view rest = key.substr(k_service_prefix.size());
  auto underscore = rest.find('_');
  // SERVICE_8080_NAME is per port; SERVICE_CHECK_HTTP is a container-wide key with an underscore.
  if (underscore != std::string_view::npos && is_digits(rest.substr(0, underscore)) &&
      underscore + 1 < rest.size()) {
    meta.by_port[std::string(rest.substr(0, underscore))][lower(rest.substr(underscore + 1))] =
        std::string(value);
    return;
  }
  if (!rest.empty()) {
    meta.common[lower(rest)] = std::string(value);
  }
}

Metadata read_metadata(const docker::Container& container) {
  Metadata meta;
  for (const auto& item : container.env) {
    auto eq = item.find('=');
    if (eq != std::string::npos) {
      add_setting(meta, std::string_view(item).substr(0, eq),
                  std::string_view(item).substr(eq + 1));
    }
  }
  // Labels after the environment, as registrator appends them: a label wins over an env variable.
  for (const auto& [key, value] : container.labels) {
    add_setting(meta, key, value);
  }
  return meta;
}

std::vector<std::string> split_tags(std::string_view text) {
  std::vector<std::string> tags;
  for (const auto& part : split(text, ',')) {
    auto tag = trim(part);
    if (!tag.empty() && std::find(tags.begin(), tags.end(), tag) == tags.end()) {
      tags.emplace_back(tag);
    }
  }
  return tags;
}

/// The published ports of `container`, "8080/tcp", sorted by number then protocol.
std::vector<std::string> published_ports(const docker::Container& container) {
  std::vector<std::string> ports;
  if (container.network_mode == "host") {
    ports = container.exposed_ports;
  } else {
    for (const auto& [port, bindings] : container.ports) {
      if (!bindings.empty()) {
        ports.push_back(port);
      }
    }
  }
  auto number = [](const std::string& port) {
    unsigned value = 0;
    std::from_chars(port.data(), port.data() + port.size(), value);
    return value;
  };
  std::sort(ports.begin(), ports.end(), [&](const std::string& a, const std::string& b) {
    return std::pair(number(a), a) < std::pair(number(b), b);
  });
  return ports;
}

} // namespace

std::vector<ServiceSpec> container_services(const docker::Container& container) {
  Metadata meta = read_metadata(container);
  if (!meta.common["ignore"].empty() || !container.label("herald.ignore").value_or("").empty()) {
    return {};
  }
  std::vector<std::string> ports = published_ports(container);
  auto herald_service = container.label("herald.service");
  std::optional<std::string> herald_port;
  if (auto port = container.label("herald.port"); port && !trim(*port).empty()) {
    herald_port = std::string(trim(*port));
    if (herald_port->find('/') == std::string::npos) {
      *herald_port += "/tcp";
    }
  }
  std::vector<std::string> herald_tags = split_tags(container.label("herald.tags").value_or(""));
  bool group = ports.size() > 1;

  std::vector<ServiceSpec> services;
  for (const auto& port : ports) {
    ServiceSpec spec;
    spec.container_port = port;
    spec.port_number = port.substr(0, port.find('/'));
    std::map<std::string, std::string> settings = meta.common;
    const auto& own = meta.by_port[spec.port_number];
    for (const auto& [key, value] : own) {
      settings[key] = value;
    }
    if (!settings["ignore"].empty()) {
      continue;
    }
    bool for_this_port = !herald_port || *herald_port == port;
    if (herald_port && !for_this_port && !own.contains("name")) {
      // herald.port names the one port to register; the others need a name of their own.
      continue;
    }
    if (herald_service && !herald_service->empty() && for_this_port && !own.contains("name")) {
      spec.name = *herald_service;
      if (group && !herald_port) {
        spec.name += "-" + spec.port_number;
      }
    } else if (!settings["name"].empty()) {
      spec.name = settings["name"];
      if (group && !own.contains("name") && !herald_port) {
        spec.name += "-" + spec.port_number;
      }
    } else {
      continue; // it did not ask
    }
    spec.tags = split_tags(settings["tags"]);
    for (const auto& tag : herald_tags) {
      if (std::find(spec.tags.begin(), spec.tags.end(), tag) == spec.tags.end()) {
        spec.tags.push_back(tag);
      }
    }
    for (const auto& [key, value] : settings) {
      if (key != "name" && key != "tags" && key != "ignore" && key != "id" && !value.empty()) {
        spec.attributes[key] = value;
      }
    }
    services.push_back(std::move(spec));
  }
  return services;
}

std::string service_instance_id(const std::string& node, const docker::Container& container,
                                const ServiceSpec& service) {
  std::string id = node + ":" + container.name + ":" + service.port_number;
  if (service.container_port.ends_with("/udp")) {
    id += ":udp";
  }
  return id;
}

} // namespace herald::announce
