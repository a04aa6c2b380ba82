#include "herald/fleet/errors.hpp"

#include "herald/fleet/model.hpp"
#include "herald/http/client.hpp"

#include <fmt/format.h>
#include <string>

namespace herald::fleet {

namespace {

ErrorKind kind_for_status(long status) {
  switch (status) {
  case 400:
  case 409:
    return ErrorKind::data;
  case 401:
  case 403:
    return ErrorKind::config;
  case 404:
    return ErrorKind::not_found;
  case 405:
  case 415:
    return ErrorKind::internal;
  case 503:
    return ErrorKind::unavailable;
  default:
    return status >= 500 || status == 408 || status == 429 ? ErrorKind::temporary : ErrorKind::data;
  }
}

/// `text` on one line with control bytes replaced, so that a server's words cannot move the
/// cursor of the terminal they are printed on.
std::string printable(std::string_view text) {
  constexpr std::size_t k_max = 300;
  std::string out;
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    out += (u < 0x20 || u == 0x7f) ? ' ' : c;
    if (out.size() >= k_max) {
      out += "...";
      break;
    }
  }
  return out;
}

} // namespace

Error response_error(std::string_view method, std::string_view where, long status,
                     std::string_view body) {
  std::string message = printable(error_message(body));
  if (message.empty() && status >= 500 && status != 503) {
    message = "(fleet gives no reason for a 500: see fleetd's journal; etcd may be unreachable)";
  } else if (message.empty() && status >= 300) {
    std::string text = printable(body);
    message = text.find("\"error\"") != std::string::npos ? std::string() : text;
  }
  std::string_view name = http::reason_phrase(status);
  return Error(kind_for_status(status),
               fmt::format("{} {}: HTTP {}{}{}{}{}", method, where, status, name.empty() ? "" : " ",
                           name, message.empty() ? "" : ": ", message));
}

} // namespace herald::fleet
