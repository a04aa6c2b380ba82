# Included by ctest after the discovered tests (TEST_INCLUDE_FILES, tests/CMakeLists.txt).
# The tests that measure a rollout under load (wrk through a real router, docker instances),
# and the registrator's burst test, take the docker_load lock: two of them at once on a 2-core
# CI machine starve each other's routers and registrators, and what they measure (failed
# requests, reloads per step, registrations within a bound) is then the machine's, not herald's. Other tests still run beside each of them. A renamed test fails
# here ("Can not find test"), so the list stays true.
set_tests_properties(
  "cluster up brings an app up through docker, a second up does nothing, a new image rolls out with the app served throughout, a broken one stops the rollout, down removes it"
  "a rolling image change under steady load through nginx fails no request and reloads nginx once per step"
  "a rolling image change under steady load through haproxy fails no request of any kind and never reloads haproxy"
  "the same load sees failed requests when instances are killed instead of drained"
  "announce --docker-events: 10 containers started and stopped in a burst match docker ps within 1 s"
  PROPERTIES RESOURCE_LOCK docker_load)
