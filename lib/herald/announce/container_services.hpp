#pragma once

#include "herald/docker/model.hpp"

#include <map>
#include <string>
#include <vector>

namespace herald::announce {

// Registrator's conventions (gliderlabs/registrator) and herald's own labels: which of a
// container's ports `announce --docker-events` registers, under which names and tags. Policy of
// announce, read from what the Docker client returns; the client itself knows nothing of it.

/// One service a container asks to be registered as: one published port under one name, read
/// from registrator's conventions and herald's own labels.
struct ServiceSpec {
  std::string name;           ///< the service (app) name
  std::string container_port; ///< "8080/tcp"
  std::string port_number;    ///< "8080", as in SERVICE_8080_NAME and registrator's IDs
  std::vector<std::string> tags;
  /// The other SERVICE_* attributes, keys lowercased without the prefix ("region", "check_http").
  std::map<std::string, std::string> attributes;
};

/// What `container` asks for, following registrator (gliderlabs/registrator, `-explicit` mode):
/// SERVICE_* keys come from Config.Env, then Config.Labels (labels win), and SERVICE_<port>_* keys
/// override SERVICE_* for that port. A published port (any port with a host binding, or every
/// exposed port with host networking) is registered when it gets a name from SERVICE_<port>_NAME,
/// SERVICE_NAME (suffixed "-<port>" when the container publishes several ports and the name is
/// not port-specific) or the label herald.service; herald.port limits the label's name to that
/// one port. SERVICE_IGNORE / SERVICE_<port>_IGNORE (any non-empty value) and herald.ignore skip.
/// Tags are the comma-separated SERVICE_TAGS / SERVICE_<port>_TAGS plus herald.tags. Returns
/// nothing for a container that does not ask; ports sorted by number.
std::vector<ServiceSpec> container_services(const docker::Container& container);

/// The instance part of a registrator-style ID: "NODE:CONTAINER:PORT" (":udp" appended for UDP).
std::string service_instance_id(const std::string& node, const docker::Container& container,
                                const ServiceSpec& service);

} // namespace herald::announce
