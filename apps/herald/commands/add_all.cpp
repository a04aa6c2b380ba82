#include "commands/commands.hpp"

namespace herald::commands {

std::vector<Command> add_all(CLI::App& app, const cli::GlobalOptions& global) {
  std::vector<Command> all;
  all.push_back(add_announce(app, global));
  all.push_back(add_deregister(app, global));
  all.push_back(add_render(app, global));
  all.push_back(add_route_ls(app, global));
  all.push_back(add_completion(app, global));
  return all;
}

} // namespace herald::commands
