#include "herald/tmpl/value.hpp"

#include <algorithm>

namespace herald::tmpl {

struct Value::ListData {
  std::string type;
  std::string underlying;
  std::shared_ptr<std::vector<Value>> items;
};

struct Value::MapData {
  std::string type;
  Entries entries;
};

struct Value::RecordData {
  std::string type;
  Entries fields;
  bool pointer = false;
};

namespace {

const std::string k_empty_string;
const Entries k_empty_entries;
const TimeValue k_zero_time;

bool holds_interfaces(std::string_view type) {
  return type.ends_with("interface {}");
}

} // namespace

Value::Value(std::string s) : m_kind(Kind::string) {
  m_ptr = std::make_shared<const std::string>(std::move(s));
}

Value Value::nil() noexcept {
  Value v;
  v.m_kind = Kind::nil;
  return v;
}

Value Value::integer(std::int64_t i, IntType type) noexcept {
  Value v(i);
  v.m_int_type = type;
  return v;
}

Value Value::list(std::vector<Value> items, std::string type, std::string underlying) {
  if (holds_interfaces(type)) {
    for (auto& item : items) {
      item.m_boxed = true;
    }
  } else {
    for (auto& item : items) {
      item.m_boxed = false;
    }
  }
  Value v;
  v.m_kind = Kind::list;
  v.m_ptr = std::make_shared<const ListData>(
      ListData{std::move(type), std::move(underlying),
               std::make_shared<std::vector<Value>>(std::move(items))});
  return v;
}

Value Value::retyped(std::string type, std::string underlying) const {
  if (m_kind != Kind::list) {
    return *this;
  }
  Value v = *this;
  v.m_ptr = std::make_shared<const ListData>(ListData{
      std::move(type), std::move(underlying), static_cast<const ListData*>(m_ptr.get())->items});
  return v;
}

Value Value::strings(const std::vector<std::string>& items) {
  std::vector<Value> values;
  values.reserve(items.size());
  for (const auto& s : items) {
    values.emplace_back(s);
  }
  return list(std::move(values), "[]string");
}

Value Value::map(Entries entries, std::string type) {
  std::stable_sort(entries.begin(), entries.end(),
                   [](const auto& a, const auto& b) { return a.first < b.first; });
  // Keep the last of duplicate keys, as a Go map assignment would.
  Entries unique;
  unique.reserve(entries.size());
  for (auto& e : entries) {
    if (!unique.empty() && unique.back().first == e.first) {
      unique.back().second = std::move(e.second);
    } else {
      unique.push_back(std::move(e));
    }
  }
  bool box = holds_interfaces(type);
  for (auto& e : unique) {
    e.second.m_boxed = box;
  }
  Value v;
  v.m_kind = Kind::map;
  v.m_ptr = std::make_shared<const MapData>(MapData{std::move(type), std::move(unique)});
  return v;
}

Value Value::record(std::string type, Entries fields, bool pointer) {
  for (auto& f : fields) {
    f.second.m_boxed = false;
  }
  Value v;
  v.m_kind = Kind::record;
  v.m_ptr =
      std::make_shared<const RecordData>(RecordData{std::move(type), std::move(fields), pointer});
  return v;
}

Value Value::kv_pair(std::string key, std::string value) {
  Entries fields;
  fields.reserve(2);
  fields.emplace_back("Key", Value(std::move(key)));
  fields.emplace_back("Value", Value(std::move(value)));
  return record("memkv.KVPair", std::move(fields));
}

Value Value::time(TimeValue t) {
  Value v;
  v.m_kind = Kind::time;
  v.m_ptr = std::make_shared<const TimeValue>(std::move(t));
  return v;
}

std::string Value::type_name() const {
  switch (m_kind) {
  case Kind::invalid:
    return {};
  case Kind::nil:
    return "interface {}";
  case Kind::boolean:
    return "bool";
  case Kind::integer:
    switch (m_int_type) {
    case IntType::go_int:
      return "int";
    case IntType::go_int64:
      return "int64";
    case IntType::go_int32:
      return "int32";
    case IntType::go_uint8:
      return "uint8";
    case IntType::go_uint16:
      return "uint16";
    }
    return "int";
  case Kind::floating:
    return "float64";
  case Kind::string:
    return "string";
  case Kind::list:
    return static_cast<const ListData*>(m_ptr.get())->type;
  case Kind::map:
    return static_cast<const MapData*>(m_ptr.get())->type;
  case Kind::record: {
    const auto* r = static_cast<const RecordData*>(m_ptr.get());
    return r->pointer ? "*" + r->type : r->type;
  }
  case Kind::time:
    return "time.Time";
  }
  return {};
}

std::string Value::underlying_type_name() const {
  if (m_kind == Kind::list) {
    const auto* l = static_cast<const ListData*>(m_ptr.get());
    return l->underlying.empty() ? l->type : l->underlying;
  }
  return type_name();
}

bool Value::is_unsigned() const noexcept {
  return m_kind == Kind::integer &&
         (m_int_type == IntType::go_uint8 || m_int_type == IntType::go_uint16);
}

const std::string& Value::as_string() const noexcept {
  if (m_kind != Kind::string) {
    return k_empty_string;
  }
  return *static_cast<const std::string*>(m_ptr.get());
}

std::span<const Value> Value::items() const noexcept {
  if (m_kind != Kind::list) {
    return {};
  }
  return *static_cast<const ListData*>(m_ptr.get())->items;
}

std::vector<Value>& Value::mutable_items() const {
  return *static_cast<const ListData*>(m_ptr.get())->items;
}

const Entries& Value::entries() const noexcept {
  if (m_kind == Kind::map) {
    return static_cast<const MapData*>(m_ptr.get())->entries;
  }
  if (m_kind == Kind::record) {
    return static_cast<const RecordData*>(m_ptr.get())->fields;
  }
  return k_empty_entries;
}

const TimeValue& Value::as_time() const noexcept {
  if (m_kind != Kind::time) {
    return k_zero_time;
  }
  return *static_cast<const TimeValue*>(m_ptr.get());
}

const Value* Value::find(std::string_view key) const noexcept {
  if (m_kind == Kind::map) {
    const auto& e = static_cast<const MapData*>(m_ptr.get())->entries;
    auto it = std::lower_bound(e.begin(), e.end(), key, [](const auto& entry, std::string_view k) {
      return entry.first < k;
    });
    if (it != e.end() && it->first == key) {
      return &it->second;
    }
    return nullptr;
  }
  if (m_kind == Kind::record) {
    for (const auto& f : static_cast<const RecordData*>(m_ptr.get())->fields) {
      if (f.first == key) {
        return &f.second;
      }
    }
  }
  return nullptr;
}

std::size_t Value::size() const noexcept {
  switch (m_kind) {
  case Kind::string:
    return as_string().size();
  case Kind::list:
    return items().size();
  case Kind::map:
    return entries().size();
  default:
    return 0;
  }
}

bool Value::is_pointer() const noexcept {
  return m_kind == Kind::record && static_cast<const RecordData*>(m_ptr.get())->pointer;
}

bool Value::truthy() const noexcept {
  switch (m_kind) {
  case Kind::invalid:
  case Kind::nil:
    return false;
  case Kind::boolean:
    return m_scalar.b;
  case Kind::integer:
    return m_scalar.i != 0;
  case Kind::floating:
    return m_scalar.f != 0;
  case Kind::string:
  case Kind::list:
  case Kind::map:
    return size() > 0;
  case Kind::record:
  case Kind::time:
    return true;
  }
  return false;
}

} // namespace herald::tmpl
