#pragma once

#include "herald/registry/registry.hpp"

#include <memory>

namespace herald::registry {

// Factories behind registry::open()'s scheme table (open.cpp). Each backend lives in its own
// folder and is reached only through the Registry interface.

/// An in-process registry with revisions, TTLs and blocking watches, for tests.
std::unique_ptr<Registry> make_memory_registry();

/// etcd v3 through its JSON gateway.
std::unique_ptr<Registry> make_etcd3_registry(const Location& location, const Options& options);

/// etcd v2 keys API.
std::unique_ptr<Registry> make_etcd2_registry(const Location& location, const Options& options);

/// Consul HTTP API: keys in KV, instances as agent services with a TTL check.
std::unique_ptr<Registry> make_consul_registry(const Location& location, const Options& options);

} // namespace herald::registry
