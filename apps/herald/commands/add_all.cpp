#include "commands/commands.hpp"

namespace herald::commands {

std::vector<Command> add_all(CLI::App& app, const cli::GlobalOptions& global) {
  std::vector<Command> all;
  (void)app;
  (void)global;
  return all;
}

} // namespace herald::commands
