#include "herald/core/strings.hpp"

#include "herald/core/utf8.hpp"

#include <algorithm>
#include <cstdlib>
#include <fmt/format.h>
#include <fstream>

namespace herald {

std::vector<std::string> split(std::string_view text, char sep) {
  std::vector<std::string> out;
  std::size_t start = 0;
  while (true) {
    auto pos = text.find(sep, start);
    if (pos == std::string_view::npos) {
      out.emplace_back(text.substr(start));
      return out;
    }
    out.emplace_back(text.substr(start, pos - start));
    start = pos + 1;
  }
}

std::string_view trim(std::string_view text) {
  const char* ws = " \t\r\n\f\v";
  auto first = text.find_first_not_of(ws);
  if (first == std::string_view::npos) {
    return {};
  }
  auto last = text.find_last_not_of(ws);
  return text.substr(first, last - first + 1);
}

namespace {

void append_escaped(std::string& out, std::string_view text, bool quote) {
  // Most text is printable ASCII: copy it whole.
  bool plain = std::all_of(text.begin(), text.end(), [quote](char c) {
    auto u = static_cast<unsigned char>(c);
    return u >= 0x20 && u < 0x7f && !(quote && (c == '"' || c == '\\'));
  });
  if (plain) {
    out.append(text);
    return;
  }
  for (std::size_t i = 0; i < text.size();) {
    char32_t code = 0;
    std::size_t length = utf8_decode(text, i, code);
    if (length == 0) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned char>(text[i]));
      ++i;
      continue;
    }
    if (code == '\n') {
      out += "\\n";
    } else if (code == '\r') {
      out += "\\r";
    } else if (code == '\t') {
      out += "\\t";
    } else if (code < 0x20 || code == 0x7f) {
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(code));
    } else if ((code >= 0x80 && code <= 0x9f) || is_invisible(code)) {
      out += fmt::format("\\u{{{:04x}}}", static_cast<unsigned>(code));
    } else if (quote && (code == '"' || code == '\\')) {
      out += '\\';
      out += static_cast<char>(code);
    } else {
      out.append(text.substr(i, length));
    }
    i += length;
  }
}

} // namespace

std::string escape_control(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_escaped(out, text, false);
  return out;
}

std::string quoted(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 2);
  out += '"';
  append_escaped(out, text, true);
  out += '"';
  return out;
}

namespace {

std::size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<std::size_t> prev(b.size() + 1);
  std::vector<std::size_t> cur(b.size() + 1);
  for (std::size_t j = 0; j <= b.size(); ++j) {
    prev[j] = j;
  }
  for (std::size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (std::size_t j = 1; j <= b.size(); ++j) {
      std::size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

} // namespace

std::optional<std::string> closest_match(std::string_view word,
                                         const std::vector<std::string>& candidates) {
  // Same bound as ninja's SpellcheckStringV: at most 3 edits away.
  constexpr std::size_t k_max_distance = 3;
  std::optional<std::string> best;
  std::size_t best_distance = k_max_distance + 1;
  for (const auto& candidate : candidates) {
    std::size_t d = edit_distance(word, candidate);
    if (d < best_distance && d < std::max<std::size_t>(candidate.size(), 2)) {
      best_distance = d;
      best = candidate;
    }
  }
  return best;
}

std::optional<std::string> read_env_file_value(const std::string& path, std::string_view name) {
  std::ifstream in(path);
  if (!in) {
    return std::nullopt;
  }
  std::string line;
  std::optional<std::string> found;
  while (std::getline(in, line)) {
    std::string_view l = trim(line);
    if (l.empty() || l.front() == '#') {
      continue;
    }
    if (l.substr(0, 7) == "export ") {
      l = trim(l.substr(7));
    }
    auto eq = l.find('=');
    if (eq == std::string_view::npos || trim(l.substr(0, eq)) != name) {
      continue;
    }
    std::string_view value = trim(l.substr(eq + 1));
    if (value.size() >= 2 && (value.front() == '"' || value.front() == '\'') &&
        value.back() == value.front()) {
      value = value.substr(1, value.size() - 2);
    }
    found = std::string(value); // the last assignment wins, as in a shell
  }
  if (found && found->empty()) {
    return std::nullopt;
  }
  return found;
}

std::optional<std::string> getenv_nonempty(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    return std::nullopt;
  }
  return std::string(value);
}

int hex_digit_value(char c) noexcept {
  if (c >= '0' && c <= '9') {
    return c - '0';
  }
  if (c >= 'a' && c <= 'f') {
    return c - 'a' + 10;
  }
  if (c >= 'A' && c <= 'F') {
    return c - 'A' + 10;
  }
  return -1;
}

std::string html_escape(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char c : text) {
    switch (c) {
    case '\0':
      out += "\xEF\xBF\xBD";
      break;
    case '"':
      out += "&#34;";
      break;
    case '\'':
      out += "&#39;";
      break;
    case '&':
      out += "&amp;";
      break;
    case '<':
      out += "&lt;";
      break;
    case '>':
      out += "&gt;";
      break;
    default:
      out += c;
    }
  }
  return out;
}

} // namespace herald
