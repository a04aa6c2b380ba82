#include "herald/cli/progress.hpp"

#include "herald/cli/printer.hpp"

#include <algorithm>
#include <sys/ioctl.h>
#include <unistd.h>

namespace herald::cli {

bool is_terminal(int fd, std::size_t* rows) {
  if (::isatty(fd) != 1) {
    return false;
  }
  if (rows != nullptr) {
    winsize size{};
    *rows = ::ioctl(fd, TIOCGWINSZ, &size) == 0 ? size.ws_row : 0;
  }
  return true;
}

ProgressLines::ProgressLines(std::FILE* out, bool terminal, std::size_t rows)
    : m_out(out), m_redraw(terminal), m_rows(rows) {}

ProgressLines::~ProgressLines() {
  finish();
}

void ProgressLines::declare(const std::vector<std::string>& keys) {
  std::lock_guard lock(m_mutex);
  for (const std::string& key : keys) {
    if (m_text.emplace(key, "waiting").second) {
      m_order.push_back(key);
      m_width = std::max(m_width, key.size());
    }
  }
  // A block taller than the screen cannot be redrawn in place: plain lines then.
  if (m_redraw && m_rows != 0 && m_order.size() + 1 >= m_rows) {
    m_redraw = false;
  }
  if (m_redraw) {
    redraw();
  }
}

void ProgressLines::set(const std::string& key, const std::string& text) {
  std::lock_guard lock(m_mutex);
  auto [it, added] = m_text.try_emplace(key, text);
  if (!added) {
    if (it->second == text) {
      return;
    }
    it->second = text;
  } else {
    m_order.push_back(key);
    m_width = std::max(m_width, key.size());
  }
  if (m_redraw) {
    redraw();
  } else {
    std::fprintf(m_out, "%s: %s\n", terminal_safe(key).c_str(), terminal_safe(text).c_str());
    std::fflush(m_out);
  }
}

void ProgressLines::redraw() {
  std::string out;
  if (m_drawn > 0) {
    out += "\033[" + std::to_string(m_drawn) + "F"; // to the start of the block's first line
  }
  for (const std::string& key : m_order) {
    out += "\033[2K" + terminal_safe(key) + std::string(m_width + 2 - key.size(), ' ') +
           terminal_safe(m_text[key]) + "\n";
  }
  m_drawn = m_order.size();
  std::fputs(out.c_str(), m_out);
  std::fflush(m_out);
}

void ProgressLines::finish() {
  std::lock_guard lock(m_mutex);
  if (m_redraw && m_drawn > 0) {
    std::fprintf(m_out, "\033[%zuF\033[J", m_drawn);
    std::fflush(m_out);
    m_drawn = 0;
  }
}

} // namespace herald::cli
