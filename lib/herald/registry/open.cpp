// Opening the backend a --registry URL names; location.cpp parses the URL.
#include "herald/core/error.hpp"
#include "herald/http/client.hpp"
#include "herald/registry/backends.hpp"
#include "herald/registry/registry.hpp"

#include <memory>
#include <string>
#include <string_view>
#include <utility>

namespace herald::registry {

http::ClientOptions http_client_options(const Options& options, std::string name) {
  http::ClientOptions out;
  out.name = std::move(name);
  out.connect_timeout = options.connect_timeout;
  out.request_timeout = options.request_timeout;
  out.tls = options.tls;
  out.stop = options.stop;
  return out;
}

std::unique_ptr<Registry> open(std::string_view url, const Options& options) {
  Location location = parse_location(url);
  if (location.scheme == "etcd") {
    return make_etcd3_registry(location, options);
  }
  if (location.scheme == "etcd2") {
    return make_etcd2_registry(location, options);
  }
  if (location.scheme == "consul") {
    return make_consul_registry(location, options);
  }
  throw Error(ErrorKind::internal, "no registry backend for scheme '" + location.scheme + "'");
}

} // namespace herald::registry
