#pragma once

// What an app's instances are made from, as one stable hash: the planner compares the hash an
// instance was started with (a container label, a unit's content) with the file's to tell
// "replace" from "nothing to do", and changed_fields() says why.

#include "herald/cluster/spec.hpp"

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace herald::cluster {

/// The canonical text instance_hash() hashes: one JSON object, keys sorted, no whitespace:
/// {"env":{NAME:VALUE,...},"health":{...},"image":...,"placement":{...},"port":N,
///  "routing":{"aliases":[...],"mode":"host"},"v":1}. env is AppSpec::environment() (env files'
/// contents included), sorted by name, since order never reaches the process. The app's name,
/// its instance count and its update policy are left out: scaling or changing how a rollout
/// proceeds replaces nothing.
std::string instance_spec_text(const AppSpec& app);

/// SHA-1 (40 hex digits) of instance_spec_text(): the same for the same spec whatever the key
/// order of the file, different when the image, port, environment (an env file's content
/// included), health check, routing or placement changes.
std::string instance_hash(const AppSpec& app);

/// The parts of an instance that differ between `before` and `after`, in this order and with
/// these names: "image", "port", "env", "health", "routing", "placement"; empty when
/// instance_hash() is equal. For "replace (image, env changed)".
std::vector<std::string> changed_fields(const AppSpec& before, const AppSpec& after);

/// What an instance records as its spec hash (a container label, a unit's X-Herald-Spec=):
/// instance_hash(), a '-', then 8 hex digits of SHA-1 per field of changed_fields(), in its
/// order, joined by '.': "5e98…37d4-1a2b3c4d.…". The field digests let a later plan say why an
/// instance is replaced without recording what it ran (env values stay out of labels).
std::string instance_stamp(const AppSpec& app);

/// The instance_hash() part of a stamp (the text before '-'; all of it for a bare hash).
std::string_view stamp_hash(std::string_view stamp);

/// The fields of changed_fields() whose digest in `stamp` differs from `after`'s; nullopt when
/// `stamp` carries no field digests of this version (a bare hash, another tool's label).
std::optional<std::vector<std::string>> changed_fields(std::string_view stamp,
                                                       const AppSpec& after);

} // namespace herald::cluster
