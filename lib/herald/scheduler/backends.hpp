#pragma once

#include "herald/scheduler/scheduler.hpp"

#include <memory>

namespace herald::scheduler {

// Factories behind scheduler::open()'s backend table (open.cpp). Each backend lives in its own
// folder and is reached only through the Scheduler interface.

/// Containers on one Docker engine (docker/docker_scheduler.hpp).
std::unique_ptr<Scheduler> make_docker_scheduler(const Options& options);

/// Units through fleet's API (fleet/fleet_scheduler.hpp); brings up the ssh tunnel if asked.
std::unique_ptr<Scheduler> make_fleet_scheduler(const Options& options);

} // namespace herald::scheduler
