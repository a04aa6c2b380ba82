#include "herald/launch/handler.hpp"

#include "herald/core/error.hpp"
#include "herald/core/strings.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <fmt/format.h>
#include <nlohmann/json.hpp>
#include <spdlog/spdlog.h>

namespace herald::launch {

namespace {

using Clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

/// How long a held request sleeps at most between looks at the stop token.
constexpr milliseconds k_wait_slice{200};
/// How much of a rejected target or Host reaches the debug log.
constexpr std::size_t k_logged_text = 200;

bool contains_nocase(std::string_view haystack, std::string_view needle) {
  auto it = std::search(haystack.begin(), haystack.end(), needle.begin(), needle.end(),
                        [](char a, char b) {
                          return std::tolower(static_cast<unsigned char>(a)) ==
                                 std::tolower(static_cast<unsigned char>(b));
                        });
  return it != haystack.end();
}

bool is_ip_literal(std::string_view text) {
  if (text.empty() || text.size() >= INET6_ADDRSTRLEN) {
    return false;
  }
  std::string s(text);
  unsigned char buffer[sizeof(in6_addr)];
  return ::inet_pton(AF_INET, s.c_str(), buffer) == 1 ||
         ::inet_pton(AF_INET6, s.c_str(), buffer) == 1;
}

/// What of untrusted text may reach a log line: escaped and cut short.
std::string loggable(std::string_view text) {
  if (text.size() > k_logged_text) {
    return escape_control(text.substr(0, k_logged_text)) + "...";
  }
  return escape_control(text);
}

bool is_get_or_head(const Request& request) {
  return request.method == "GET" || request.method == "HEAD";
}

bool wants_html(const Request& request) {
  return is_get_or_head(request) && contains_nocase(request.accept, "text/html");
}

long long seconds_until(Clock::time_point when, Clock::time_point now) {
  if (when <= now) {
    return 1;
  }
  auto ms = std::chrono::duration_cast<milliseconds>(when - now).count();
  return std::max<long long>(1, (ms + 999) / 1000);
}

/// A target that may go back out in a Location header: printable ASCII only.
bool is_safe_location(std::string_view target) {
  return !target.empty() && target.front() == '/' && target.size() <= 8192 &&
         std::all_of(target.begin(), target.end(), [](char c) { return c > 0x20 && c < 0x7f; });
}

Response no_store(int status) {
  Response r;
  r.status = status;
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

void set_json(Response& r, const nlohmann::json& body) {
  r.headers.emplace_back("Content-Type", "application/json");
  r.body = body.dump() + "\n";
}

void set_html(Response& r, std::string body) {
  r.headers.emplace_back("Content-Type", "text/html; charset=utf-8");
  r.body = std::move(body);
}

/// A small page in the waiting page's style.
std::string page(std::string_view title, std::string_view head_extra, std::string_view body) {
  return fmt::format(R"(<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
{}<title>{}</title>
<style>
body{{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;padding:2rem 1rem;
background:#f6f7f9;color:#1f2328;display:flex;justify-content:center}}
main{{max-width:32rem;width:100%;background:#fff;border-radius:8px;padding:1.5rem;
box-shadow:0 1px 3px rgba(0,0,0,.12)}}
h1{{font-size:1.25rem;margin:0 0 .75rem}}p{{line-height:1.5;margin:.5rem 0}}
code{{font-size:1rem;background:#eef0f3;padding:.1rem .3rem;border-radius:4px}}
.muted{{color:#656d76;font-size:.9rem}}
</style>
</head>
<body>
<main>
{}
</main>
</body>
</html>
)",
                     head_extra, title, body);
}

} // namespace

const std::string_view k_nginx_404_body = "<html>\r\n"
                                          "<head><title>404 Not Found</title></head>\r\n"
                                          "<body>\r\n"
                                          "<center><h1>404 Not Found</h1></center>\r\n"
                                          "<hr><center>nginx</center>\r\n"
                                          "</body>\r\n"
                                          "</html>\r\n";

std::string Response::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) {
      return value;
    }
  }
  return "";
}

std::string waiting_page(std::string_view app, long long elapsed_seconds) {
  auto name = html_escape(app);
  return page(fmt::format("Starting {}", name), "<meta http-equiv=\"refresh\" content=\"2\">\n",
              fmt::format("<h1>Starting <code>{}</code>&hellip;</h1>\n"
                          "<p>The app is being started for you ({} s so far). This page "
                          "reloads by itself and shows the app as soon as it is ready.</p>\n"
                          "<p class=\"muted\">Nothing to do but wait a moment.</p>",
                          name, elapsed_seconds));
}

std::string client_address(std::string_view peer, std::string_view x_real_ip,
                           std::string_view x_forwarded_for,
                           const std::vector<std::string>& trusted) {
  std::string_view p = peer;
  constexpr std::string_view k_mapped = "::ffff:";
  if (p.substr(0, k_mapped.size()) == k_mapped && p.find('.') != std::string_view::npos) {
    p.remove_prefix(k_mapped.size());
  }
  if (std::find(trusted.begin(), trusted.end(), p) == trusted.end()) {
    return std::string(p);
  }
  auto real = trim(x_real_ip);
  if (is_ip_literal(real)) {
    return std::string(real);
  }
  auto comma = x_forwarded_for.rfind(',');
  auto last =
      trim(comma == std::string_view::npos ? x_forwarded_for : x_forwarded_for.substr(comma + 1));
  if (is_ip_literal(last)) {
    return std::string(last);
  }
  return std::string(p);
}

Handler::Handler(const ServeOptions& options, Policy& policy, Flights& flights, RoutableFn routable,
                 Metrics& metrics, const StopToken& stop)
    : m_options(options), m_policy(policy), m_flights(flights), m_routable(std::move(routable)),
      m_metrics(metrics), m_stop(stop) {}

Response Handler::handle(const Request& request) {
  try {
    std::string_view target = request.target;
    auto path = target.substr(0, target.find('?'));
    if (path == "/healthz" || path == "/metrics") {
      if (!is_get_or_head(request)) {
        auto r = no_store(405);
        r.headers.emplace_back("Allow", "GET, HEAD");
        r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
        r.body = "method not allowed\n";
        return r;
      }
      auto r = no_store(200);
      if (path == "/healthz") {
        r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
        r.body = "ok\n";
      } else {
        r.headers.emplace_back("Content-Type", "text/plain; version=0.0.4; charset=utf-8");
        r.body = m_metrics.text();
      }
      return r;
    }
    bool by_path = m_options.mode == RoutingMode::path;
    auto app =
        by_path ? app_from_path(request.target) : app_from_host(request.host, m_options.domain);
    std::string shown = by_path ? request.target : request.host;
    if (!app) {
      return refused_404(shown, Decision{false, Reason::bad_name, "no app name", {}});
    }
    if (by_path && (*app == "healthz" || *app == "metrics")) {
      return refused_404(shown, Decision{false, Reason::bad_name, "a name the launcher uses", {}});
    }
    auto decision = m_policy.check(*app);
    if (!decision.allowed) {
      return refused_404(shown, decision);
    }
    return handle_app(request, *app);
  } catch (const std::exception& e) {
    spdlog::warn("launch: answering {} {}: {}", loggable(request.method), loggable(request.target),
                 escape_control(e.what()));
    auto r = no_store(500);
    r.headers.emplace_back("Content-Type", "text/plain; charset=utf-8");
    r.body = "internal error\n";
    return r;
  }
}

Response Handler::refused_404(const std::string& shown, const Decision& decision) {
  m_metrics.refused(decision.reason);
  spdlog::debug("launch: refused {}: {} ({})", loggable(shown), to_string(decision.reason),
                escape_control(decision.detail));
  Response r;
  r.status = 404;
  r.headers.emplace_back("Content-Type", "text/html");
  r.body = std::string(k_nginx_404_body);
  return r;
}

Response Handler::handle_app(const Request& request, const std::string& app) {
  auto now = Clock::now();
  auto deadline = now + m_options.hold.value_or(milliseconds(0));
  if (m_routable) {
    std::optional<std::string> address;
    try {
      address = m_routable(app);
    } catch (const std::exception& e) {
      spdlog::debug("launch: is {} routable? {}", app, escape_control(e.what()));
    }
    if (address) {
      return redirect_when_router_ready(request, deadline);
    }
  }
  auto status = m_flights.status(app);
  bool would_begin = !status || (status->state == Status::State::failed && now >= status->retry_at);
  if (would_begin) {
    auto decision = m_policy.admit(request.client, m_flights.count());
    if (!decision.allowed) {
      m_metrics.refused(decision.reason);
      spdlog::debug("launch: not starting {} for {}: {} ({})", app, loggable(request.client),
                    to_string(decision.reason), escape_control(decision.detail));
      auto r = no_store(decision.reason == Reason::cap ? 503 : 429);
      auto seconds = std::max<long long>(1, decision.retry_after.count());
      r.headers.emplace_back("Retry-After", std::to_string(seconds));
      if (wants_html(request)) {
        set_html(r, page("Please try again shortly", "",
                         fmt::format("<h1>Please try again shortly</h1>\n<p><code>{}</code> "
                                     "cannot be started right now. Try again in {} s.</p>",
                                     html_escape(app), seconds)));
      } else {
        set_json(r, {{"app", app}, {"state", "throttled"}, {"retry_after_seconds", seconds}});
      }
      return r;
    }
  }
  bool began = false;
  auto started = m_flights.begin(app, began);
  if (began) {
    spdlog::info("launching {} for a request from {}", app, loggable(request.client));
  }
  return answer_status(request, app, started, deadline);
}

Response Handler::answer_status(const Request& request, const std::string& app,
                                const Status& status, Clock::time_point deadline) {
  Status current = status;
  while (current.state == Status::State::starting && !m_stop.requested()) {
    auto now = Clock::now();
    if (now >= deadline) {
      break;
    }
    auto slice = std::min(k_wait_slice, std::chrono::duration_cast<milliseconds>(deadline - now) +
                                            milliseconds(1));
    try {
      current = m_flights.wait(app, slice);
    } catch (const Error&) {
      break; // forgotten meanwhile: answer as starting, the next request begins it again
    }
  }
  auto now = Clock::now();
  switch (current.state) {
  case Status::State::ready:
    return redirect_when_router_ready(request, deadline);
  case Status::State::failed: {
    auto r = no_store(503);
    auto seconds = seconds_until(current.retry_at, now);
    r.headers.emplace_back("Retry-After", std::to_string(seconds));
    if (wants_html(request)) {
      set_html(r, page(fmt::format("{} could not be started", html_escape(app)), "",
                       fmt::format("<h1><code>{}</code> could not be started</h1>\n"
                                   "<p>Please try again in {} s. If this goes on, tell the "
                                   "operator the reference <code>{}</code>.</p>",
                                   html_escape(app), seconds, html_escape(current.reference))));
    } else {
      set_json(r, {{"app", app},
                   {"state", "failed"},
                   {"reference", current.reference},
                   {"retry_after_seconds", seconds}});
    }
    return r;
  }
  case Status::State::starting:
    break;
  }
  auto r = no_store(503);
  r.headers.emplace_back("Retry-After", "2");
  auto elapsed = std::max<long long>(
      0, std::chrono::duration_cast<std::chrono::seconds>(now - current.since).count());
  if (wants_html(request)) {
    set_html(r, waiting_page(app, elapsed));
  } else {
    set_json(r, {{"app", app}, {"state", "starting"}, {"elapsed_seconds", elapsed}});
  }
  return r;
}

Response Handler::redirect_when_router_ready(const Request& request, Clock::time_point deadline) {
  auto now = Clock::now();
  auto wait = m_options.ready_wait;
  if (m_options.hold) {
    wait = std::min(
        wait, std::max(milliseconds(0), std::chrono::duration_cast<milliseconds>(deadline - now)));
  }
  sleep_until(now + wait);
  auto r = no_store(307);
  // The request target went through the parser, so it holds no CR or LF; only printable ASCII
  // goes back out all the same.
  auto location = request.target;
  if (!is_safe_location(location)) {
    location = "/";
  }
  r.headers.emplace_back("Location", location);
  return r;
}

bool Handler::sleep_until(Clock::time_point until) {
  auto now = Clock::now();
  if (until <= now) {
    return m_stop.requested();
  }
  return m_stop.wait_for(std::chrono::duration_cast<milliseconds>(until - now));
}

} // namespace herald::launch
