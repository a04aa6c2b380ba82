# The fuzz harnesses: NAME here means tests/fuzz/NAME.cpp (a HERALD_FUZZ_TARGET(NAME) body),
# tests/fuzz/NAME.seeds (globs of seed files) and, optionally, tests/fuzz/NAME.dict. The fuzz
# build makes one fuzz_NAME per entry; the unit tests replay each one's seeds and regressions.
set(HERALD_FUZZ_TARGETS
  cluster_yaml
  consul_json
  docker_json
  etcd2_json
  etcd3_grpc
  etcd3_json
  go_json
  registry_value
  template
  toml_resource
  unit_file
)
