#pragma once

#include <cstdint>
#include <iosfwd>
#include <nlohmann/json.hpp>
#include <string>
#include <string_view>
#include <vector>

namespace herald::cli {

/// Writes one JSON value token by token, without building a document first: the way a command
/// hands its machine-readable output to the Printer (see printer.hpp).
///
/// Two targets behind the same calls:
/// - text, streamed to an std::ostream in chunks, byte for byte what nlohmann's
///   `dump(2)` (or `dump()` when compact) prints for the same value, invalid UTF-8 replaced by
///   U+FFFD. At 10000 route instances building the nlohmann document first took most of
///   `route ls -o json`'s time; this writes the text directly.
/// - a value (nlohmann::ordered_json), for -o yaml and for tests.
///
/// Inside an object, call key() before each member's value. Misuse (a value without a key in an
/// object, an end_* that does not match) is a bug in the caller and is not diagnosed.
class JsonWriter {
public:
  /// Text written to `out` in chunks as it grows, the rest on flush() (unflushed text is dropped
  /// with the writer). A failed write throws Error(internal) naming the cause.
  JsonWriter(std::ostream& out, bool compact);

  /// The value built into `into` (replacing what it held).
  explicit JsonWriter(nlohmann::ordered_json& into);

  JsonWriter(const JsonWriter&) = delete;
  JsonWriter& operator=(const JsonWriter&) = delete;

  void begin_object();
  void end_object();
  void begin_array();
  void end_array();

  /// The next member's name; its value follows.
  void key(std::string_view name);

  void string(std::string_view text);
  void number(std::int64_t n);
  void number_unsigned(std::uint64_t n);
  void number_float(double d);
  void boolean(bool b);
  void null();

  /// The member `name`: `text` as a string, or null when it is empty (a field the source does
  /// not have, as the listings' JSON documents write it).
  void string_or_null(std::string_view name, std::string_view text);

  /// A whole value already built (for a command whose document is small enough to build).
  void value(const nlohmann::ordered_json& v);

  /// Writes the buffered text to the stream (text target; nothing otherwise). Throws
  /// Error(internal) when the stream has failed.
  void flush();

private:
  void begin(char bracket);
  void end(char bracket);
  void element();
  void open(char bracket);
  void close(char bracket);
  void newline(std::size_t depth);
  void quoted(std::string_view text);
  void maybe_flush();
  nlohmann::ordered_json& put(nlohmann::ordered_json v);

  // Text target.
  std::ostream* m_out = nullptr;
  std::string m_text;
  bool m_pretty = false;
  bool m_after_key = false;
  std::vector<bool> m_first; ///< per open container: no element written yet

  // Value target.
  nlohmann::ordered_json* m_root = nullptr;
  std::vector<nlohmann::ordered_json*> m_open; ///< containers being filled, innermost last
  std::string m_key;
};

} // namespace herald::cli
