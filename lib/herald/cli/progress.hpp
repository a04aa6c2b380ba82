#pragma once

#include <cstddef>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace herald::cli {

/// Progress of long work, one line per item (a unit, an instance), written to a stream of
/// diagnostics (stderr). On a terminal the lines form a block that is redrawn in place as items
/// change and erased by finish(), so that the command's result (on stdout) is what remains;
/// when there are more items than the terminal has rows, or off a terminal, every change is one
/// plain line instead ("web@1.service: activating/start-pre on 11111111.../10.0.0.1").
/// Thread-safe. Text is made terminal-safe (control bytes become '?').
class ProgressLines {
public:
  /// `terminal`: `out` is a terminal of `rows` rows (0: unknown).
  ProgressLines(std::FILE* out, bool terminal, std::size_t rows = 0);
  ~ProgressLines();
  ProgressLines(const ProgressLines&) = delete;
  ProgressLines& operator=(const ProgressLines&) = delete;

  /// Declares the items in display order (on a terminal the block holds them all from the
  /// start, each "waiting" until set).
  void declare(const std::vector<std::string>& keys);

  /// Sets the line of `key` to `key: text` (or "key  text" aligned, on a terminal).
  void set(const std::string& key, const std::string& text);

  /// Erases the block on a terminal; nothing otherwise. Called by the destructor too.
  void finish();

  /// True when lines are redrawn in place.
  bool redrawing() const { return m_redraw; }

private:
  void redraw();

  std::mutex m_mutex;
  std::FILE* m_out;
  bool m_redraw;
  std::size_t m_rows;
  std::size_t m_drawn = 0; ///< lines of the block on screen
  std::size_t m_width = 0; ///< the widest key
  std::vector<std::string> m_order;
  std::map<std::string, std::string> m_text;
};

/// Whether the descriptor `fd` is a terminal, and its rows (0 when unknown).
bool is_terminal(int fd, std::size_t* rows = nullptr);

} // namespace herald::cli
