#include "docker/fixtures.hpp"
#include "herald/core/error.hpp"
#include "herald/docker/model.hpp"
#include "support/process.hpp"

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <sstream>

using herald::Error;
using herald::ErrorKind;
using herald::test::docker_fixture;
using herald::test::nonempty_lines;
using namespace herald::docker;

namespace {} // namespace

TEST_SUITE_BEGIN("docker");

TEST_CASE("inspect maps id, name, state, health, env, labels and published ports") {
  Container c = parse_container(docker_fixture("container-inspect.excerpt.v1.41.json"));
  CHECK(c.id == "ef331f6b8cfbccdb4e458623b2eee6fdd0312de22770662e159bc1ffff368a56");
  CHECK(c.name == "refprobe2-13950");
  CHECK(c.image == "bb:local");
  CHECK(c.image_id.starts_with("sha256:509f2d05"));
  CHECK(c.status == "running");
  CHECK(c.running);
  CHECK(c.exit_code == 0);
  CHECK(c.pid == 14109);
  REQUIRE(c.health.has_value());
  CHECK(*c.health == "healthy");
  CHECK(c.env.empty()); // "Env": null
  CHECK(c.labels == std::map<std::string, std::string>{{"refprobe", "refprobe2-13950"}});
  CHECK(c.exposed_ports == std::vector<std::string>{"8080/tcp", "9090/udp"});
  CHECK(c.network_mode == "default");
  REQUIRE(c.ports.count("8080/tcp") == 1);
  const auto& bindings = c.ports.at("8080/tcp");
  REQUIRE(bindings.size() == 2);
  CHECK(bindings[0].host_ip == "0.0.0.0");
  CHECK(bindings[0].host_port == "32768");
  CHECK(bindings[1].host_ip == "::");
  CHECK(c.networks.at("bridge") == "172.17.0.2");
}

TEST_CASE("inspect of a loopback-published container keeps the 127.0.0.1 binding and env") {
  Container c = parse_container(docker_fixture("container-inspect-loopback.excerpt.v1.41.json"));
  CHECK(c.name == "refprobe-12307");
  CHECK(*c.health == "starting");
  CHECK(c.env == std::vector<std::string>{"FOO=bar", "SERVICE_NAME=web"});
  CHECK(c.env_value("SERVICE_NAME") == std::optional<std::string>("web"));
  CHECK_FALSE(c.env_value("SERVICE").has_value());
  CHECK(c.label("herald.service") == std::optional<std::string>("web"));
  CHECK_FALSE(c.label("nope").has_value());
  REQUIRE(c.ports.at("8080/tcp").size() == 1);
  CHECK(c.ports.at("8080/tcp")[0].host_ip == "127.0.0.1");
  CHECK(c.ports.at("8080/tcp")[0].host_port == "32768");
}

TEST_CASE("inspect of an exited container has its exit code, no ports and the last health") {
  Container c = parse_container(docker_fixture("container-inspect-exited.excerpt.v1.41.json"));
  CHECK(c.status == "exited");
  CHECK_FALSE(c.running);
  CHECK(c.exit_code == 137);
  CHECK(c.pid == 0);
  CHECK(c.ports.empty());
  CHECK(*c.health == "unhealthy");
  CHECK(c.finished_at == "2026-11-23T06:18:10.189792409Z");
}

TEST_CASE("an unpublished exposed port maps to an empty binding list") {
  Container c = parse_container(R"({"Id":"abc","Name":"/x","State":{"Running":true},
      "NetworkSettings":{"Ports":{"8080/tcp":null}}})");
  REQUIRE(c.ports.count("8080/tcp") == 1);
  CHECK(c.ports.at("8080/tcp").empty());
  CHECK_FALSE(c.health.has_value());
}

TEST_CASE("an inspect body that is not a container is a data error") {
  for (const char* bad : {"not json", "[]", "{}", R"({"message":"x"})"}) {
    CAPTURE(bad);
    try {
      parse_container(bad);
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::data);
    }
  }
}

TEST_CASE("the container list maps names without '/', state, labels and ports") {
  auto list = parse_container_list(docker_fixture("containers-list.v1.41.json"));
  REQUIRE(list.size() == 1);
  const ContainerSummary& s = list[0];
  CHECK(s.id.starts_with("ef331f6b8cfb"));
  CHECK(s.names == std::vector<std::string>{"refprobe2-13950"});
  CHECK(s.name() == "refprobe2-13950");
  CHECK(s.image == "bb:local");
  CHECK(s.command == "httpd -f -p 8080");
  CHECK(s.created == 1795414727);
  CHECK(s.state == "running");
  CHECK(s.status == "Up 2 seconds (healthy)");
  CHECK(s.labels.at("refprobe") == "refprobe2-13950");
  REQUIRE(s.ports.size() == 4);
  CHECK(s.ports[0].ip == "0.0.0.0");
  CHECK(s.ports[0].private_port == 8080);
  CHECK(s.ports[0].public_port == 32768);
  CHECK(s.ports[0].type == "tcp");
  CHECK(s.ports[3].type == "udp");

  auto loopback = parse_container_list(docker_fixture("containers-list-loopback.v1.41.json"));
  REQUIRE(loopback.size() == 1);
  REQUIRE(loopback[0].ports.size() == 1);
  CHECK(loopback[0].ports[0].ip == "127.0.0.1");
  CHECK(loopback[0].labels.at("herald.service") == "web");
  CHECK(parse_container_list("[]").empty());
}

TEST_CASE("version maps the engine and API versions") {
  VersionInfo v = parse_version(docker_fixture("version.v1.41.json"));
  CHECK(v.version == "20.10.24+dfsg1");
  CHECK(v.api_version == "1.41");
  CHECK(v.min_api_version == "1.12");
  CHECK(v.os == "linux");
  CHECK(v.arch == "amd64");
}

TEST_CASE("filtered events parse into typed events with base action and detail") {
  auto text = nonempty_lines(docker_fixture("events-filtered.v1.41.ndjson"));
  REQUIRE(text.size() == 5);
  std::vector<Event> events;
  for (const auto& line : text) {
    events.push_back(parse_event(line));
  }
  CHECK(events[0].type == "container");
  CHECK(events[0].action == "start");
  CHECK(events[0].base_action == "start");
  CHECK(events[0].detail.empty());
  CHECK(events[0].actor_id == "ef331f6b8cfbccdb4e458623b2eee6fdd0312de22770662e159bc1ffff368a56");
  CHECK(events[0].name() == "refprobe2-13950");
  CHECK(events[0].attribute("image") == std::optional<std::string>("bb:local"));
  CHECK(events[0].attribute("refprobe") == std::optional<std::string>("refprobe2-13950"));
  CHECK(events[0].scope == "local");
  CHECK(events[0].time == 1795414728);
  CHECK(events[0].time_nano == 1795414728145875569);

  CHECK(events[1].action == "health_status: healthy");
  CHECK(events[1].base_action == "health_status");
  CHECK(events[1].detail == "healthy");

  CHECK(events[2].base_action == "die");
  CHECK(events[2].attribute("exitCode") == std::optional<std::string>("137"));
  CHECK(events[3].base_action == "stop");
  CHECK(events[4].base_action == "destroy");
}

TEST_CASE("exec events with a trailing space in the action compare on the trimmed base") {
  auto text = nonempty_lines(docker_fixture("events-unfiltered-label.v1.41.ndjson"));
  int execs = 0;
  int kills = 0;
  for (const auto& line : text) {
    Event e = parse_event(line);
    if (e.base_action == "exec_create") {
      ++execs;
      CHECK(e.detail == "true");
      CHECK(e.attribute("execID").has_value());
    }
    if (e.base_action == "kill") {
      ++kills;
      CHECK(e.attribute("signal").has_value());
    }
  }
  CHECK(execs == 7);
  CHECK(kills == 6);
}

TEST_CASE("an event without the typed fields falls back to the legacy status and id") {
  Event e = parse_event(R"({"status":"start","id":"abc","from":"img","time":12})");
  CHECK(e.action == "start");
  CHECK(e.actor_id == "abc");
  CHECK(e.time_nano == 12'000'000'000);
}

TEST_CASE("a line that is not an event is a data error") {
  for (const char* bad : {"{", "[1]", R"({"Type":"container"})"}) {
    CAPTURE(bad);
    CHECK_THROWS_AS(parse_event(bad), Error);
  }
}

TEST_CASE("filters encode as Docker's JSON map of lists") {
  Filters f{{"type", {"container"}}, {"event", {"start", "die"}}, {"label", {"a=b"}}};
  auto j = nlohmann::json::parse(encode_filters(f));
  CHECK(j["type"] == nlohmann::json::array({"container"}));
  CHECK(j["event"] == nlohmann::json::array({"start", "die"}));
  CHECK(j["label"] == nlohmann::json::array({"a=b"}));
  CHECK(encode_filters({}) == "{}");
}

TEST_CASE("event times format as seconds and nine-digit nanoseconds") {
  CHECK(format_event_time(1795414690189792409) == "1795414690.189792409");
  CHECK(format_event_time(1795414690000000123) == "1795414690.000000123");
  CHECK(format_event_time(12'000'000'000) == "12.000000000");
}

TEST_CASE("the create body carries command, env, labels, bindings and healthcheck") {
  ContainerSpec spec;
  spec.image = "herald-test/busybox:latest";
  spec.cmd = {"httpd", "-f", "-p", "8080"};
  spec.env = {"SERVICE_NAME=web"};
  spec.labels = {{"herald.test", "1"}};
  spec.publish = {{"8080", "127.0.0.1", ""}};
  spec.healthcheck = Healthcheck{
      {"CMD", "/bin/busybox", "true"}, std::chrono::seconds(1), std::chrono::seconds(2), {}, 3};
  auto j = nlohmann::json::parse(create_body(spec));
  CHECK(j["Image"] == "herald-test/busybox:latest");
  CHECK(j["Cmd"] == nlohmann::json::array({"httpd", "-f", "-p", "8080"}));
  CHECK(j["Env"] == nlohmann::json::array({"SERVICE_NAME=web"}));
  CHECK(j["Labels"]["herald.test"] == "1");
  CHECK(j["ExposedPorts"].contains("8080/tcp"));
  CHECK(j["HostConfig"]["PortBindings"]["8080/tcp"][0]["HostIp"] == "127.0.0.1");
  CHECK(j["HostConfig"]["PortBindings"]["8080/tcp"][0]["HostPort"] == "");
  CHECK(j["Healthcheck"]["Interval"] == 1'000'000'000);
  CHECK(j["Healthcheck"]["Timeout"] == 2'000'000'000);
  CHECK(j["Healthcheck"]["Retries"] == 3);
  CHECK(j["HostConfig"]["RestartPolicy"]["Name"] == "no");
  CHECK_FALSE(j.contains("Entrypoint"));
}

TEST_CASE("the create response yields the new container's id") {
  CHECK(parse_create_response(docker_fixture("container-create.response.v1.41.json")) ==
        "66c68a1078e90fb5cf373b2f14316460b9a984e6246c55e741acafb8eead8eec");
  CHECK_THROWS_AS(parse_create_response(R"({"Warnings":[]})"), Error);
}

TEST_CASE("container ports normalise to PORT/PROTO and reject anything else") {
  CHECK(normalize_container_port("3000", "--container-port") == "3000/tcp");
  CHECK(normalize_container_port("53/udp", "--container-port") == "53/udp");
  for (const char* bad : {"", "0", "65536", "30x0", "3000/icmp", "/tcp", "-1"}) {
    CAPTURE(bad);
    try {
      normalize_container_port(bad, "--container-port");
      FAIL("no error");
    } catch (const Error& e) {
      CHECK(e.kind() == ErrorKind::usage);
      CHECK(std::string(e.what()).find("--container-port") != std::string::npos);
    }
  }
}

TEST_CASE("an answer with a number out of a double's range is a data error, not a crash") {
  // Found by the docker_json fuzzer: nlohmann throws out_of_range (not parse_error) for 1e4004,
  // which escaped every catch and ended the process (in the events thread: std::terminate).
  for (const char* body : {"1e4004", R"({"Id":"x","State":{"Pid":1e999}})"}) {
    CAPTURE(body);
    CHECK_THROWS_WITH_AS(herald::docker::parse_container(body), doctest::Contains("not JSON"),
                         herald::Error);
  }
}

TEST_CASE("a multiplexed log stream is joined back into text, a TTY stream is kept") {
  auto frame = [](char stream, const std::string& text) {
    std::string out{stream, 0, 0, 0};
    out += static_cast<char>((text.size() >> 24) & 0xff);
    out += static_cast<char>((text.size() >> 16) & 0xff);
    out += static_cast<char>((text.size() >> 8) & 0xff);
    out += static_cast<char>(text.size() & 0xff);
    return out + text;
  };
  CHECK(demux_log_stream(frame(1, "one\n") + frame(2, "two\n")) == "one\ntwo\n");
  CHECK(demux_log_stream("plain tty text\n") == "plain tty text\n");
  CHECK(demux_log_stream("") == "");
  // A frame cut short keeps what arrived.
  CHECK(demux_log_stream(frame(1, "abcdef").substr(0, 11)) == "abc");
}

TEST_CASE("a pull progress stream reports its first error") {
  CHECK_FALSE(pull_stream_error("{\"status\":\"Pulling from library/busybox\"}\n"
                                "{\"status\":\"Status: Image is up to date\"}\n")
                  .has_value());
  CHECK(pull_stream_error("{\"status\":\"Pulling\"}\n{\"errorDetail\":{\"message\":\"x\"},"
                          "\"error\":\"manifest unknown\"}\n") == "manifest unknown");
}

TEST_CASE("pull parameters split the tag and default it to latest") {
  using P = std::pair<std::string, std::string>;
  CHECK(pull_parameters("busybox") == P{"busybox", "latest"});
  CHECK(pull_parameters("web:1.2") == P{"web", "1.2"});
  CHECK(pull_parameters("reg.local:5000/web") == P{"reg.local:5000/web", "latest"});
  CHECK(pull_parameters("reg.local:5000/web:2") == P{"reg.local:5000/web", "2"});
  CHECK(pull_parameters("web@sha256:abcd") == P{"web@sha256:abcd", ""});
}

TEST_CASE("info reads the engine's id and name") {
  SystemInfo info = parse_info(R"({"ID":"YUCI:XCIQ","Name":"node-a","ServerVersion":"20.10.24"})");
  CHECK(info.id == "YUCI:XCIQ");
  CHECK(info.name == "node-a");
  CHECK(info.server_version == "20.10.24");
  CHECK_THROWS_AS(parse_info("[]"), Error);
}

TEST_CASE("a number no integer field holds is a data error naming the field, not a wrap-around") {
  // Found by the docker_json fuzzer: an event "time" of 1.79542e+28 was cast to a 64-bit integer
  // (undefined behaviour); a port of 70000 wrapped to 4464.
  using herald::docker::parse_container;
  using herald::docker::parse_event;
  CHECK_THROWS_WITH_AS(parse_event(R"({"status":"start","id":"x","time":1.79542e+28})"),
                       doctest::Contains("time = 1.79542e+28"), herald::Error);
  CHECK_THROWS_WITH_AS(
      parse_event(R"({"status":"start","id":"x","timeNano":18446744073709551615})"),
      doctest::Contains("timeNano"), herald::Error);
  CHECK_THROWS_WITH_AS(parse_container(R"({"Id":"x","State":{"Pid":2.5}})"),
                       doctest::Contains("Pid"), herald::Error);
  CHECK_THROWS_WITH_AS(parse_container(R"({"Id":"x","State":{"ExitCode":4294967296}})"),
                       doctest::Contains("ExitCode"), herald::Error);
  CHECK_THROWS_WITH_AS(
      herald::docker::parse_container_list(
          R"([{"Id":"x","Names":["/a"],"Ports":[{"PrivatePort":70000,"Type":"tcp"}]}])"),
      doctest::Contains("PrivatePort = 70000"), herald::Error);
  // In range they still read as before, floats with no fraction included.
  auto event = parse_event(R"({"status":"start","id":"x","time":1700000000.0,"timeNano":5})");
  CHECK(event.time == 1700000000);
  CHECK(event.time_nano == 5);
  CHECK(parse_container(R"({"Id":"x","State":{"Pid":-0.0,"ExitCode":-1}})").exit_code == -1);
}

TEST_SUITE_END();
