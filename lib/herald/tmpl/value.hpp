#pragma once

#include <concepts>
#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace herald::tmpl {

/// The shape of a Value, mirroring the reflect kinds Go's text/template distinguishes.
enum class Kind : std::uint8_t {
  invalid,  ///< no value at all (a missing map key): prints "<no value>"
  nil,      ///< an interface{} holding nil (JSON null, the nil literal): prints "<nil>"
  boolean,  ///< bool
  integer,  ///< int, int64, uint8, ... (see IntType)
  floating, ///< float64
  string,   ///< string
  list,     ///< a slice ([]string, []interface {}, memkv.KVPairs, ...)
  map,      ///< a map with string keys, iterated in sorted key order
  record,   ///< a struct such as memkv.KVPair{Key, Value}, possibly behind a pointer
  time      ///< a time.Time
};

/// The Go integer type an integer Value has (it decides %T, argument checks and printing).
enum class IntType : std::uint8_t { go_int, go_int64, go_int32, go_uint8, go_uint16 };

/// A time.Time: wall clock, zone and an optional monotonic reading.
struct TimeValue {
  std::int64_t unix_seconds = 0;
  std::int32_t nanoseconds = 0;
  std::int32_t utc_offset = 0; ///< seconds east of UTC
  std::string zone;            ///< abbreviation ("UTC", "CET"); empty prints the offset
  bool monotonic = false;
  std::int64_t monotonic_ns = 0;
};

class Value;

/// Named members of a map or record, in sorted key order (maps) or declaration order (records).
using Entries = std::vector<std::pair<std::string, Value>>;

/// A value of the data tree a template walks: an immutable, cheaply copied handle (scalars inline,
/// strings and containers in shared storage). Containers carry their Go type name so that type
/// checks and error messages read as Go's.
class Value {
public:
  /// The invalid value ("no value").
  Value() noexcept = default;
  /// A bool.
  Value(bool b) noexcept : m_kind(Kind::boolean) { m_scalar.b = b; }
  /// A Go int (any C++ integer type).
  template <std::integral T>
  requires(!std::same_as<T, bool>) Value(T i)
  noexcept : m_kind(Kind::integer) { m_scalar.i = static_cast<std::int64_t>(i); }
  /// A float64.
  Value(double f) noexcept : m_kind(Kind::floating) { m_scalar.f = f; }
  /// A string.
  Value(std::string s);
  /// A string.
  Value(std::string_view s) : Value(std::string(s)) {}
  /// A string.
  Value(const char* s) : Value(std::string(s)) {}

  /// An interface{} holding nil.
  static Value nil() noexcept;
  /// An integer of a specific Go type.
  static Value integer(std::int64_t i, IntType type) noexcept;
  /// A slice of Go type `type` ("[]interface {}", "[]string", "memkv.KVPairs", ...); `underlying`
  /// names the unnamed slice type a named one is defined as ("[]memkv.KVPair" for memkv.KVPairs),
  /// empty when `type` is unnamed.
  static Value list(std::vector<Value> items, std::string type = "[]interface {}",
                    std::string underlying = {});
  /// A []string.
  static Value strings(const std::vector<std::string>& items);
  /// A map with string keys; entries are sorted by key, the last of duplicate keys wins.
  static Value map(Entries entries, std::string type = "map[string]interface {}");
  /// A struct of Go type `type` with the given fields; `pointer` makes it a *type.
  static Value record(std::string type, Entries fields, bool pointer = false);
  /// confd's memkv.KVPair{Key, Value}.
  static Value kv_pair(std::string key, std::string value);
  /// A time.Time.
  static Value time(TimeValue t);

  /// The kind of value held.
  Kind kind() const noexcept { return m_kind; }
  /// False only for the invalid value.
  bool valid() const noexcept { return m_kind != Kind::invalid; }
  /// The Go type name, as %T and error messages print it ("" for the invalid value).
  std::string type_name() const;
  /// For named list types, the unnamed type they are defined as; else type_name().
  std::string underlying_type_name() const;
  /// The Go integer type of an integer value.
  IntType int_type() const noexcept { return m_int_type; }
  /// True for unsigned integer types.
  bool is_unsigned() const noexcept;

  /// The bool held (kind boolean).
  bool as_bool() const noexcept { return m_scalar.b; }
  /// The integer held (kind integer).
  std::int64_t as_int() const noexcept { return m_scalar.i; }
  /// The float held (kind floating).
  double as_float() const noexcept { return m_scalar.f; }
  /// The string held (kind string); empty for other kinds.
  const std::string& as_string() const noexcept;
  /// The elements of a list (empty for other kinds).
  std::span<const Value> items() const noexcept;
  /// The entries of a map (sorted) or the fields of a record (empty for other kinds).
  const Entries& entries() const noexcept;
  /// The time held (kind time).
  const TimeValue& as_time() const noexcept;
  /// A map entry or record field by name; nullptr when absent or not a map/record.
  const Value* find(std::string_view key) const noexcept;
  /// Number of list elements, map entries or string bytes; 0 otherwise.
  std::size_t size() const noexcept;
  /// True when a record is behind a pointer (*net.SRV).
  bool is_pointer() const noexcept;

  /// Go's truth of a value, as if/with/and/or/not see it.
  bool truthy() const noexcept;

  /// True when the value was read out of an interface{}-typed container (a map[string]interface{}
  /// entry or []interface{} element) and has not been unwrapped by a pipeline yet; it changes the
  /// type Go names in "can't evaluate field" errors.
  bool boxed() const noexcept { return m_boxed; }
  /// This value marked as read out of an interface{} container.
  Value box() const {
    Value v = *this;
    v.m_boxed = true;
    return v;
  }
  /// This value with the interface{} wrapping removed.
  Value unbox() const {
    Value v = *this;
    v.m_boxed = false;
    return v;
  }

  /// The same list elements (shared, not copied) under another Go slice type, as a Go conversion
  /// between []T and a named slice type of T would give.
  Value retyped(std::string type, std::string underlying = {}) const;

  /// The list's elements for the confd functions that, as in Go, sort or reverse a slice in place
  /// (every holder of this list sees the change, as every holder of a Go slice would).
  std::vector<Value>& mutable_items() const;

private:
  struct ListData;
  struct MapData;
  struct RecordData;

  Kind m_kind = Kind::invalid;
  IntType m_int_type = IntType::go_int;
  bool m_boxed = false;
  union {
    bool b;
    std::int64_t i;
    double f;
  } m_scalar{};
  std::shared_ptr<const void> m_ptr;
};

} // namespace herald::tmpl
