// A cluster file (herald-cluster(5)), as `herald cluster` reads it.
#include "fuzz.hpp"
#include "herald/cluster/hash.hpp"
#include "herald/cluster/load.hpp"

#include <optional>
#include <string>

HERALD_FUZZ_TARGET(cluster_yaml) {
  using namespace herald::cluster;
  LoadOptions options;
  // Never the disk: the env files and unit files an input names have fixed contents.
  options.read_file = [](const std::string& path) -> std::optional<std::string> {
    if (path.ends_with(".env")) {
      return "A=1\nB=two words\n";
    }
    if (path.ends_with(".service")) {
      return "[Service]\nExecStart=/bin/true\n";
    }
    return std::nullopt;
  };
  std::string_view text = herald::fuzz::text_of(data, size);
  std::optional<ClusterSpec> spec;
  herald::fuzz::expect_data_errors([&] { spec = parse_cluster(text, "fuzz.yaml", options); });
  if (!spec) {
    return 0;
  }
  // A file that parses re-parses from its canonical dump to the same instance hashes and the
  // same dump: nothing the parser accepts is lost or changed on the way.
  std::string dumped = dump_cluster(*spec);
  std::optional<ClusterSpec> again;
  try {
    again = parse_cluster(dumped, "dump.yaml", options);
  } catch (const herald::Error& e) {
    herald::fuzz::property_failed(e.what(), __FILE__, __LINE__);
  }
  HERALD_FUZZ_CHECK(again->apps.size() == spec->apps.size());
  for (std::size_t i = 0; i < spec->apps.size(); ++i) {
    HERALD_FUZZ_CHECK(instance_hash(again->apps[i]) == instance_hash(spec->apps[i]));
    HERALD_FUZZ_CHECK(changed_fields(again->apps[i], spec->apps[i]).empty());
  }
  HERALD_FUZZ_CHECK(dump_cluster(*again) == dumped);
  return 0;
}
