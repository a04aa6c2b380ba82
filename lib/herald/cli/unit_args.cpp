#include "herald/cli/unit_args.hpp"

#include "herald/core/error.hpp"
#include "herald/fleet/unit_name.hpp"
#include "herald/units/fleet_options.hpp"
#include "herald/units/unit_file.hpp"

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <set>
#include <sstream>

namespace herald::cli {

namespace {

constexpr std::uintmax_t k_max_unit_file = 1 << 20;

bool is_regular_file(const std::string& path) {
  std::error_code ec;
  return std::filesystem::is_regular_file(path, ec);
}

std::vector<fleet::UnitOption> read_unit_file(const std::string& path) {
  std::error_code ec;
  auto size = std::filesystem::file_size(path, ec);
  if (ec || size > k_max_unit_file) {
    throw Error(ErrorKind::data,
                ec ? fmt::format("cannot read {}: {}", path, ec.message())
                   : fmt::format("{} is larger than a unit file can be (1 MiB)", path));
  }
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  if (!in) {
    throw Error(ErrorKind::data, fmt::format("cannot read {}", path));
  }
  return units::to_fleet_options(units::UnitFile::parse(text.str(), path));
}

} // namespace

std::vector<fleet::UnitRequest> unit_requests(const std::vector<std::string>& args, bool files) {
  std::vector<fleet::UnitRequest> out;
  std::set<std::string> seen;
  for (const std::string& arg : args) {
    fleet::UnitRequest request;
    request.name = fleet::mangle_unit_name(arg);
    if (auto problem = fleet::unit_name_problem(request.name)) {
      throw Error(ErrorKind::usage,
                  fmt::format("'{}' is not a unit fleet accepts: {}", arg, *problem));
    }
    if (!seen.insert(request.name).second) {
      continue;
    }
    if (files) {
      auto info = fleet::parse_unit_name(request.name);
      std::filesystem::path dir = std::filesystem::path(arg).parent_path();
      if (is_regular_file(arg)) {
        request.options = read_unit_file(arg);
        request.file = arg;
      } else if (info->is_instance()) {
        std::string beside = (dir / info->template_name()).string();
        if (is_regular_file(beside)) {
          request.template_options = read_unit_file(beside);
        }
      }
      if (!request.options && arg.find('/') != std::string::npos && !request.template_options) {
        throw Error(
            ErrorKind::usage,
            fmt::format("no such unit file: {}{}", arg,
                        info->is_instance()
                            ? " (nor its template " + (dir / info->template_name()).string() + ")"
                            : ""));
      }
    }
    out.push_back(std::move(request));
  }
  return out;
}

} // namespace herald::cli
