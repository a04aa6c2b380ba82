#pragma once

#include <string>

namespace herald::test {

/// tests/fixtures/ of this checkout: recorded API traffic, confd's golden corpus, the API notes.
std::string fixtures_dir();

/// The absolute path of tests/fixtures/`relative`. A missing file or directory fails the
/// current test with a message naming the path: a fixture is never silently absent.
std::string fixture_path(const std::string& relative);

/// The bytes of tests/fixtures/`relative`; missing or unreadable fails the test, as above.
std::string read_fixture(const std::string& relative);

} // namespace herald::test
