#pragma once

// A registrator's presence: the key `herald announce --docker-events` keeps with its TTL beside
// the registrations it writes (registry::registrator_key), so that `herald cluster up` can tell
// that some registrator follows the Docker engine it starts containers on and registers them
// where it waits for them. The key lives while its registrator does: refreshed with its
// heartbeat, written again after an outage, removed when it stops, expired when it died.

#include "herald/registry/registry.hpp"

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::announce {

/// What a presence key holds, as one JSON object:
/// {"engine_id","engine_name","node","prefix","version","pid"}.
struct RegistratorPresence {
  std::string engine_id;   ///< the Docker engine followed: GET /info "ID"
  std::string engine_name; ///< the engine's host name: GET /info "Name"
  std::string node;        ///< the registrator's --node, owner of its registrations
  std::string prefix;      ///< where it registers, without a trailing '/': "/services/web"
  std::string version;     ///< the registrator's herald version
  std::int64_t pid = 0;    ///< its process id on its node

  friend bool operator==(const RegistratorPresence&, const RegistratorPresence&) = default;
};

/// Why `presence` cannot be written or believed, or nullopt when it can: an engine ID that is no
/// name part (core/name.hpp: letters, digits, ':', '-', '_', '.'), a node that fails
/// node_name_problem (core/name.hpp), an engine name or version that fails the meta value rule
/// (core/address.hpp), a prefix that does not start with '/', ends with '/' or holds control
/// characters, a pid below 1.
std::optional<std::string> presence_problem(const RegistratorPresence& presence);

/// The JSON value of a presence key, fields in the documented order.
std::string encode_presence(const RegistratorPresence& presence);

/// A presence value read back: `presence`, or nullopt and `problem` saying why. The registry is
/// untrusted input: anything but a JSON object of at most 4 KiB whose fields have the documented
/// types and pass presence_problem() is refused. Fields it does not know are ignored.
struct DecodedPresence {
  std::optional<RegistratorPresence> presence;
  std::string problem;
};
DecodedPresence decode_presence(std::string_view value);

/// The key `presence` is kept at: registry::registrator_key of its prefix, engine and node.
std::string presence_key(const RegistratorPresence& presence);

/// Every registrator that announces itself in `registry` now: the keys below
/// registry::k_registrators_root that hold a valid presence, at the key that presence names, and
/// carry a TTL (a key without one, written by hand or copied, proves no registrator lives). Each
/// other key is skipped with one warning naming it and why, escaped. Sorted by key. Registry
/// errors are thrown.
std::vector<RegistratorPresence> live_registrators(registry::Registry& registry);

/// Keeps one registrator's presence key: written with the TTL, refreshed with the registrator's
/// heartbeat, written again when it was lost (expired during an outage, deleted by someone),
/// removed when the registrator stops. One log line per change, none per heartbeat.
class PresenceKey {
public:
  explicit PresenceKey(std::chrono::seconds ttl);

  /// Says what the key holds from now on. `presence` must be valid (presence_problem). When the
  /// key moves (another engine: the daemon was replaced), the next keep() removes the old one.
  void set(const RegistratorPresence& presence);

  /// Writes the key when it is not written yet or changed, else extends its TTL when `refresh`;
  /// a key found lost is written again. Does nothing before set(). Registry errors are thrown
  /// after the work done is recorded, so the next call continues where this one stopped.
  void keep(registry::Registry& registry, bool refresh);

  /// Removes the key (on stop) through `registry`; returns whether it was there. Errors are
  /// thrown.
  bool remove(registry::Registry& registry);

  /// The key, "" before set().
  std::string key() const;

private:
  std::chrono::seconds m_ttl;
  std::optional<registry::Registration> m_wanted;
  std::optional<registry::Registration> m_moved_from; ///< the key to remove after a move
  std::string m_engine;                               ///< "Docker engine "host" (ID ...)"
  bool m_written = false;
};

} // namespace herald::announce
