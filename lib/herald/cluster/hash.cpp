#include "herald/cluster/hash.hpp"

#include "herald/core/sha1.hpp"

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace herald::cluster {

namespace {

/// Bump when the meaning of a field changes, so old instances are seen as different.
constexpr int k_spec_version = 1;

nlohmann::json env_json(const AppSpec& app) {
  nlohmann::json env = nlohmann::json::object();
  for (const auto& [name, value] : app.environment()) {
    env[name] = value;
  }
  return env;
}

nlohmann::json health_json(const HealthCheck& health) {
  return {{"path", health.path},
          {"interval_ms", health.interval.count()},
          {"timeout_ms", health.timeout.count()},
          {"rise", health.rise},
          {"fall", health.fall}};
}

nlohmann::json routing_json(const AppSpec& app) {
  return {{"mode", std::string(to_string(app.routing))}, {"aliases", app.aliases}};
}

nlohmann::json placement_json(const Placement& placement) {
  std::vector<std::string> metadata = placement.metadata;
  std::sort(metadata.begin(), metadata.end());
  return {{"spread", placement.spread}, {"metadata", metadata}};
}

} // namespace

std::string instance_spec_text(const AppSpec& app) {
  nlohmann::json spec = {{"v", k_spec_version},
                         {"image", app.image},
                         {"port", app.port},
                         {"env", env_json(app)},
                         {"health", health_json(app.health)},
                         {"routing", routing_json(app)},
                         {"placement", placement_json(app.placement)}};
  // nlohmann::json keeps object keys sorted; UTF-8 was checked by the parser.
  return spec.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

std::string instance_hash(const AppSpec& app) {
  return sha1_hex(instance_spec_text(app));
}

std::vector<std::string> changed_fields(const AppSpec& before, const AppSpec& after) {
  std::vector<std::string> out;
  if (before.image != after.image) {
    out.emplace_back("image");
  }
  if (before.port != after.port) {
    out.emplace_back("port");
  }
  if (env_json(before) != env_json(after)) {
    out.emplace_back("env");
  }
  if (health_json(before.health) != health_json(after.health)) {
    out.emplace_back("health");
  }
  if (routing_json(before) != routing_json(after)) {
    out.emplace_back("routing");
  }
  if (placement_json(before.placement) != placement_json(after.placement)) {
    out.emplace_back("placement");
  }
  return out;
}

} // namespace herald::cluster
