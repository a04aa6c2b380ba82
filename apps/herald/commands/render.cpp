// herald render: confd's job done by herald. Parses flags into RenderOptions, builds the template
// resources (from flags or a confd --confdir), opens the registry and hands over to
// render::RenderLoop.
#include "commands/commands.hpp"
#include "herald/core/duration.hpp"
#include "herald/core/error.hpp"
#include "herald/core/size.hpp"
#include "herald/core/stop.hpp"
#include "herald/render/loop.hpp"
#include "herald/render/resource.hpp"

#include <cstdio>
#include <fmt/format.h>
#include <memory>
#include <string>
#include <vector>

namespace herald::commands {

namespace {

/// Flags of `herald render`, as typed.
struct RenderOptions {
  render::ResourceFlags resource;
  std::string confdir;
  bool watch = false;
  std::string interval;
  std::string wait;
  bool noop = false;
  bool to_stdout = false;
  double max_drop = 50.0;
  bool allow_empty = false;
  std::string cmd_timeout = "30s";
  std::string max_output;
  bool onetime = false;
};

constexpr const char* k_footer = R"(Examples:
  herald render --template /etc/herald/nginx.tmpl --dest /etc/nginx/conf.d/apps.conf \
      --keys /services/web --check-cmd 'nginx -t -c {{.src}}' --reload-cmd 'nginx -s reload'
      render one resource once from flags (the check gets the staged file)
  herald render --confdir /etc/confd --watch --wait 1s:5s
      replace confd: read conf.d/*.toml and templates/, keep every dest in step with the registry
  herald render --confdir /etc/confd --noop
      print a unified diff of what would change and touch nothing
  herald render --template haproxy.tmpl --dest /etc/haproxy/haproxy.cfg --keys /services/web \
      --haproxy-socket /run/haproxy/admin.sock --reload-cmd 'systemctl reload haproxy' --watch
      add and remove haproxy's servers through its runtime API, reloading only for other changes

Commands run without a shell (use sh -c '...' for one). Renders that drop more than --max-drop
percent of the instances, or empty a non-empty config (without --allow-empty), are refused.
Exit codes: 0 ok, 1 check/reload failed or render refused, 65 template or data error,
69 registry unavailable (once), 78 configuration. See herald-render(1).)";

int run_render(const RenderOptions& opts, const cli::GlobalOptions& global) {
  // Every flag is checked before the registry is opened.
  render::LoopOptions loop;
  if (opts.watch) {
    loop.mode = render::Mode::watch;
  } else if (!opts.interval.empty()) {
    loop.mode = render::Mode::interval;
    loop.interval = parse_duration(opts.interval, "--interval");
    if (loop.interval.count() <= 0) {
      throw Error(ErrorKind::usage, "--interval must be longer than 0s");
    }
  }
  if (!opts.wait.empty()) {
    if (loop.mode != render::Mode::watch) {
      throw Error(ErrorKind::usage, "--wait debounces changes seen by --watch: add --watch");
    }
    loop.wait = render::parse_wait(opts.wait);
  }
  loop.noop = opts.noop;
  loop.to_stdout = opts.to_stdout;
  if (!(opts.max_drop >= 0 && opts.max_drop <= 100)) { // NaN fails both comparisons
    throw Error(ErrorKind::usage,
                fmt::format("--max-drop {:g}: give a percentage from 0 to 100 (100 turns the "
                            "check off)",
                            opts.max_drop));
  }
  loop.drop.max_drop_percent = opts.max_drop;
  loop.drop.allow_empty = opts.allow_empty;
  loop.install.command_timeout = parse_duration(opts.cmd_timeout, "--cmd-timeout");
  if (!opts.max_output.empty()) {
    loop.exec.max_output = parse_size(opts.max_output, "--max-output");
  }

  std::vector<render::TemplateResource> resources;
  if (!opts.confdir.empty()) {
    resources = render::load_confdir(opts.confdir);
    render::apply_global_prefix(resources, opts.resource.prefix);
  } else {
    resources.push_back(render::resource_from_flags(opts.resource));
  }

  prepare_for_bulk_data();
  StopToken stop;
  install_stop_signals(stop);
  registry::Opener opener = cli::registry_opener(global);
  std::unique_ptr<registry::Registry> registry = opener.open(stop);
  // --watch of templates calling `service` also waits on the instances, on connections of its own.
  loop.open_registry = opener;

  cli::Printer printer = make_text_printer();
  render::OutputSink out = [&printer](std::string_view text) { printer.print_text(text); };
  render::RenderLoop renderer(*registry, std::move(resources), loop, stop, out);
  render::LoopResult result = renderer.run();
  for (const auto& failure : result.failures) {
    std::fprintf(stderr, "herald: render: %s\n", failure.c_str());
  }
  return to_int(result.code);
}

} // namespace

Command add_render(CLI::App& app, const cli::GlobalOptions& global) {
  auto opts = std::make_shared<RenderOptions>();
  CLI::App* cmd = app.add_subcommand(
      "render", "Render config files from registry keys with confd templates, check, install "
                "and reload them (replaces confd)");
  cmd->footer(k_footer);

  auto* one = "One resource from flags";
  auto* templ = cmd->add_option("--template", opts->resource.template_file,
                                "Go text/template file with confd's functions")
                    ->group(one);
  auto* dest =
      cmd->add_option("--dest", opts->resource.dest, "File to keep up to date")->group(one);
  auto* keys = cmd->add_option("--keys", opts->resource.keys,
                               "Registry directory the template reads (repeatable), e.g. "
                               "/services/web")
                   ->allow_extra_args(false)
                   ->group(one);
  cmd->add_option("--prefix", opts->resource.prefix,
                  "Prefix joined before --keys and cut from keys the template sees; with "
                  "--confdir, joined before every resource's prefix (confd's -prefix)")
      ->group(one);
  auto* check = cmd->add_option("--check-cmd", opts->resource.check_cmd,
                                "Command validating the staged file, {{.src}} is its path (no "
                                "shell)")
                    ->group(one);
  auto* reload = cmd->add_option("--reload-cmd", opts->resource.reload_cmd,
                                 "Command run after dest changed (no shell); on failure the "
                                 "previous file is put back and reloaded")
                     ->group(one);
  auto* mode = cmd->add_option("--mode", opts->resource.mode,
                               "File mode of dest in octal as chmod reads it, e.g. 644 or 0640 "
                               "(default: keep dest's, 0644 for a new file)")
                   ->group(one);
  auto* owner = cmd->add_option("--owner", opts->resource.owner,
                                "USER or USER:GROUP owning dest (default: keep dest's)")
                    ->group(one);
  auto* haproxy_socket =
      cmd->add_option("--haproxy-socket", opts->resource.haproxy_socket,
                      "haproxy's stats socket (level admin): apply server changes through its "
                      "runtime API instead of --reload-cmd when nothing else changed")
          ->group(one);

  auto* many = "confd layout";
  cmd->add_option("--confdir", opts->confdir,
                  "confd directory: resources in DIR/conf.d/*.toml, templates in DIR/templates")
      ->excludes(templ)
      ->excludes(dest)
      ->excludes(keys)
      ->excludes(check)
      ->excludes(reload)
      ->excludes(mode)
      ->excludes(owner)
      ->excludes(haproxy_socket)
      ->group(many);

  auto* when = "When to render";
  auto* watch =
      cmd->add_flag("--watch", opts->watch,
                    "Keep rendering: one registry watch for all resources, resumed after outages")
          ->group(when);
  auto* interval = cmd->add_option("--interval", opts->interval,
                                   "Keep rendering: read the registry every DURATION (e.g. 30s)")
                       ->excludes(watch)
                       ->group(when);
  cmd->add_option("--wait", opts->wait,
                  "With --watch: render MIN after the last change of a burst, at most MAX after "
                  "its first (MIN[:MAX], e.g. 1s:5s; MAX defaults to 4xMIN) [default: none]")
      ->group(when);
  cmd->add_flag("--onetime", opts->onetime,
                "Render once and exit (the default; accepted for confd's -onetime)")
      ->excludes(watch)
      ->excludes(interval)
      ->group(when);

  auto* output = "Output and safety";
  auto* noop = cmd->add_flag("--noop", opts->noop,
                             "Print a unified diff of what would change; touch nothing")
                   ->group(output);
  cmd->add_flag("--stdout", opts->to_stdout, "Print the rendered result instead of installing it")
      ->excludes(noop)
      ->group(output);
  cmd->add_option("--max-drop", opts->max_drop,
                  "Refuse a render that removes more than PERCENT of the instances the previous "
                  "render had (100 = off) [default: 50]")
      ->group(output);
  cmd->add_flag("--allow-empty", opts->allow_empty,
                "Install a render from an empty snapshot over a non-empty dest")
      ->group(output);
  cmd->add_option("--cmd-timeout", opts->cmd_timeout,
                  "Timeout of each check and reload command [default: 30s]")
      ->group(output);
  cmd->add_option("--max-output", opts->max_output,
                  "Fail a render whose output grows past SIZE; dest stays as it was (e.g. 256M) "
                  "[default: 64M]")
      ->group(output);

  return {cmd, [opts, &global]() { return run_render(*opts, global); }};
}

} // namespace herald::commands
