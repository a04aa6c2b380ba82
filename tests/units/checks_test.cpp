#include "herald/units/checks.hpp"

#include <doctest/doctest.h>
#include <string>

using namespace herald::units;

TEST_SUITE_BEGIN("units");

TEST_CASE("image references follow Docker's reference grammar") {
  for (const char* image :
       {"nginx", "nginx:1.25", "library/nginx:latest", "registry.example.com:5000/team/web:v2",
        "localhost/web", "Registry.Example.com/web", "a_b__c-d--e/g.f:V1.0-rc_1",
        "busybox@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae",
        "web:v1@sha256:2c26b46b68ffc68ff99b453c1d30413413422d706483bfa0f98a5e886266e7ae"}) {
    CAPTURE(std::string(image));
    CHECK_FALSE(image_problem(image));
  }
  for (const char* image :
       {"", "Nginx", "nginx:", ":v1", "nginx:-x", "-x", "a//b", "a/", "/a", "a..b", "a_-b",
        "web@sha256:abc", "web@:2c26b46b68ffc68ff99b453c1d30413413422d70", "nginx latest",
        "host:99999999/x", "host:/x", "nginx:v1:v2", "web\n"}) {
    CAPTURE(std::string(image));
    CHECK(image_problem(image));
  }
}

TEST_CASE("listen addresses and router names") {
  CHECK_FALSE(listen_problem("80"));
  CHECK_FALSE(listen_problem("*:80"));
  CHECK_FALSE(listen_problem("[::]:80"));
  CHECK(listen_problem(""));
  CHECK(listen_problem("80; include /etc/passwd"));
  CHECK(listen_problem("[::]"));
  CHECK_FALSE(router_name_problem("herald-router"));
  CHECK(router_name_problem("router@1"));
  CHECK(router_name_problem(""));
}

TEST_SUITE_END();
