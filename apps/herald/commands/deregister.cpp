// herald deregister APP@INSTANCE: removes an instance's registration now (idempotent).
#include "commands/commands.hpp"
#include "herald/announce/registration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/stop.hpp"

#include <fmt/format.h>
#include <memory>
#include <spdlog/spdlog.h>
#include <string>

namespace herald::commands {

namespace {

/// Flags of `herald deregister`, as typed.
struct DeregisterOptions {
  std::string name;
  announce::KeyInput key;
  bool strict = false;
};

constexpr const char* k_footer = R"(Examples:
  herald deregister web@1
      remove /services/web/web/web@1 (success when it is already gone)
  herald deregister web@1 --key '/services/clusters/{app}' --strict
      remove the single-key layout; exit 1 when there was nothing to remove
  ExecStopPost=/usr/bin/herald deregister web@%i
      in a unit, make sure the key goes even when the sidekick was killed

See herald-deregister(1).)";

int run_deregister(const DeregisterOptions& opts, const cli::GlobalOptions& global) {
  InstanceName name = parse_instance_name(opts.name);
  registry::Registration reg;
  reg.name = name;
  reg.key = announce::resolve_key(opts.key, name);

  StopToken stop;
  install_stop_signals(stop);
  auto registry = cli::registry_opener(global).open(stop);
  if (registry->deregister_instance(reg)) {
    spdlog::info("deregistered {} ({})", name.str(), reg.key);
    return 0;
  }
  if (opts.strict) {
    throw Error(ErrorKind::not_found,
                fmt::format("{} is not registered at {} (--strict)", name.str(), reg.key));
  }
  spdlog::info("{} was not registered at {}; nothing to do", name.str(), reg.key);
  return 0;
}

} // namespace

Command add_deregister(CLI::App& app, const cli::GlobalOptions& global) {
  auto opts = std::make_shared<DeregisterOptions>();
  CLI::App* cmd = app.add_subcommand("deregister", "Remove APP@INSTANCE from the registry now");
  cmd->footer(k_footer);
  cmd->add_option("name", opts->name, "The instance: APP@INSTANCE")->required();
  auto* prefix = cmd->add_option("--prefix", opts->key.prefix,
                                 "Key prefix: the key is PREFIX/APP/APP@INSTANCE")
                     ->default_str("/services/web");
  cmd->add_option("--key", opts->key.key_template,
                  "Key template instead of the prefix layout: {app}, {instance}, {name} (TLS "
                  "client key: give the global --key before 'deregister')")
      ->excludes(prefix);
  cmd->add_flag("--strict", opts->strict, "Exit 1 when the instance was not registered");
  return Command{cmd, [opts, &global] { return run_deregister(*opts, global); }};
}

} // namespace herald::commands
