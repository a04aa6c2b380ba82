#include "herald/fleet/client.hpp"

#include "herald/fleet/errors.hpp"
#include "herald/fleet/unit_name.hpp"

#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <set>

namespace herald::fleet {

namespace {

constexpr std::string_view k_prefix = "/fleet/v1";
// fleetd's page tokens count pages in a uint16: no honest server sends more.
constexpr int k_max_pages = 65535;

http::ClientOptions http_options(const ClientOptions& options) {
  http::ClientOptions out;
  out.name = "fleet";
  out.connect_timeout = options.connect_timeout;
  out.request_timeout = options.request_timeout;
  out.stop = options.stop;
  out.default_headers.push_back("Accept: application/json");
  return out;
}

} // namespace

std::string unit_path(std::string_view name) {
  return fmt::format("{}/units/{}", k_prefix, http::url_encode(name));
}

std::string encode_put(std::string_view name, const UnitPut& put) {
  nlohmann::json body = nlohmann::json::object();
  body["name"] = name;
  if (put.desired_state) {
    body["desiredState"] = to_string(*put.desired_state);
  }
  if (put.options) {
    nlohmann::json options = nlohmann::json::array();
    for (const UnitOption& option : *put.options) {
      options.push_back(
          {{"section", option.section}, {"name", option.name}, {"value", option.value}});
    }
    body["options"] = std::move(options);
  }
  return body.dump();
}

struct Client::Impl {
  ClientOptions options;
  http::Client http;
  std::string display;

  Impl(std::vector<http::Endpoint> endpoints, ClientOptions opts)
      : options(std::move(opts)), http(std::move(endpoints), http_options(options)) {
    display = options.display.empty() ? http.current_endpoint().str() : options.display;
  }

  /// "unix:///var/run/fleet.sock/fleet/v1/units/x" for messages, without a query.
  std::string where(std::string_view path) const {
    return display + std::string(path.substr(0, path.find('?')));
  }

  http::Response send(const std::string& method, const std::string& path, std::string body = {}) {
    http::Request request;
    request.method = method;
    request.path = path;
    if (!body.empty()) {
      request.body = std::move(body);
      request.headers.push_back("Content-Type: application/json");
    }
    try {
      return http.send(request);
    } catch (const Error& e) {
      if (e.kind() != ErrorKind::cancelled && options.explain_failure) {
        if (auto better = options.explain_failure(e)) {
          throw *better;
        }
      }
      throw;
    }
  }

  [[noreturn]] void fail(const std::string& method, const std::string& path,
                         const http::Response& response) const {
    throw response_error(method, where(path), response.status, response.body);
  }

  /// Every item of a paged collection.
  template <typename Item, typename Decode>
  std::vector<Item> list_all(const std::string& resource, const std::string& query, Decode decode) {
    std::vector<Item> all;
    std::string token;
    std::set<std::string> seen;
    for (int page = 0; page < k_max_pages; ++page) {
      std::string path = fmt::format("{}/{}", k_prefix, resource);
      std::string params = query;
      if (!token.empty()) {
        params +=
            (params.empty() ? "" : "&") + std::string("nextPageToken=") + http::url_encode(token);
      }
      if (!params.empty()) {
        path += "?" + params;
      }
      http::Response response = send("GET", path);
      if (response.status != 200) {
        fail("GET", path, response);
      }
      Page<Item> got = decode(response.body, "GET " + where(path));
      all.insert(all.end(), std::make_move_iterator(got.items.begin()),
                 std::make_move_iterator(got.items.end()));
      if (got.next_page_token.empty()) {
        return all;
      }
      if (!seen.insert(got.next_page_token).second) {
        throw Error(ErrorKind::data, fmt::format("fleet at {} handed out the page token '{}' twice",
                                                 display, got.next_page_token));
      }
      token = std::move(got.next_page_token);
    }
    throw Error(ErrorKind::data, fmt::format("fleet at {} paged {} through more than {} pages",
                                             display, resource, k_max_pages));
  }
};

Client::Client(std::vector<http::Endpoint> endpoints, ClientOptions options)
    : m_impl(std::make_unique<Impl>(std::move(endpoints), std::move(options))) {}

Client::~Client() = default;
Client::Client(Client&&) noexcept = default;
Client& Client::operator=(Client&&) noexcept = default;

const std::string& Client::display() const {
  return m_impl->display;
}

std::vector<Unit> Client::list_units() {
  return m_impl->list_all<Unit>("units", "", decode_unit_page);
}

std::optional<Unit> Client::get_unit(std::string_view name) {
  std::string path = unit_path(name);
  http::Response response = m_impl->send("GET", path);
  if (response.status == 404) {
    return std::nullopt;
  }
  if (response.status != 200) {
    m_impl->fail("GET", path, response);
  }
  return decode_unit_body(response.body, "GET " + m_impl->where(path));
}

PutOutcome Client::put_unit(std::string_view name, const UnitPut& put) {
  if (auto problem = unit_name_problem(name)) {
    throw Error(ErrorKind::usage, fmt::format("invalid unit name '{}': {}", name, *problem));
  }
  if (!put.options && !put.desired_state) {
    throw Error(ErrorKind::internal,
                fmt::format("a PUT of {} needs options or a desired state", name));
  }
  UnitPut joined = put;
  if (joined.options) {
    for (UnitOption& option : *joined.options) {
      option.value = join_continuation_lines(option.value);
    }
  }
  std::string path = unit_path(name);
  http::Response response = m_impl->send("PUT", path, encode_put(name, joined));
  if (response.status == 201) {
    return PutOutcome::created;
  }
  if (response.status == 204) {
    return PutOutcome::updated;
  }
  m_impl->fail("PUT", path, response);
}

bool Client::delete_unit(std::string_view name) {
  std::string path = unit_path(name);
  http::Response response = m_impl->send("DELETE", path);
  if (response.status == 404) {
    return false;
  }
  if (!response.ok()) {
    m_impl->fail("DELETE", path, response);
  }
  return true;
}

std::vector<UnitState> Client::list_states(const StateFilter& filter) {
  std::string query;
  if (!filter.machine_id.empty()) {
    query = "machineID=" + http::url_encode(filter.machine_id);
  }
  if (!filter.unit_name.empty()) {
    query +=
        (query.empty() ? "" : "&") + std::string("unitName=") + http::url_encode(filter.unit_name);
  }
  return m_impl->list_all<UnitState>("state", query, decode_state_page);
}

std::vector<Machine> Client::list_machines() {
  return m_impl->list_all<Machine>("machines", "", decode_machine_page);
}

void Client::set_machine_metadata(std::string_view machine_id, std::string_view key,
                                  std::optional<std::string_view> value) {
  nlohmann::json op = {{"op", value ? "add" : "remove"},
                       {"path", fmt::format("/{}/metadata/{}", machine_id, key)}};
  if (value) {
    op["value"] = {{"value", *value}};
  }
  std::string path = fmt::format("{}/machines", k_prefix);
  http::Response response = m_impl->send("PATCH", path, nlohmann::json::array({op}).dump());
  if (!response.ok()) {
    m_impl->fail("PATCH", path, response);
  }
}

} // namespace herald::fleet
