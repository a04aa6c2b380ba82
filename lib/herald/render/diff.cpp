#include "herald/render/diff.hpp"

#include <algorithm>
#include <cstdint>
#include <fmt/format.h>
#include <functional>
#include <optional>
#include <vector>

namespace herald::render {

namespace {

constexpr std::size_t k_context = 3;
// Myers keeps one row per edit step (D^2 ints in all); beyond this many edits the middle is
// replaced as a whole instead.
constexpr int k_max_edits = 2048;

enum class Op { keep, remove, insert };

/// A line with its newline (when it has one), so "x" at EOF differs from "x\n".
struct Line {
  std::string_view text;
  std::size_t hash = 0;
  bool operator==(const Line& other) const { return hash == other.hash && text == other.text; }
};

std::vector<Line> split_lines(std::string_view text) {
  std::vector<Line> out;
  std::hash<std::string_view> hasher;
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    end = end == std::string_view::npos ? text.size() : end + 1;
    std::string_view line = text.substr(start, end - start);
    out.push_back({line, hasher(line)});
    start = end;
  }
  return out;
}

// The shortest edit script from a[0..n) to b[0..m), or nullopt past k_max_edits.
std::optional<std::vector<Op>> myers(const Line* a, int n, const Line* b, int m) {
  std::vector<std::vector<int>> trace; // trace[d][k + d]: furthest x on diagonal k after d edits
  int limit = std::min(n + m, k_max_edits);
  for (int d = 0; d <= limit; ++d) {
    std::vector<int> v(static_cast<std::size_t>(2 * d + 1));
    auto prev = [&](int k) { return trace[static_cast<std::size_t>(d - 1)][k + d - 1]; };
    for (int k = -d; k <= d; k += 2) {
      int x = 0;
      if (d > 0) {
        x = (k == -d || (k != d && prev(k - 1) < prev(k + 1))) ? prev(k + 1) : prev(k - 1) + 1;
      }
      int y = x - k;
      while (x < n && y < m && a[x] == b[y]) {
        ++x;
        ++y;
      }
      v[static_cast<std::size_t>(k + d)] = x;
      if (x >= n && y >= m) {
        trace.push_back(std::move(v));
        std::vector<Op> ops;
        int cx = n;
        int cy = m;
        for (int step = d; step > 0; --step) {
          const auto& p = trace[static_cast<std::size_t>(step - 1)];
          auto at = [&](int kk) { return p[static_cast<std::size_t>(kk + step - 1)]; };
          int ck = cx - cy;
          int prev_k = (ck == -step || (ck != step && at(ck - 1) < at(ck + 1))) ? ck + 1 : ck - 1;
          int prev_x = at(prev_k);
          int prev_y = prev_x - prev_k;
          while (cx > prev_x && cy > prev_y) {
            ops.push_back(Op::keep);
            --cx;
            --cy;
          }
          if (cx == prev_x) {
            ops.push_back(Op::insert);
            --cy;
          } else {
            ops.push_back(Op::remove);
            --cx;
          }
        }
        while (cx > 0 && cy > 0) {
          ops.push_back(Op::keep);
          --cx;
          --cy;
        }
        std::reverse(ops.begin(), ops.end());
        return ops;
      }
    }
    trace.push_back(std::move(v));
  }
  return std::nullopt;
}

std::string range(std::size_t start, std::size_t count) {
  // diff -u: "-5" for one line, "-5,3" for three, "-4,0" (the line before) for none.
  if (count == 1) {
    return std::to_string(start + 1);
  }
  return fmt::format("{},{}", count == 0 ? start : start + 1, count);
}

void append_line(std::string& out, char mark, std::string_view line) {
  out += mark;
  if (!line.empty() && line.back() == '\n') {
    out += line;
  } else {
    out += line;
    out += "\n\\ No newline at end of file\n";
  }
}

} // namespace

std::string unified_diff(std::string_view before, std::string_view after,
                         std::string_view old_label, std::string_view new_label) {
  if (before == after) {
    return {};
  }
  std::vector<Line> a = split_lines(before);
  std::vector<Line> b = split_lines(after);
  std::size_t head = 0;
  while (head < a.size() && head < b.size() && a[head] == b[head]) {
    ++head;
  }
  std::size_t tail = 0;
  while (tail < a.size() - head && tail < b.size() - head &&
         a[a.size() - 1 - tail] == b[b.size() - 1 - tail]) {
    ++tail;
  }
  int n = static_cast<int>(a.size() - head - tail);
  int m = static_cast<int>(b.size() - head - tail);
  std::vector<Op> ops(head, Op::keep);
  if (auto middle = myers(a.data() + head, n, b.data() + head, m)) {
    ops.insert(ops.end(), middle->begin(), middle->end());
  } else {
    ops.insert(ops.end(), static_cast<std::size_t>(n), Op::remove);
    ops.insert(ops.end(), static_cast<std::size_t>(m), Op::insert);
  }
  ops.insert(ops.end(), tail, Op::keep);

  // Line positions in a and b before each op.
  std::vector<std::size_t> pos_a(ops.size() + 1);
  std::vector<std::size_t> pos_b(ops.size() + 1);
  for (std::size_t i = 0; i < ops.size(); ++i) {
    pos_a[i + 1] = pos_a[i] + (ops[i] != Op::insert ? 1 : 0);
    pos_b[i + 1] = pos_b[i] + (ops[i] != Op::remove ? 1 : 0);
  }

  std::string out = fmt::format("--- {}\n+++ {}\n", old_label, new_label);
  std::size_t i = 0;
  while (i < ops.size()) {
    if (ops[i] == Op::keep) {
      ++i;
      continue;
    }
    std::size_t start = i >= k_context ? i - k_context : 0;
    std::size_t last_change = i;
    std::size_t j = i;
    while (j < ops.size()) {
      if (ops[j] != Op::keep) {
        last_change = j;
        ++j;
        continue;
      }
      std::size_t run = j;
      while (run < ops.size() && ops[run] == Op::keep) {
        ++run;
      }
      // Changes closer than two contexts share a hunk, as in diff -u.
      if (run < ops.size() && run - j <= 2 * k_context) {
        j = run;
        continue;
      }
      break;
    }
    std::size_t end = std::min(ops.size(), last_change + 1 + k_context);
    out += fmt::format("@@ -{} +{} @@\n", range(pos_a[start], pos_a[end] - pos_a[start]),
                       range(pos_b[start], pos_b[end] - pos_b[start]));
    for (std::size_t k = start; k < end; ++k) {
      switch (ops[k]) {
      case Op::keep:
        append_line(out, ' ', a[pos_a[k]].text);
        break;
      case Op::remove:
        append_line(out, '-', a[pos_a[k]].text);
        break;
      case Op::insert:
        append_line(out, '+', b[pos_b[k]].text);
        break;
      }
    }
    i = end;
  }
  return out;
}

} // namespace herald::render
