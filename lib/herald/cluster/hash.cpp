#include "herald/cluster/hash.hpp"

#include "herald/core/sha1.hpp"

#include <algorithm>
#include <cstddef>
#include <map>
#include <nlohmann/json.hpp>
#include <utility>

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

namespace {

/// The fields of changed_fields(), in order, each with the JSON its digest is taken of.
std::vector<std::pair<const char*, nlohmann::json>> field_texts(const AppSpec& app) {
  return {{"image", app.image},           {"port", app.port},
          {"env", env_json(app)},         {"health", health_json(app.health)},
          {"routing", routing_json(app)}, {"placement", placement_json(app.placement)}};
}

std::vector<std::string> field_digests(const AppSpec& app) {
  std::vector<std::string> out;
  for (const auto& [name, value] : field_texts(app)) {
    std::string text = std::string(name) + "=" +
                       value.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    out.push_back(sha1_hex(text).substr(0, 8));
  }
  return out;
}

} // namespace

std::string instance_stamp(const AppSpec& app) {
  std::string out = instance_hash(app) + "-";
  std::vector<std::string> digests = field_digests(app);
  for (std::size_t i = 0; i < digests.size(); ++i) {
    out += (i == 0 ? "" : ".") + digests[i];
  }
  return out;
}

std::string_view stamp_hash(std::string_view stamp) {
  return stamp.substr(0, stamp.find('-'));
}

std::optional<std::vector<std::string>> changed_fields(std::string_view stamp,
                                                       const AppSpec& after) {
  std::size_t dash = stamp.find('-');
  if (dash == std::string_view::npos) {
    return std::nullopt;
  }
  std::vector<std::string_view> recorded;
  std::string_view rest = stamp.substr(dash + 1);
  while (true) {
    std::size_t dot = rest.find('.');
    recorded.push_back(rest.substr(0, dot));
    if (dot == std::string_view::npos) {
      break;
    }
    rest.remove_prefix(dot + 1);
  }
  std::vector<std::string> digests = field_digests(after);
  if (recorded.size() != digests.size()) {
    return std::nullopt;
  }
  std::vector<std::pair<const char*, nlohmann::json>> fields = field_texts(after);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < digests.size(); ++i) {
    if (recorded[i] != digests[i]) {
      out.emplace_back(fields[i].first);
    }
  }
  return out;
}

std::vector<std::string> changed_fields(const AppSpec& before, const AppSpec& after) {
  std::vector<std::pair<const char*, nlohmann::json>> was = field_texts(before);
  std::vector<std::pair<const char*, nlohmann::json>> now = field_texts(after);
  std::vector<std::string> out;
  for (std::size_t i = 0; i < now.size(); ++i) {
    if (was[i].second != now[i].second) {
      out.emplace_back(now[i].first);
    }
  }
  return out;
}

} // namespace herald::cluster
