#include "herald/tmpl/go_path.hpp"

#include "herald/tmpl/go_strconv.hpp"

namespace herald::tmpl::go {
namespace {

struct Chunk {
  bool star = false;
  std::string_view chunk;
  std::string_view rest;
};

// Go's scanChunk: leading stars, then the text up to the next star outside a class.
Chunk scan_chunk(std::string_view pattern) {
  Chunk c;
  while (!pattern.empty() && pattern[0] == '*') {
    pattern.remove_prefix(1);
    c.star = true;
  }
  bool inrange = false;
  std::size_t i = 0;
  for (; i < pattern.size(); ++i) {
    char ch = pattern[i];
    if (ch == '\\') {
      if (i + 1 < pattern.size()) {
        ++i;
      }
    } else if (ch == '[') {
      inrange = true;
    } else if (ch == ']') {
      inrange = false;
    } else if (ch == '*' && !inrange) {
      break;
    }
  }
  c.chunk = pattern.substr(0, i);
  c.rest = pattern.substr(i);
  return c;
}

char32_t get_esc(std::string_view& chunk) {
  if (chunk.empty() || chunk[0] == '-' || chunk[0] == ']') {
    throw BadPattern();
  }
  if (chunk[0] == '\\') {
    chunk.remove_prefix(1);
    if (chunk.empty()) {
      throw BadPattern();
    }
  }
  std::size_t n = 1;
  char32_t r = decode_rune(chunk, n);
  bool bad = r == k_rune_error && n == 1;
  chunk.remove_prefix(n);
  if (bad || chunk.empty()) {
    throw BadPattern();
  }
  return r;
}

// Go's matchChunk: whether `chunk` matches a prefix of `s`; `rest` gets what follows.
bool match_chunk(std::string_view chunk, std::string_view s, std::string_view& rest) {
  bool failed = false;
  while (!chunk.empty()) {
    if (!failed && s.empty()) {
      failed = true;
    }
    switch (chunk[0]) {
    case '[': {
      char32_t r = 0;
      if (!failed) {
        std::size_t n = 1;
        r = decode_rune(s, n);
        s.remove_prefix(n);
      }
      chunk.remove_prefix(1);
      bool negated = false;
      if (!chunk.empty() && chunk[0] == '^') {
        negated = true;
        chunk.remove_prefix(1);
      }
      bool match = false;
      int nrange = 0;
      for (;;) {
        if (!chunk.empty() && chunk[0] == ']' && nrange > 0) {
          chunk.remove_prefix(1);
          break;
        }
        char32_t lo = get_esc(chunk);
        char32_t hi = lo;
        if (chunk[0] == '-') {
          chunk.remove_prefix(1);
          hi = get_esc(chunk);
        }
        if (lo <= r && r <= hi) {
          match = true;
        }
        ++nrange;
      }
      if (match == negated) {
        failed = true;
      }
      break;
    }
    case '?':
      if (!failed) {
        if (s[0] == '/') {
          failed = true;
        }
        std::size_t n = 1;
        decode_rune(s, n);
        s.remove_prefix(n);
      }
      chunk.remove_prefix(1);
      break;
    case '\\':
      chunk.remove_prefix(1);
      if (chunk.empty()) {
        throw BadPattern();
      }
      [[fallthrough]];
    default:
      if (!failed) {
        if (chunk[0] != s[0]) {
          failed = true;
        }
        s.remove_prefix(1);
      }
      chunk.remove_prefix(1);
      break;
    }
  }
  if (failed) {
    return false;
  }
  rest = s;
  return true;
}

} // namespace

bool path_is_clean(std::string_view path) {
  if (path.find('.') != std::string_view::npos) {
    return path_clean(path) == path; // "." and ".." elements: Go's rules, exactly
  }
  if (path.empty() || path.find("//") != std::string_view::npos) {
    return false;
  }
  return path == "/" || path.back() != '/';
}

std::string path_clean(std::string_view path) {
  if (path.empty()) {
    return ".";
  }
  // A port of Go's lazybuf loop: `buf[0, w)` is the output so far.
  bool rooted = path[0] == '/';
  std::size_t n = path.size();
  std::string buf(n + 1, '\0');
  std::size_t w = 0;
  std::size_t r = 0;
  std::size_t dotdot = 0;
  if (rooted) {
    buf[w++] = '/';
    r = 1;
    dotdot = 1;
  }
  while (r < n) {
    if (path[r] == '/') {
      ++r;
    } else if (path[r] == '.' && (r + 1 == n || path[r + 1] == '/')) {
      ++r;
    } else if (path[r] == '.' && path[r + 1] == '.' && (r + 2 == n || path[r + 2] == '/')) {
      r += 2;
      if (w > dotdot) {
        --w;
        while (w > dotdot && buf[w] != '/') {
          --w;
        }
      } else if (!rooted) {
        if (w > 0) {
          buf[w++] = '/';
        }
        buf[w++] = '.';
        buf[w++] = '.';
        dotdot = w;
      }
    } else {
      if ((rooted && w != 1) || (!rooted && w != 0)) {
        buf[w++] = '/';
      }
      for (; r < n && path[r] != '/'; ++r) {
        buf[w++] = path[r];
      }
    }
  }
  if (w == 0) {
    return ".";
  }
  buf.resize(w);
  return buf;
}

std::string path_dir(std::string_view path) {
  auto i = path.rfind('/');
  std::string_view dir = i == std::string_view::npos ? std::string_view() : path.substr(0, i + 1);
  return path_clean(dir);
}

std::string path_base(std::string_view path) {
  if (path.empty()) {
    return ".";
  }
  while (!path.empty() && path.back() == '/') {
    path.remove_suffix(1);
  }
  if (auto i = path.rfind('/'); i != std::string_view::npos) {
    path = path.substr(i + 1);
  }
  if (path.empty()) {
    return "/";
  }
  return std::string(path);
}

std::string path_join(std::string_view a, std::string_view b) {
  if (a.empty()) {
    return b.empty() ? std::string() : path_clean(b);
  }
  if (b.empty()) {
    return path_clean(a);
  }
  std::string joined(a);
  joined += '/';
  joined += b;
  return path_clean(joined);
}

bool path_match(std::string_view pattern, std::string_view name) {
  while (!pattern.empty()) {
    Chunk c = scan_chunk(pattern);
    pattern = c.rest;
    if (c.star && c.chunk.empty()) {
      // A trailing * matches the rest of the name unless it has a /.
      return name.find('/') == std::string_view::npos;
    }
    std::string_view t;
    bool ok = match_chunk(c.chunk, name, t);
    // The last chunk must consume the whole name, or a star may still match more.
    if (ok && (t.empty() || !pattern.empty())) {
      name = t;
      continue;
    }
    bool matched = false;
    if (c.star) {
      for (std::size_t i = 0; i < name.size() && name[i] != '/'; ++i) {
        std::string_view t2;
        if (match_chunk(c.chunk, name.substr(i + 1), t2)) {
          if (pattern.empty() && !t2.empty()) {
            continue;
          }
          name = t2;
          matched = true;
          break;
        }
      }
    }
    if (matched) {
      continue;
    }
    // Before reporting no match, check that the rest of the pattern is well-formed.
    while (!pattern.empty()) {
      Chunk rest = scan_chunk(pattern);
      pattern = rest.rest;
      std::string_view ignored;
      match_chunk(rest.chunk, "", ignored);
    }
    return false;
  }
  return name.empty();
}

bool pattern_valid(std::string_view pattern) {
  try {
    while (!pattern.empty()) {
      Chunk c = scan_chunk(pattern);
      pattern = c.rest;
      std::string_view ignored;
      match_chunk(c.chunk, "", ignored);
    }
  } catch (const BadPattern&) {
    return false;
  }
  return true;
}

std::string_view pattern_literal_prefix(std::string_view pattern) {
  auto i = pattern.find_first_of("*?[\\");
  return i == std::string_view::npos ? pattern : pattern.substr(0, i);
}

} // namespace herald::tmpl::go
