#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::docker {

/// A Docker `filters` value: key -> values ({"label": ["a=b"], "status": ["running"]}).
using Filters = std::map<std::string, std::vector<std::string>>;

/// The JSON text Docker expects in a `filters` query parameter (before URL encoding).
std::string encode_filters(const Filters& filters);

/// One host binding of a published container port (NetworkSettings.Ports).
struct PortBinding {
  std::string host_ip;   ///< "127.0.0.1", "0.0.0.0", "::" or ""
  std::string host_port; ///< a string in Docker's JSON; "" in a request means ephemeral
};

/// `/containers/{id}/json`, reduced to what herald reads.
struct Container {
  std::string id;
  std::string name;     ///< without Docker's leading '/'
  std::string image;    ///< Config.Image, as the user named it ("web:1.2")
  std::string image_id; ///< "sha256:..."
  std::string created;  ///< RFC 3339
  int restart_count = 0;

  std::string status; ///< State.Status: created|running|paused|restarting|removing|exited|dead
  bool running = false;
  bool paused = false;
  bool restarting = false;
  int exit_code = 0;
  int pid = 0;
  std::string error;      ///< State.Error
  std::string started_at; ///< RFC 3339; "0001-01-01T00:00:00Z" when never started
  std::string finished_at;
  /// State.Health.Status (starting|healthy|unhealthy); nullopt without a healthcheck. Docker keeps
  /// the last status after the container exits.
  std::optional<std::string> health;

  std::vector<std::string> env;              ///< Config.Env, "KEY=value"
  std::map<std::string, std::string> labels; ///< Config.Labels (container and image labels)
  std::vector<std::string> exposed_ports;    ///< Config.ExposedPorts keys, "8080/tcp"
  std::string network_mode;                  ///< HostConfig.NetworkMode ("bridge", "host", ...)
  /// NetworkSettings.Ports: "8080/tcp" -> host bindings; an exposed but unpublished port maps to
  /// an empty list; the map is empty while the container is not running.
  std::map<std::string, std::vector<PortBinding>> ports;
  /// NetworkSettings.Networks: network name -> the container's IP address on it.
  std::map<std::string, std::string> networks;

  /// The value of environment variable `key`, if Config.Env sets it.
  std::optional<std::string> env_value(std::string_view key) const;
  /// The value of label `key`, if set.
  std::optional<std::string> label(std::string_view key) const;
};

/// A published port in a container list entry (ContainerSummary.Ports).
struct SummaryPort {
  std::string ip; ///< "" for an exposed, unpublished port
  std::uint16_t private_port = 0;
  std::uint16_t public_port = 0; ///< 0 when not published
  std::string type;              ///< "tcp" / "udp"
};

/// One entry of `/containers/json`.
struct ContainerSummary {
  std::string id;
  std::vector<std::string> names; ///< without the leading '/'
  std::string image;
  std::string command;
  std::int64_t created = 0; ///< Unix seconds
  std::string state;        ///< lowercase: running, exited, ...
  std::string status;       ///< human text ("Up 2 seconds (healthy)")
  std::map<std::string, std::string> labels;
  std::vector<SummaryPort> ports;

  /// The first name, or the short id when the container has none.
  std::string name() const;
};

/// `/version`, reduced to what herald reads.
struct VersionInfo {
  std::string version;     ///< "20.10.24+dfsg1"
  std::string api_version; ///< the daemon's newest API, "1.41"
  std::string min_api_version;
  std::string os;
  std::string arch;
  std::string kernel_version;
};

/// `/info`, reduced to what herald reads.
struct SystemInfo {
  std::string id;             ///< the engine's ID ("YUCI:XCIQ:...")
  std::string name;           ///< the host name
  std::string server_version; ///< "20.10.24+dfsg1"
};

/// One line of the `/events` stream.
struct Event {
  std::string type;        ///< "container", "image", "network", ...
  std::string action;      ///< as sent: "start", "health_status: healthy", "exec_create: true "
  std::string base_action; ///< action before ':' and trimmed: "health_status", "exec_create"
  std::string detail;      ///< action after ':' and trimmed: "healthy"; "" for most actions
  std::string actor_id;    ///< the container id for container events
  /// Container labels plus "image", "name" (no leading '/'), and per action "exitCode" (die),
  /// "signal" (kill), "execID" (exec_*).
  std::map<std::string, std::string> attributes;
  std::string scope;          ///< "local" / "swarm"
  std::int64_t time = 0;      ///< Unix seconds
  std::int64_t time_nano = 0; ///< Unix nanoseconds; time * 1e9 when the daemon sent no timeNano

  /// Attribute `key`, if present.
  std::optional<std::string> attribute(std::string_view key) const;
  /// The container name (attribute "name"), "" when absent.
  std::string name() const;
};

/// A healthcheck for a container created by herald.
struct Healthcheck {
  std::vector<std::string> test; ///< ["CMD", "/bin/busybox", "true"] or ["CMD-SHELL", "..."]
  std::chrono::nanoseconds interval{0};
  std::chrono::nanoseconds timeout{0};
  std::chrono::nanoseconds start_period{0};
  int retries = 0;
};

/// A port to publish: container port -> host address (`-p HOST_IP:HOST_PORT:PORT`).
struct Publish {
  std::string container_port; ///< "8080" or "8080/tcp"
  std::string host_ip;        ///< "" = all interfaces
  std::string host_port;      ///< "" = an ephemeral port chosen by Docker
};

/// What `docker create` needs for the containers herald's tests and `herald launch` start.
struct ContainerSpec {
  std::string image;
  std::string name; ///< "" lets Docker pick one
  std::vector<std::string> cmd;
  std::vector<std::string> entrypoint;
  std::vector<std::string> env; ///< "KEY=value"
  std::map<std::string, std::string> labels;
  std::vector<Publish> publish;
  std::optional<Healthcheck> healthcheck;
  std::string network_mode;   ///< "" = Docker's default (bridge)
  std::string restart_policy; ///< "" = "no"; "always", "unless-stopped", "on-failure"
  bool auto_remove = false;
};

/// Normalises a container port: "3000" -> "3000/tcp", "53/udp" stays. Malformed text is
/// Error(usage) naming `what` (the flag).
std::string normalize_container_port(std::string_view port, std::string_view what);

/// Parses an inspect body. A body that is not the expected JSON is Error(data).
Container parse_container(std::string_view json);

/// Parses a `/containers/json` body.
std::vector<ContainerSummary> parse_container_list(std::string_view json);

/// Parses a `/version` body.
VersionInfo parse_version(std::string_view json);

/// Parses one line of the events stream; Error(data) when it is not an event object.
Event parse_event(std::string_view line);

/// Parses an `/info` body.
SystemInfo parse_info(std::string_view json);

/// The text of a `/containers/{id}/logs` body: the multiplexed stream a container without a TTY
/// has (8-byte frame headers: stream, 0, 0, 0, big-endian size) is joined back into text; a
/// body that is not framed (a TTY container's) is returned as it is.
std::string demux_log_stream(std::string_view body);

/// The error of an `/images/create` (pull) progress stream: the `error` of the first line that
/// has one, nullopt when the pull succeeded. Lines that are not JSON are ignored.
std::optional<std::string> pull_stream_error(std::string_view body);

/// The `fromImage` and `tag` parameters for pulling `image`: "web" -> ("web", "latest"),
/// "reg:5000/web:1" -> ("reg:5000/web", "1"), "web@sha256:..." -> ("web@sha256:...", "") (a
/// digest names one image; an empty tag would pull every tag of a name).
std::pair<std::string, std::string> pull_parameters(std::string_view image);

/// The create request body for `spec` (ContainerConfig with HostConfig inside).
std::string create_body(const ContainerSpec& spec);

/// The `Id` of a create response.
std::string parse_create_response(std::string_view json);

/// Docker's own words from an error body: the `message` of {"message": "..."}, else the body
/// itself trimmed to one line (20.10 answers "client version ... is too old" as plain text).
std::string error_message(std::string_view body);

/// Formats a Unix time in nanoseconds as the `since`/`until` parameter Docker accepts
/// ("1795414690.189792409").
std::string format_event_time(std::int64_t time_nano);

} // namespace herald::docker
