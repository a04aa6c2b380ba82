// herald: the entry point only parses; every command's work is in lib/.
#include "commands/commands.hpp"
#include "herald/core/error.hpp"
#include "herald/core/log.hpp"
#include "herald/core/strings.hpp"
#include "herald/version.hpp"

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cstdio>
#include <exception>
#include <fmt/format.h>
#include <fmt/ranges.h>
#include <string>
#include <string_view>
#include <vector>

namespace {

constexpr const char* k_footer = R"(Examples:
  herald announce web@1 --port 3000                 keep /services/web/web/web@1 alive
  herald deregister web@1                           remove it now
  herald --registry etcd2://10.0.0.1:2379 announce api@2 --addr 10.0.0.7:8080 --once

Exit codes: 0 ok, 1 failure, 2 usage, 65 bad data, 69 service unavailable,
75 temporary failure, 78 bad configuration, 130 interrupted. See herald(1).)";

std::string command_name(const CLI::App& app) {
  std::string name;
  for (const CLI::App* sub = &app;;) {
    auto subs = sub->get_subcommands();
    if (subs.empty()) {
      break;
    }
    sub = subs.front();
    name += (name.empty() ? "" : " ") + sub->get_name();
  }
  return name;
}

/// "announce" or "deregister" when that is the command `argv` names, else "". Those one-shot
/// commands then build only their own flags instead of the whole CLI model (the other commands'
/// options are most of the set-up work in main). Only global options with a value may come before
/// the command word; anything else (--help, --version, an unknown option, a value that looks like
/// an option) returns "" and gets the full model, so CLI11 parses exactly as it always did.
std::string_view lone_command(const CLI::App& app, int argc, char** argv) {
  for (int i = 1; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (!arg.starts_with("--") || arg == "--") {
      return (arg == "announce" || arg == "deregister") ? arg : std::string_view{};
    }
    std::size_t equals = arg.find('=');
    const CLI::Option* option = app.get_option_no_throw(std::string(arg.substr(0, equals)));
    if (option == nullptr || option->get_type_size_min() == 0) {
      return {};
    }
    if (equals == std::string_view::npos) {
      if (i + 1 >= argc || argv[i + 1][0] == '-') {
        return {};
      }
      ++i; // the option's value
    }
  }
  return {};
}

/// True when `arg` is an option of `app` (or of its parents: global options fall through) that
/// takes its value from the next word.
bool takes_next_word(const CLI::App& app, std::string_view arg) {
  if (!arg.starts_with("-") || arg.find('=') != std::string_view::npos) {
    return false;
  }
  for (const CLI::App* at = &app; at != nullptr; at = at->get_parent()) {
    if (const CLI::Option* option = at->get_option_no_throw(std::string(arg))) {
      return option->get_type_size_min() > 0;
    }
  }
  return false;
}

/// "herald" or "herald route": how users type `parent`.
std::string where(const CLI::App& app, const CLI::App* parent) {
  return parent == &app ? "herald" : "herald " + command_name(app);
}

/// When the parse failed on a word that is no command of the deepest command given ("frobnicate"
/// in `herald frobnicate`, "frob" in `herald route frob`), the line saying so: the word, the
/// nearest command and the list of them; when `missing` (CLI11 found no command word), the list.
/// "" when the failure is of another kind.
std::string unknown_command_message(const CLI::App& app, int argc, char** argv, bool missing) {
  const CLI::App* parent = &app;
  int from = 1;
  while (!parent->get_subcommands().empty()) {
    parent = parent->get_subcommands().front();
    while (from < argc && parent->get_name() != argv[from]) {
      ++from;
    }
    ++from;
  }
  std::vector<std::string> names;
  for (const CLI::App* sub : parent->get_subcommands([](const CLI::App*) { return true; })) {
    if (!sub->get_group().empty()) { // an empty group hides a command
      names.push_back(sub->get_name());
    }
  }
  bool takes_words =
      !parent->get_options([](const CLI::Option* o) { return o->get_positional(); }).empty();
  if (names.empty() || (takes_words && !missing)) {
    return {}; // a word may be the command's own argument (herald unit gen APP)
  }
  for (int i = from; i < argc; ++i) {
    std::string_view arg = argv[i];
    if (arg == "--") {
      return {};
    }
    if (arg.starts_with("-")) {
      i += takes_next_word(*parent, arg) ? 1 : 0;
      continue;
    }
    if (std::find(names.begin(), names.end(), arg) != names.end()) {
      return {};
    }
    auto near = herald::closest_match(arg, names);
    return fmt::format("unknown command '{}'{}: the commands of {} are {}",
                       herald::escape_control(arg),
                       near ? fmt::format(" (did you mean '{}'?)", *near) : std::string(),
                       where(app, parent), fmt::join(names, ", "));
  }
  if (missing) {
    return fmt::format("a command is required: the commands of {} are {}", where(app, parent),
                       fmt::join(names, ", "));
  }
  return {};
}

} // namespace

int main(int argc, char** argv) {
  using namespace herald;
  constexpr auto npos = std::string_view::npos;
  CLI::App app{"herald: announce services, render router configs and run clusters from a "
               "service-discovery registry"};
  app.name("herald");
  app.footer(k_footer);
  app.set_version_flag("--version", std::string("herald ") + k_version);
  app.require_subcommand(1);
  app.fallthrough(); // global options may follow the subcommand: herald announce web@1 --registry …

  cli::GlobalOptions global;
  commands::add_global_options(app, global);
  std::vector<commands::Command> all;
  std::string_view lone = lone_command(app, argc, argv);
  if (lone == "announce") {
    all.push_back(commands::add_announce(app, global));
  } else if (lone == "deregister") {
    all.push_back(commands::add_deregister(app, global));
  } else {
    all = commands::add_all(app, global);
  }

  try {
    app.parse(argc, argv);
    auto settings = cli::resolve_log_settings(global);
    log::setup({settings.level, settings.format});
    for (const auto& command : all) {
      if (command.app->parsed()) {
        return command.run();
      }
    }
    return to_int(ExitCode::usage);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::string cmd = command_name(app);
    bool missing = std::string_view(e.what()).find("subcommand is required") != npos;
    // Only a word CLI11 could not place can be a mistyped command.
    std::string unknown = missing || e.get_name() == "ExtrasError"
                              ? unknown_command_message(app, argc, argv, missing)
                              : std::string();
    // One line, as every other error: what is wrong, then where the usage is.
    std::fprintf(stderr, "herald: %s; see 'herald%s%s --help'\n",
                 unknown.empty() ? e.what() : unknown.c_str(), cmd.empty() ? "" : " ", cmd.c_str());
    return to_int(ExitCode::usage);
  } catch (const Error& e) {
    std::string cmd = command_name(app);
    std::fprintf(stderr, "herald: %s%s%s\n", cmd.c_str(), cmd.empty() ? "" : ": ", e.what());
    return to_int(exit_code_for(e.kind()));
  } catch (const std::exception& e) {
    std::fprintf(stderr, "herald: internal error: %s\n", e.what());
    return to_int(ExitCode::failure);
  }
}
