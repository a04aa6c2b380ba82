#pragma once

// What every harness shares. A harness feeds the fuzzer's bytes to one parser or decoder and
// lets anything but the documented failure escape: herald::Error is the decoders' way to say
// "bad input"; any other exception, a crash, a sanitizer report, a timeout or an out-of-memory is
// a bug libFuzzer reports with the input that caused it.

#include "herald/core/error.hpp"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace herald::fuzz {

/// A harness body: libFuzzer's LLVMFuzzerTestOneInput.
using Target = int (*)(const std::uint8_t* data, std::size_t size);

/// Records a harness for the unit tests' replay of the seeds and regressions (replay_test.cpp);
/// returns true so that a namespace-scope initializer can call it.
bool register_target(const char* name, Target target);

/// The fuzzer's bytes as text.
inline std::string_view text_of(const std::uint8_t* data, std::size_t size) {
  return {reinterpret_cast<const char*>(data), size};
}

/// Fails the run (libFuzzer reports the input; the replay test sees the process end) when a
/// property a harness checks does not hold.
[[noreturn]] inline void property_failed(const char* what, const char* file, int line) {
  std::fprintf(stderr, "%s:%d: fuzz property failed: %s\n", file, line, what);
  std::abort();
}

/// Runs `decode`, swallowing herald::Error: the documented answer to malformed input.
template <typename Decode> void expect_data_errors(Decode&& decode) {
  try {
    decode();
  } catch (const herald::Error&) {
  }
}

/// Calls `each` with every line of `text` (without "\n"), as a streamed body is delivered.
template <typename Each> void for_each_line(std::string_view text, Each&& each) {
  while (!text.empty()) {
    std::size_t end = text.find('\n');
    each(text.substr(0, end));
    if (end == std::string_view::npos) {
      break;
    }
    text.remove_prefix(end + 1);
  }
}

} // namespace herald::fuzz

/// Checks a property of what a harness decoded, rendered or parsed: a failure aborts the run.
#define HERALD_FUZZ_CHECK(condition)                                                               \
  ((condition) ? (void)0 : herald::fuzz::property_failed(#condition, __FILE__, __LINE__))

/// Opens a harness body taking `data` and `size`. In the fuzz build (clang, -fsanitize=fuzzer)
/// it is LLVMFuzzerTestOneInput; in the unit tests (HERALD_FUZZ_REPLAY) every harness is linked
/// into one binary and registers itself under NAME, so that the seeds and every regression found
/// run through the very same code under g++'s sanitizers.
#ifdef HERALD_FUZZ_REPLAY
#define HERALD_FUZZ_TARGET(NAME)                                                                   \
  static int herald_fuzz_##NAME(const std::uint8_t* data, std::size_t size);                       \
  [[maybe_unused]] static const bool herald_fuzz_registered_##NAME =                               \
      herald::fuzz::register_target(#NAME, &herald_fuzz_##NAME);                                   \
  static int herald_fuzz_##NAME(const std::uint8_t* data, std::size_t size)
#else
#define HERALD_FUZZ_TARGET(NAME)                                                                   \
  extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size)
#endif
