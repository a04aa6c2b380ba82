#pragma once

// The scheduler: one interface to run an app's instances, whatever runs them (DESIGN.md,
// "scheduler/"). `cluster up` plans against list(), applies with start()/stop()/remove() and
// follows with wait(); the backends live in subfolders: docker/ (containers on one Docker
// engine), fleet/ (units through fleet's API), memory/ (in-process, for the planner's tests).
//
// State lives in what runs, never in a local file: every instance carries the spec hash it was
// made from (a Docker label, an X-Herald-Spec= line in the fleet unit), so two laptops that list
// the same cluster see the same truth.

#include "herald/core/name.hpp"
#include "herald/core/stop.hpp"
#include "herald/fleet/connection.hpp"
#include "herald/units/generate.hpp"
#include "herald/units/unit_templates.hpp"

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::scheduler {

/// Where an instance is, as the scheduler sees it (not the registry: registration and health are
/// the registry's to say).
enum class State {
  pending,  ///< asked to run, but no machine takes it yet (fleet: unschedulable or being placed)
  starting, ///< being started (fleet: activating, or launched and not yet reported)
  running,  ///< its process runs
  stopping, ///< being stopped (fleet: deactivating)
  stopped,  ///< exists and does not run: never started, stopped, or exited by itself with 0
  failed,   ///< ended with an error (non-zero exit, crash-looping, systemd "failed")
  unknown   ///< the scheduler reports something herald does not know
};

/// "pending", "starting", "running", "stopping", "stopped", "failed", "unknown".
std::string_view to_string(State state);

/// The State named `text`; nullopt for anything else.
std::optional<State> parse_state(std::string_view text);

/// An HTTP health check, as `herald announce --check-http` runs it (ProbeSettings' defaults,
/// haproxy's inter 2s rise 2 fall 3).
struct HealthCheck {
  std::string http_path; ///< "/health": GET on the published address, 2xx/3xx pass
  std::chrono::milliseconds interval{2000};
  std::chrono::milliseconds timeout{1000};
  int rise = 2; ///< consecutive passes that make a withdrawn instance routable again
  int fall = 3; ///< consecutive failures that withdraw it

  friend bool operator==(const HealthCheck&, const HealthCheck&) = default;
};

/// How the router reaches the app: host routing (APP.DOMAIN) or path routing (/PATH/), stored as
/// the registration's meta "host" / "path" as `herald unit gen` does.
struct Routing {
  std::string domain;                      ///< host routing: the app answers APP.DOMAIN
  std::string path;                        ///< path routing: "/web/"
  std::vector<std::string> tags;           ///< registration tags
  std::map<std::string, std::string> meta; ///< more registration meta (values never secrets)

  friend bool operator==(const Routing&, const Routing&) = default;
};

/// Where an instance may run (fleet's [X-Fleet]; the docker backend has one host and ignores it).
struct Placement {
  bool spread = false; ///< at most one instance of the app per machine (Conflicts=APP@*.service)
  std::vector<std::string> conflicts; ///< more Conflicts= globs ("db@*.service")
  std::vector<std::string> metadata;  ///< MachineMetadata= "key=value"
  std::string machine_of;             ///< MachineOf= a unit name; "" = any machine

  friend bool operator==(const Placement&, const Placement&) = default;
};

/// Everything needed to run one instance. A plain struct: the cluster file maps onto it, and the
/// caller computes `spec_hash` from whatever it considers part of the instance (image, env,
/// ports, health check, ...). Env files are read by the caller into `env`.
struct InstanceSpec {
  std::string app;                        ///< "web"
  std::string instance;                   ///< "1"
  std::string image;                      ///< "registry.local/web:1.2"
  std::vector<std::string> command;       ///< arguments after the image; empty = the image's CMD
  std::uint16_t container_port = 0;       ///< the port the app listens on in the container
  std::optional<std::uint16_t> host_port; ///< fixed host port; default: an ephemeral one
  /// The address the port is published on. docker: "" publishes on every interface (the
  /// registrator then needs --host); fleet: "" means ${COREOS_PRIVATE_IPV4} on each machine.
  std::string host_ip;
  /// The container's environment in order; a name given twice keeps its last value.
  std::vector<std::pair<std::string, std::string>> env;
  std::optional<HealthCheck> health;
  Routing routing;
  Placement placement;
  std::string spec_hash; ///< recorded on the instance; list() reports it back
  /// The registry the instance's sidekick writes (fleet: passed to `herald announce` as
  /// --registry/--prefix; "" = the sidekick's /etc/herald/environment). The docker backend's
  /// instances are registered by the node's registrator, which has its own.
  std::string registry_url;
  std::string registry_prefix;
  /// Extra container labels (docker): beside herald's own, which they cannot override.
  std::map<std::string, std::string> labels;

  /// APP@INSTANCE.
  InstanceName name() const { return {app, instance}; }
};

/// An instance that exists, as list() reports it.
struct Instance {
  std::string app;
  std::string instance;
  State state = State::unknown;
  /// The scheduler's own words: "running", "exited (1)", "restarting (3 restarts)",
  /// "active/running", "failed/failed", "no machine: conflicts with web@2.service".
  std::string detail;
  std::string machine;    ///< fleet: machine id; docker: the engine's host name; "" = none yet
  std::string machine_ip; ///< the machine's address, when known
  /// Where the published port answers (docker: from the container; fleet: the machine's IP and
  /// the fixed host port, nullopt with an ephemeral one, which only the registry knows).
  std::optional<HostPort> address;
  std::string spec_hash; ///< "" when the instance records none (not made by herald)
  /// How often the scheduler restarted it after it ended (docker's restart count; 0 where the
  /// backend does not say). A crash-looping instance flips between failed and running: a count
  /// that grows while a caller waits is how it tells a crash loop from a slow start.
  int restarts = 0;
  std::string image;
  std::string id; ///< docker: container id; fleet: unit name
  /// docker: the container's name ("herald-web-1"), which a registrator's instance IDs carry
  /// (SERVICE@NODE:CONTAINER:PORT); "" elsewhere.
  std::string container;

  InstanceName name() const { return {app, instance}; }
};

/// A machine instances can run on.
struct Machine {
  std::string id;                              ///< fleet: machine id; docker: the engine's ID
  std::string name;                            ///< docker: host name; fleet: short id
  std::string ip;                              ///< may be empty
  std::map<std::string, std::string> metadata; ///< fleet machine metadata
};

/// A unit herald runs beside the instances (a router, its render unit, an extra unit of the
/// cluster file): its name and its unit file as it should run. The text carries the [Unit] line
/// `X-Herald-Cluster-Unit=` (k_cluster_unit_key) that makes it herald's.
struct UnitSpec {
  std::string name; ///< "herald-router.service"
  std::string text; ///< the unit file
};

/// The [Unit] key that marks a unit herald made for a cluster file, with what it is made for:
/// "router NAME" (the router and its render unit), "unit" (an extra unit).
inline constexpr const char* k_cluster_unit_key = "X-Herald-Cluster-Unit";

/// Where one unit runs: one entry a machine (a global unit has one on each machine it runs on).
struct UnitPlacement {
  std::string machine;
  State state = State::unknown;
  std::string detail; ///< "active/running"
};

/// A unit herald made for a cluster file, as list_units() reports it.
struct UnitInfo {
  std::string name;
  /// The unit file as the scheduler has it, in its canonical form (fleet: the options as fleet
  /// stores them, serialized as fleet hashes them: comments and continuations are gone).
  std::string text;
  std::string owner;   ///< the value of X-Herald-Cluster-Unit
  bool global = false; ///< one on every machine that matches its metadata
  /// Overall: running when it runs wherever it should (a global unit: on every machine that
  /// reports it, and at least one), failed when one place failed, else the state of the first
  /// place that is not running (pending when it has no machine).
  State state = State::unknown;
  std::string detail;
  std::vector<UnitPlacement> placements; ///< sorted by machine
};

/// The operations every backend offers. Errors are herald::Error: unavailable (the engine or
/// fleet cannot be reached, exit 69), temporary (retry), not_found (no such instance), config
/// (bad settings), usage (an invalid InstanceSpec, named field by field), failed (the scheduler
/// refused, with its words), cancelled (the stop token fired). Used from one thread at a time.
class Scheduler {
public:
  virtual ~Scheduler() = default;

  /// "docker", "fleet" or "memory".
  virtual std::string_view backend() const = 0;
  /// What it talks to: "docker at unix:///var/run/docker.sock", "fleet at http://...".
  virtual std::string describe() const = 0;

  /// The instances that exist (made by herald: labelled / carrying X-Herald-Spec), of `app`
  /// only unless it is empty, sorted by app then instance (numerically when both are numbers).
  virtual std::vector<Instance> list(std::string_view app = {}) = 0;

  /// The instance `name`, or nullopt when it does not exist.
  virtual std::optional<Instance> find(const InstanceName& name);

  /// Makes the instance run from `spec`. Idempotent: an instance already made from the same
  /// spec hash is started if it is not running and otherwise left alone; one made from another
  /// hash is replaced (stopped, removed, made again). Returns once the scheduler took it (use
  /// wait() for the outcome). An invalid spec is Error(usage) naming the field; an image the
  /// engine does not have and cannot pull is Error(not_found) (no such repository, denied) or
  /// Error(unavailable) (no registry reachable), naming the image and the pull's failure.
  virtual void start(const InstanceSpec& spec) = 0;

  /// Stops the instance, giving it `grace` between SIGTERM and SIGKILL (docker; fleet units
  /// stop within their own TimeoutStopSec). False when it was already stopped. Error(not_found)
  /// when it does not exist.
  virtual bool stop(const InstanceName& name, std::chrono::seconds grace) = 0;

  /// Takes the instance out of the router's view without stopping it, so that requests on
  /// their way finish before stop(): fleet stops its discovery sidekick, which deregisters it on
  /// SIGTERM; docker sends the container SIGCONT (a running process carries on as before),
  /// whose `kill` event makes the node's registrator withdraw the container's registrations
  /// until it starts again. False when it does not run (nothing to withdraw). Error(not_found)
  /// when it does not exist.
  virtual bool withdraw(const InstanceName& name) = 0;

  /// Removes the instance (stopping it first, with the default grace, if it runs). False when
  /// it did not exist.
  virtual bool remove(const InstanceName& name) = 0;

  /// Waits until the instance is in `state`, or in a state it will not leave by itself for it
  /// (failed; stopped while waiting for running), and returns it as last seen: the caller
  /// compares its state. Error(not_found) when it disappears (or never existed), Error(temporary)
  /// naming the instance and where it is when `timeout` passes, Error(cancelled) when `stop`
  /// (optional) fires.
  virtual Instance wait(const InstanceName& name, State state, std::chrono::milliseconds timeout,
                        const StopToken* stop);

  /// The last `lines` lines the instance wrote (stdout and stderr, control bytes escaped), for
  /// "web@4 failed: ..." messages. Empty when the backend has none (fleet's API carries no
  /// journal: `fleetctl journal` reads it over ssh). Error(not_found) when it does not exist.
  virtual std::vector<std::string> logs(const InstanceName& name, std::size_t lines) = 0;

  /// The machines instances can run on: fleet's machines; the docker backend's one engine.
  virtual std::vector<Machine> machines() = 0;

  // --- units beside the instances (routers, extra units); fleet only -------------------------

  /// True when an instance is registered only once its health check passes (fleet: each
  /// instance's sidekick runs `announce --check-http`), so "routable" already means "healthy".
  /// False for docker: the registrator announces a container when it starts (its
  /// SERVICE_CHECK_* labels are carried as meta, not run), so cluster up watches a new instance
  /// for the time its check would take to rise before it counts as up.
  virtual bool health_gates_registration() const { return true; }

  /// True when the backend runs plain units (fleet); the docker backend runs containers only.
  virtual bool runs_units() const { return false; }
  /// The units herald made for a cluster file (those carrying X-Herald-Cluster-Unit), sorted by
  /// name; empty where runs_units() is false.
  virtual std::vector<UnitInfo> list_units() { return {}; }
  /// Submits the unit and makes it run: a new one is created, one with other content replaced
  /// (fleet stops it, rewrites it and starts it again wherever it runs), one with the same
  /// content only started when it does not run. Error(usage) where runs_units() is false, or for
  /// a unit file the backend refuses, naming it; Error(failed) when a unit of that name exists
  /// and was not made by herald (it is never overwritten).
  virtual void put_unit(const UnitSpec& unit);
  /// Removes a unit herald made (stopped by the scheduler first). False when it did not exist;
  /// Error(failed) when it exists and was not made by herald.
  virtual bool remove_unit(const std::string& name);

protected:
  /// How often the default wait() looks.
  virtual std::chrono::milliseconds poll_interval() const { return std::chrono::milliseconds(250); }
};

/// Which backend open() makes and how it reaches it.
struct Options {
  std::string backend = "docker"; ///< "docker" or "fleet"
  /// docker: DOCKER_HOST's form ("unix:///var/run/docker.sock", "tcp://h:2376"); "" = this
  /// process's DOCKER_HOST / DOCKER_TLS_VERIFY / DOCKER_CERT_PATH, else the local socket.
  std::string docker_host;
  /// fleet: endpoint, tunnel, timeouts (cli::fleet_options resolves them from flags and env).
  fleet::ConnectionSettings fleet;
  /// fleet: a directory overriding unit_templates/ file by file; "" = the built-in templates.
  std::string unit_templates_dir;
  /// fleet: where herald is installed on the machines; "" = this build's install prefix.
  std::string herald_path;
  /// Aborts requests in flight and wait() when requested; must outlive the scheduler.
  const StopToken* stop = nullptr;
};

/// Opens the backend `options.backend` names. An unknown name is Error(config) listing the
/// known ones (with "did you mean"); the engine or fleet is not contacted before the first call
/// (fleet's ssh tunnel, when asked for, is brought up here).
std::unique_ptr<Scheduler> open(const Options& options);

/// The unit templates a fleet scheduler opened with `options` renders (the built-in ones,
/// overridden file by file from options.unit_templates_dir), for units made beside it.
units::UnitTemplates unit_templates(const Options& options);

/// Where the units a fleet scheduler opened with `options` find herald and its data.
units::HostPaths host_paths(const Options& options);

/// Names of the backends open() knows, in order.
std::vector<std::string> backend_names();

/// The order list() sorts by: app, then instance (numerically when both are numbers).
bool instance_order(const Instance& a, const Instance& b);

/// Why `spec` cannot be run, as one Error(usage) naming the field ("web@1: image is empty"),
/// checked by every backend before it does anything: app and instance are valid name parts
/// (and the app a DNS label, as units need), image not empty, container port set, env names
/// valid, health check values positive, domain and path not both set.
void validate(const InstanceSpec& spec);

} // namespace herald::scheduler
