// herald route ls [APP...]: the instances the router sees, the same whichever backend holds them.
#include "commands/commands.hpp"
#include "herald/cli/printer.hpp"
#include "herald/cli/route_output.hpp"
#include "herald/core/error.hpp"
#include "herald/core/name.hpp"
#include "herald/core/stop.hpp"
#include "herald/core/strings.hpp"
#include "herald/registry/layout.hpp"
#include "herald/route/listing.hpp"
#include "herald/route/watch.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <memory>
#include <spdlog/spdlog.h>
#include <string>
#include <vector>

namespace herald::commands {

namespace {

/// Flags of `herald route ls`, as typed.
struct RouteLsOptions {
  std::vector<std::string> apps;
  cli::ListOptions list;
  bool all = false;
  std::string prefix = std::string(registry::k_default_prefix);
  bool watch = false;
};

constexpr const char* k_footer =
    R"(Columns: APP INSTANCE ADDRESS HEALTH TTL TAGS (-o wide adds KEY NODE META); --fields
picks and orders them by their lower-case names.
A value that is not an address is shown flagged as !VALUE, with a warning on stderr.

Examples:
  herald route ls
      every instance under /services/web, one row each, sorted
  herald route ls web api -o json | jq -r '.instances[].address'
      the addresses of two apps, from the documented JSON document
  herald route ls --prefix /services/clusters -o simple --fields app,address
      the single-key layout /services/clusters/APP: app and address, tab-separated
  herald --registry consul://127.0.0.1:8500 route ls --all --watch
      Consul instances including critical ones, reprinted on every change

Exit codes: 0 ok (also when nothing is registered), 1 a named APP has no instance,
2 usage, 69 registry unreachable, 78 bad configuration, 130 interrupted.
See herald-route(1).)";

void warn_malformed(const route::Listing& listing) {
  if (listing.malformed == 0) {
    return;
  }
  std::vector<std::string> keys;
  for (const auto& instance : listing.instances) {
    if (!instance.address && keys.size() < 3) {
      keys.push_back(instance.key);
    }
  }
  spdlog::warn("{} instance{} with a malformed value, shown as !VALUE (expected HOST:PORT or "
               "the JSON form): {}{}",
               listing.malformed, listing.malformed == 1 ? "" : "s", fmt::join(keys, ", "),
               listing.malformed > keys.size() ? ", ..." : "");
}

/// An empty listing is often the v2/v3 keyspace split of etcd 3.4+; say so instead of leaving
/// the operator with an empty table.
void explain_empty(registry::Registry& registry, const RouteLsOptions& opts) {
  if (auto other = registry.count_in_other_keyspace(opts.prefix); other && *other > 0) {
    spdlog::warn("nothing under {} in {}, but the other etcd keyspace holds {} key{} there; "
                 "use --registry {}:// to read it",
                 opts.prefix, registry.describe(), *other, *other == 1 ? "" : "s",
                 registry.backend() == "etcd3" ? "etcd2" : "etcd");
  }
}

/// The error for APPs named on the command line that have no instance, with a suggestion.
Error missing_apps_error(registry::Registry& registry, const registry::InstanceQuery& query,
                         const route::Listing& listing) {
  registry::InstanceQuery everything = query;
  everything.apps.clear();
  everything.include_unhealthy = true;
  everything.with_ttl = false;
  std::vector<std::string> known;
  for (const auto& instance : registry.instances(everything)) {
    if (known.empty() || known.back() != instance.app) {
      known.push_back(instance.app);
    }
  }
  const std::string& first = listing.missing_apps.front();
  std::string hint;
  if (std::find(known.begin(), known.end(), first) != known.end()) {
    hint = "; it has unhealthy instances only (add --all to see them)";
  } else if (auto near = closest_match(first, known)) {
    hint = fmt::format("; did you mean '{}'?", *near);
  } else {
    hint = fmt::format(" (--prefix {} holds {} app{})", query.prefix, known.size(),
                       known.size() == 1 ? "" : "s");
  }
  return Error(ErrorKind::not_found,
               fmt::format("no instance of '{}' in {}{}", fmt::join(listing.missing_apps, "', '"),
                           registry.describe(), hint));
}

int watch(registry::Registry& registry, const registry::InstanceQuery& query, cli::Printer& printer,
          const StopToken& stop) {
  std::string title = "herald route ls on " + registry.describe();
  std::size_t malformed_shown = 0;
  route::watch_routes(registry, query, stop, [&](const route::Listing& listing) {
    cli::print_routes_update(printer, listing, title);
    if (listing.malformed != malformed_shown) {
      warn_malformed(listing);
      malformed_shown = listing.malformed;
    }
  });
  // Ending a watch with Ctrl-C is how it is meant to end, not an interruption.
  return 0;
}

int run_route_ls(const RouteLsOptions& opts, const cli::GlobalOptions& global) {
  for (const auto& app : opts.apps) {
    if (auto problem = name_part_problem(app)) {
      throw Error(ErrorKind::usage,
                  fmt::format("invalid APP '{}': it {}", escape_control(app), *problem));
    }
  }
  if (opts.prefix.empty() || opts.prefix.front() != '/') {
    throw Error(ErrorKind::usage,
                fmt::format("invalid --prefix '{}': a prefix starts with '/', such as "
                            "/services/web",
                            opts.prefix));
  }
  cli::Printer printer = make_printer(opts.list, cli::route_columns());

  registry::InstanceQuery query;
  query.prefix = opts.prefix;
  query.apps = opts.apps;
  query.include_unhealthy = opts.all;
  query.with_ttl = true;

  prepare_for_bulk_data();
  StopToken stop;
  install_stop_signals(stop);
  auto registry = cli::registry_opener(global).open(stop);

  if (opts.watch) {
    return watch(*registry, query, printer, stop);
  }
  route::Listing listing = route::list_routes(*registry, query);
  cli::print_routes(printer, listing);
  warn_malformed(listing);
  if (listing.instances.empty() && opts.apps.empty()) {
    explain_empty(*registry, opts);
  }
  if (!listing.missing_apps.empty()) {
    throw missing_apps_error(*registry, query, listing);
  }
  return 0;
}

} // namespace

Command add_route_ls(CLI::App& app, const cli::GlobalOptions& global) {
  auto opts = std::make_shared<RouteLsOptions>();
  CLI::App* route = app.add_subcommand("route", "Show what the router sees");
  route->require_subcommand(1);
  CLI::App* cmd =
      route->add_subcommand("ls", "List instances: APP INSTANCE ADDRESS HEALTH TTL TAGS");
  cmd->footer(k_footer);
  cmd->add_option("app", opts->apps, "Only these apps (default: all)");
  add_list_options(*cmd, opts->list, cli::route_columns());
  cmd->add_flag("--all", opts->all, "Include unhealthy (warning, critical) instances");
  cmd->add_option("--prefix", opts->prefix,
                  "etcd key root: instances are PREFIX/APP/APP@INSTANCE or PREFIX/APP")
      ->default_str(std::string(registry::k_default_prefix));
  cmd->add_flag("-w,--watch", opts->watch,
                "Print again on every change until Ctrl-C (-o json: one document per line)");
  return Command{cmd, [opts, &global] { return run_route_ls(*opts, global); }};
}

} // namespace herald::commands
