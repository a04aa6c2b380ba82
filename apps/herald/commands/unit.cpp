// herald unit: the parent of everything about systemd/fleet units. Each child lives in its own
// file (unit_gen.cpp, and the fleet lifecycle commands) and is wired onto the parent returned here.
#include "commands/commands.hpp"

namespace herald::commands {

namespace {

constexpr const char* k_footer = R"(Examples:
  herald unit gen web --image registry.example.com/web:1.4 --port 3000 -o units/
      write web@.service and web-discovery@.service into units/
  herald unit gen router --template nginx-host --domain example.com -o units/
      a router on every machine: nginx kept in step with the registry
  herald unit submit units/web@.service units/web-discovery@.service
  herald unit start web@{1..3} web-discovery@{1..3}
      run three instances and their sidekicks on fleet, waiting until systemd runs them

See herald-unit(1).)";

} // namespace

CLI::App* add_unit(CLI::App& app) {
  CLI::App* unit =
      app.add_subcommand("unit", "Generate systemd/fleet units (and run them on fleet)");
  unit->require_subcommand(1);
  unit->footer(k_footer);
  return unit;
}

} // namespace herald::commands
