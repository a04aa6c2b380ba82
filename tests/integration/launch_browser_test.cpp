#include "herald/core/base64.hpp"
#include "integration/launch_world.hpp"
#include "support/process.hpp"
#include "support/temp_dir.hpp"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdint>
#include <cstdlib>
#include <doctest/doctest.h>
#include <filesystem>
#include <fstream>
#include <map>
#include <memory>
#include <netinet/in.h>
#include <nlohmann/json.hpp>
#include <string>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <unistd.h>
#include <vector>

using namespace herald::test;
using namespace std::chrono_literals;

// The launcher's waiting page in a real browser: headless Chromium, driven through chromedriver's
// WebDriver HTTP API, opens an unknown app's path through the real nginx (LaunchWorld: etcd, the
// registrator, `herald render --watch` of nginx-path.tmpl, the launcher). The page it gets is the
// waiting page (screenshot taken then); without a click or a navigation the same tab then shows
// the app, because the page reloads itself until the router routes the path to the app.

namespace {

const std::string k_chromium = "/usr/bin/chromium";

/// The processes below `root` (children, grandchildren, ...) and those whose command line names
/// `dir` (Chromium's crash handler leaves the tree), read from /proc.
std::vector<pid_t> browser_processes(pid_t root, const std::string& dir) {
  std::multimap<pid_t, pid_t> children;
  std::vector<pid_t> out;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator("/proc", ec)) {
    const std::string name = entry.path().filename().string();
    if (name.empty() || !std::all_of(name.begin(), name.end(), ::isdigit)) {
      continue;
    }
    // "PID (COMM) STATE PPID ...": COMM may hold spaces and parentheses, so read after the last
    // ')'.
    std::string stat = read_file(entry.path().string() + "/stat");
    auto close = stat.rfind(')');
    if (close == std::string::npos || close + 4 >= stat.size()) {
      continue;
    }
    pid_t pid = static_cast<pid_t>(std::atoi(name.c_str()));
    children.emplace(static_cast<pid_t>(std::atoi(stat.c_str() + close + 4)), pid);
    if (read_file(entry.path().string() + "/cmdline").find(dir) != std::string::npos) {
      out.push_back(pid);
    }
  }
  std::vector<pid_t> todo{root};
  while (!todo.empty()) {
    pid_t parent = todo.back();
    todo.pop_back();
    auto [first, last] = children.equal_range(parent);
    for (auto it = first; it != last; ++it) {
      out.push_back(it->second);
      todo.push_back(it->second);
    }
  }
  return out;
}

/// One HTTP/1.1 request to chromedriver on 127.0.0.1:`port` with a JSON body, over a fresh
/// connection; the answer's body is read by its Content-Length, because chromedriver keeps the
/// connection open after answering (support's http_request reads until the server closes).
HttpReply webdriver_request(int port, const std::string& method, const std::string& path,
                            const std::string& body, int timeout_ms) {
  HttpReply reply;
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) {
    return reply;
  }
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  std::string request = method + " " + path +
                        " HTTP/1.1\r\nHost: 127.0.0.1:" + std::to_string(port) +
                        "\r\nConnection: close\r\n";
  if (!body.empty()) {
    request += "Content-Type: application/json; charset=utf-8\r\nContent-Length: " +
               std::to_string(body.size()) + "\r\n";
  }
  request += "\r\n" + body;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::send(fd, request.data(), request.size(), MSG_NOSIGNAL) !=
          static_cast<ssize_t>(request.size())) {
    ::close(fd);
    return reply;
  }
  std::string raw;
  std::size_t header_end = std::string::npos;
  std::size_t wanted = std::string::npos; // header + body, once the headers are in
  char buf[16384];
  while (wanted == std::string::npos || raw.size() < wanted) {
    ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) {
      break;
    }
    raw.append(buf, static_cast<std::size_t>(n));
    if (header_end == std::string::npos &&
        (header_end = raw.find("\r\n\r\n")) != std::string::npos) {
      std::string headers = raw.substr(0, header_end);
      std::transform(headers.begin(), headers.end(), headers.begin(), ::tolower);
      auto at = headers.find("\r\ncontent-length:");
      if (at != std::string::npos) {
        wanted = header_end + 4 + std::strtoul(headers.c_str() + at + 17, nullptr, 10);
      }
    }
  }
  ::close(fd);
  if (raw.rfind("HTTP/1.", 0) != 0 || header_end == std::string::npos) {
    return reply;
  }
  reply.status = std::atoi(raw.c_str() + 9);
  reply.body = raw.substr(header_end + 4);
  return reply;
}

/// What one WebDriver command answered: the HTTP status and the "value" of its JSON body.
struct WdReply {
  int status = 0;
  nlohmann::json value;
  std::string raw;
};

/// chromedriver on a free port with one Chromium session; the session is deleted and every
/// process chromedriver started is killed on destruction, whatever happened in the test.
class Browser {
public:
  explicit Browser(const std::string& chromedriver) {
    m_port = free_port();
    // HOME and the XDG dirs in the temp dir: Chromium's crash reports and caches go there too.
    m_driver = std::make_unique<Process>(
        std::vector<std::string>{chromedriver, "--port=" + std::to_string(m_port)},
        std::map<std::string, std::string>{{"HOME", m_home.path()},
                                           {"XDG_CONFIG_HOME", m_home.file("config")},
                                           {"XDG_CACHE_HOME", m_home.file("cache")}});
    REQUIRE_MESSAGE(eventually([&] { return port_open(m_port); }, 20s),
                    "chromedriver did not listen: " << m_driver->err() << m_driver->out());
    nlohmann::json options{
        {"binary", k_chromium},
        {"args",
         {"--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
          "--no-proxy-server", "--no-first-run", "--user-data-dir=" + m_home.file("profile")}}};
    // pageLoadStrategy none: a command does not wait for the navigation the page's refresh has
    // pending (it always has one while the app starts), nor does navigating wait for the load.
    nlohmann::json caps{
        {"capabilities",
         {{"alwaysMatch",
           {{"pageLoadStrategy", "none"}, {"goog:chromeOptions", std::move(options)}}}}}};
    WdReply created = call("POST", "/session", caps, 60000);
    REQUIRE_MESSAGE(created.status == 200,
                    "new session: " << created.raw << " chromedriver: " << m_driver->err());
    m_session = created.value.value("sessionId", "");
    REQUIRE(!m_session.empty());
  }

  ~Browser() {
    quit();
    // Chromium and its helpers are chromedriver's descendants (and in its process group); its
    // crash handler, which leaves the tree, names the temp dir. Whatever the session's end left
    // running goes now, before chromedriver itself.
    for (pid_t pid : browser_processes(m_driver->pid(), m_home.path())) {
      ::kill(pid, SIGKILL);
    }
    ::kill(-m_driver->pid(), SIGKILL);
  }

  Browser(const Browser&) = delete;
  Browser& operator=(const Browser&) = delete;

  /// One WebDriver command: METHOD /PATH with a JSON body (none when `body` is null).
  WdReply call(const std::string& method, const std::string& path, const nlohmann::json& body,
               int timeout_ms = 30000) const {
    std::string text = body.is_null() ? (method == "POST" ? "{}" : "") : body.dump();
    HttpReply reply = webdriver_request(m_port, method, path, text, timeout_ms);
    WdReply out;
    out.status = reply.status;
    out.raw = reply.body;
    auto doc = nlohmann::json::parse(reply.body, nullptr, false);
    if (doc.is_object() && doc.contains("value")) {
      out.value = doc["value"];
    }
    return out;
  }

  /// A command of this session: /session/ID/PATH.
  WdReply session(const std::string& method, const std::string& path,
                  const nlohmann::json& body = nullptr, int timeout_ms = 30000) const {
    return call(method, "/session/" + m_session + path, body, timeout_ms);
  }

  /// Runs `script` in the page and returns its value (null when the page was between loads).
  nlohmann::json script(const std::string& script) const {
    WdReply r =
        session("POST", "/execute/sync", {{"script", script}, {"args", nlohmann::json::array()}});
    return r.status == 200 ? r.value : nlohmann::json();
  }

  std::string source() const {
    WdReply r = session("GET", "/source");
    return r.status == 200 && r.value.is_string() ? r.value.get<std::string>() : "";
  }

  std::string log() const { return m_driver->err() + m_driver->out(); }

  /// Deletes the session (Chromium quits); the HTTP status, 0 when there was none.
  int quit() {
    if (m_session.empty()) {
      return 0;
    }
    WdReply r = call("DELETE", "/session/" + m_session, nullptr, 20000);
    m_session.clear();
    return r.status;
  }

private:
  TempDir m_home; ///< HOME and Chromium's profile; outlives the processes using it
  std::unique_ptr<Process> m_driver;
  int m_port = 0;
  std::string m_session;
};

/// Width and height from a PNG's IHDR chunk, or {0, 0} when `png` is not a PNG.
std::pair<std::uint32_t, std::uint32_t> png_size(const std::string& png) {
  const std::string signature("\x89PNG\r\n\x1a\n", 8);
  if (png.size() < 33 || png.compare(0, 8, signature) != 0 || png.compare(12, 4, "IHDR") != 0) {
    return {0, 0};
  }
  auto be32 = [&](std::size_t at) {
    std::uint32_t v = 0;
    for (std::size_t i = 0; i < 4; ++i) {
      v = (v << 8) | static_cast<unsigned char>(png[at + i]);
    }
    return v;
  };
  return {be32(16), be32(20)};
}

bool is_waiting_page(const std::string& source, const std::string& app) {
  return source.find("<code>" + app + "</code>") != std::string::npos &&
         source.find("Starting") != std::string::npos &&
         source.find("http-equiv=\"refresh\"") != std::string::npos;
}

std::string trimmed(std::string s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) {
    s.pop_back();
  }
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) {
    s.erase(s.begin());
  }
  return s;
}

} // namespace

TEST_SUITE_BEGIN("docker");

TEST_CASE("launch serve's waiting page in a headless browser (chromium): shown at first, fits a "
          "phone, and the same tab lands on the app without a click") {
  std::string chromedriver = find_program("chromedriver");
  if (::access(k_chromium.c_str(), X_OK) != 0 || chromedriver.empty()) {
    skip("chromium or chromedriver is not installed (Debian packages chromium, chromium-driver)");
  }
  LaunchWorld world;
  world.start_router();
  world.start_launcher();
  // nginx sends what no app claims to the launcher once its announcement is rendered; the
  // launcher's own /healthz shows it without starting anything.
  REQUIRE_MESSAGE(eventually(
                      [&] {
                        Answer health = world.curl_get_router("/healthz");
                        return health.status == 200 && trimmed(health.body) == "ok";
                      },
                      30s),
                  "launcher not routed: " << world.render->err() << world.launcher->err());

  Browser browser(chromedriver);
  // A phone's viewport: 390 CSS pixels wide.
  WdReply rect = browser.session("POST", "/window/rect", {{"width", 390}, {"height", 844}});
  REQUIRE_MESSAGE(rect.status == 200, rect.raw);

  const std::string h = world.app("h");
  const std::string url = "http://127.0.0.1:" + std::to_string(world.nginx->port()) + "/" + h + "/";
  WdReply opened = browser.session("POST", "/url", {{"url", url}}, 60000);
  REQUIRE_MESSAGE(opened.status == 200, opened.raw << browser.log());

  // The waiting page, loaded, before and after the screenshot: the screenshot shows it.
  REQUIRE_MESSAGE(
      eventually(
          [&] {
            nlohmann::json state =
                browser.script("return document.readyState == 'complete' && document.body ? "
                               "document.body.innerText : ''");
            return state.is_string() &&
                   state.get<std::string>().find("Starting") != std::string::npos;
          },
          30s),
      "no waiting page: " << browser.source() << "\nlauncher: " << world.launcher->err());
  std::string before = browser.source();
  WdReply shot = browser.session("GET", "/screenshot");
  nlohmann::json layout = browser.script(
      "return {scrollWidth: document.documentElement.scrollWidth, innerWidth: window.innerWidth,"
      " text: document.body ? document.body.innerText : ''}");
  std::string after = browser.source();
  CHECK_MESSAGE(is_waiting_page(before, h), before << "\nlauncher: " << world.launcher->err());
  CHECK_MESSAGE(is_waiting_page(after, h), after);

  REQUIRE_MESSAGE(shot.status == 200, shot.raw.substr(0, 500));
  REQUIRE(shot.value.is_string());
  herald::Base64Decoded png = herald::base64_decode(shot.value.get<std::string>());
  REQUIRE(static_cast<bool>(png));
  std::string png_path = world.dir.write("waiting-page.png", png.bytes);
  MESSAGE("screenshot of the waiting page: " << png_path << " (" << png.bytes.size() << " bytes)");
  auto [width, height] = png_size(png.bytes);
  CHECK(width >= 300);
  CHECK(width <= 1200);
  CHECK(height >= 400);
  CHECK(height <= 2000);
  // A blank page of that size compresses to about 2 KB; the waiting page (text on a card) to
  // nearly 20 KB.
  CHECK(png.bytes.size() > 6000);
  CHECK(png.bytes.size() < 5'000'000);

  // Readable on a phone: the viewport is the phone's and nothing scrolls sideways.
  REQUIRE_MESSAGE(layout.is_object(), layout.dump());
  CHECK(layout["innerWidth"].get<int>() <= 390);
  CHECK(layout["scrollWidth"].get<int>() <= 390);
  CHECK(layout["text"].get<std::string>().find(h) != std::string::npos);

  // No click, no navigation: the page reloads itself until the router routes /h-PID/ to the app.
  std::string text;
  bool landed = eventually(
      [&] {
        nlohmann::json body = browser.script("return document.body ? document.body.innerText : ''");
        text = body.is_string() ? trimmed(body.get<std::string>()) : text;
        if (text == h) {
          return true;
        }
        sleep_ms(250);
        return false;
      },
      90s);
  CHECK_MESSAGE(landed, "last text: " << text << "\nlauncher: " << world.launcher->err()
                                      << "\nrender: " << world.render->err());
  WdReply where = browser.session("GET", "/url");
  CHECK(where.value == url);
  CHECK(world.containers_of(h) == 1);

  CHECK(browser.quit() == 200);
}

TEST_SUITE_END();
