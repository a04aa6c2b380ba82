#include "commands/commands.hpp"

namespace herald::commands {

std::vector<Command> add_all(CLI::App& app, const cli::GlobalOptions& global) {
  std::vector<Command> all;
  all.push_back(add_announce(app, global));
  all.push_back(add_deregister(app, global));
  all.push_back(add_render(app, global));
  all.push_back(add_route_ls(app, global));
  CLI::App* unit = add_unit(app);
  for (Command& command : add_unit_gen(unit, global)) {
    all.push_back(std::move(command));
  }
  for (Command& command : add_unit_fleet(unit)) {
    all.push_back(std::move(command));
  }
  for (Command& command : add_cluster(app, global)) {
    all.push_back(std::move(command));
  }
  for (Command& command : add_launch(app, global)) {
    all.push_back(std::move(command));
  }
  all.push_back(add_completion(app, global));
  return all;
}

} // namespace herald::commands
