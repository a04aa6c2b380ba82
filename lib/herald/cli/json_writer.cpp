#include "herald/cli/json_writer.hpp"

#include "herald/cli/write_impl.hpp"

#include <algorithm>
#include <fmt/format.h>
#include <ostream>

namespace herald::cli {

namespace {

/// Text is handed to the stream in pieces of about this size: large enough that writes are few,
/// small enough that a listing of any size needs no more memory than this.
constexpr std::size_t k_chunk = 64 * 1024;

} // namespace

JsonWriter::JsonWriter(std::ostream& out, bool compact) : m_out(&out), m_pretty(!compact) {
  m_text.reserve(k_chunk + k_chunk / 4);
}

JsonWriter::JsonWriter(nlohmann::ordered_json& into) : m_root(&into) {
  *m_root = nullptr;
}

void JsonWriter::begin_object() {
  begin('{');
}

void JsonWriter::end_object() {
  end('}');
}

void JsonWriter::begin_array() {
  begin('[');
}

void JsonWriter::end_array() {
  end(']');
}

void JsonWriter::begin(char bracket) {
  if (m_root != nullptr) {
    m_open.push_back(
        &put(bracket == '{' ? nlohmann::ordered_json::object() : nlohmann::ordered_json::array()));
    return;
  }
  open(bracket);
}

void JsonWriter::end(char bracket) {
  if (m_root != nullptr) {
    m_open.pop_back();
    return;
  }
  close(bracket);
}

void JsonWriter::key(std::string_view name) {
  if (m_root != nullptr) {
    m_key = name;
    return;
  }
  element();
  quoted(name);
  m_text += m_pretty ? ": " : ":";
  m_after_key = true;
}

void JsonWriter::string(std::string_view text) {
  if (m_root != nullptr) {
    put(std::string(text));
    return;
  }
  element();
  quoted(text);
}

void JsonWriter::number(std::int64_t n) {
  if (m_root != nullptr) {
    put(n);
    return;
  }
  element();
  m_text += fmt::format_int(n).str();
}

void JsonWriter::number_unsigned(std::uint64_t n) {
  if (m_root != nullptr) {
    put(n);
    return;
  }
  element();
  m_text += fmt::format_int(n).str();
}

void JsonWriter::number_float(double d) {
  if (m_root != nullptr) {
    put(d);
    return;
  }
  element();
  m_text += nlohmann::json(d).dump(); // nlohmann's shortest round-trip form; NaN and inf: null
}

void JsonWriter::boolean(bool b) {
  if (m_root != nullptr) {
    put(b);
    return;
  }
  element();
  m_text += b ? "true" : "false";
}

void JsonWriter::string_or_null(std::string_view name, std::string_view text) {
  key(name);
  if (text.empty()) {
    null();
  } else {
    string(text);
  }
}

void JsonWriter::null() {
  if (m_root != nullptr) {
    put(nullptr);
    return;
  }
  element();
  m_text += "null";
}

void JsonWriter::value(const nlohmann::ordered_json& v) {
  using Type = nlohmann::json::value_t;
  switch (v.type()) {
  case Type::object:
    begin_object();
    for (const auto& [name, item] : v.items()) {
      key(name);
      value(item);
    }
    end_object();
    break;
  case Type::array:
    begin_array();
    for (const auto& item : v) {
      value(item);
    }
    end_array();
    break;
  case Type::string:
    string(v.get_ref<const std::string&>());
    break;
  case Type::boolean:
    boolean(v.get<bool>());
    break;
  case Type::number_integer:
    number(v.get<std::int64_t>());
    break;
  case Type::number_unsigned:
    number_unsigned(v.get<std::uint64_t>());
    break;
  case Type::number_float:
    number_float(v.get<double>());
    break;
  default:
    null();
    break;
  }
}

void JsonWriter::flush() {
  if (m_out == nullptr) {
    return;
  }
  write_checked(*m_out, m_text);
  m_text.clear();
}

nlohmann::ordered_json& JsonWriter::put(nlohmann::ordered_json v) {
  // A container's address is kept in m_open while it is filled; it stays valid because nothing
  // is added to its parent (whose storage could move) until it is closed.
  if (m_open.empty()) {
    *m_root = std::move(v);
    return *m_root;
  }
  nlohmann::ordered_json& parent = *m_open.back();
  if (parent.is_array()) {
    parent.push_back(std::move(v));
    return parent.back();
  }
  nlohmann::ordered_json& member = parent[m_key];
  member = std::move(v);
  return member;
}

// Before a value or a member name: the comma and line break nlohmann's dump() writes.
void JsonWriter::element() {
  if (m_after_key) {
    m_after_key = false;
    return;
  }
  if (m_first.empty()) {
    return;
  }
  if (!m_first.back()) {
    m_text += ',';
  }
  m_first.back() = false;
  newline(m_first.size());
}

void JsonWriter::open(char bracket) {
  element();
  m_text += bracket;
  m_first.push_back(true);
}

void JsonWriter::close(char bracket) {
  bool empty = m_first.back();
  m_first.pop_back();
  if (!empty) {
    newline(m_first.size());
  }
  m_text += bracket;
  maybe_flush();
}

void JsonWriter::newline(std::size_t depth) {
  if (m_pretty) {
    m_text += '\n';
    m_text.append(depth * 2, ' ');
  }
}

void JsonWriter::maybe_flush() {
  if (m_text.size() >= k_chunk) {
    flush();
  }
}

void JsonWriter::quoted(std::string_view text) {
  bool plain = std::all_of(text.begin(), text.end(), [](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7F && c != '"' && c != '\\';
  });
  if (plain) {
    m_text += '"';
    m_text += text;
    m_text += '"';
    return;
  }
  // Escapes, non-ASCII and invalid UTF-8 (U+FFFD): exactly nlohmann's rules, from nlohmann.
  m_text += nlohmann::json(std::string(text))
                .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

} // namespace herald::cli
