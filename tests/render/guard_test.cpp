#include "herald/render/guard.hpp"

#include <doctest/doctest.h>

using herald::render::DropPolicy;
using herald::render::judge_drop;

TEST_SUITE_BEGIN("render");

TEST_CASE("an empty snapshot may not replace a non-empty config without --allow-empty") {
  DropPolicy policy;
  auto verdict = judge_drop(6, 0, true, policy);
  CHECK_FALSE(verdict.allowed);
  CHECK(verdict.reason.find("--allow-empty") != std::string::npos);
  CHECK_FALSE(judge_drop(std::nullopt, 0, true, policy).allowed); // first render after start
  CHECK(judge_drop(std::nullopt, 0, false, policy).allowed);      // nothing to lose
  policy.allow_empty = true;
  CHECK(judge_drop(6, 0, true, policy).allowed);
}

TEST_CASE("a render dropping more than --max-drop of the previous instances is refused") {
  DropPolicy policy;                              // 50% by default
  CHECK(judge_drop(10, 5, true, policy).allowed); // exactly 50%: allowed
  auto verdict = judge_drop(10, 4, true, policy); // 60%
  CHECK_FALSE(verdict.allowed);
  CHECK(verdict.reason.find("drops 6 of the 10 instances") != std::string::npos);
  CHECK(verdict.reason.find("60% > --max-drop 50%") != std::string::npos);
  policy.max_drop_percent = 70;
  CHECK(judge_drop(10, 4, true, policy).allowed);
  policy.max_drop_percent = 0;
  CHECK_FALSE(judge_drop(3, 2, true, policy).allowed);
  CHECK(judge_drop(3, 3, true, policy).allowed);
}

TEST_CASE("growth and the first render of a process are never refused by --max-drop") {
  DropPolicy policy;
  policy.max_drop_percent = 0;
  CHECK(judge_drop(2, 50, true, policy).allowed);
  CHECK(judge_drop(std::nullopt, 1, true, policy).allowed);
  CHECK(judge_drop(0, 1, false, policy).allowed);
}

TEST_SUITE_END();
