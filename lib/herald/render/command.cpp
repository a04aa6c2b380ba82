#include "herald/render/command.hpp"

#include "herald/core/error.hpp"

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <poll.h>
#include <regex>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace herald::render {

namespace {

bool is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

bool starts_expansion(std::string_view text, std::size_t i) {
  if (text[i] == '`') {
    return true;
  }
  if (text[i] != '$' || i + 1 >= text.size()) {
    return false;
  }
  char next = text[i + 1];
  return next == '(' || next == '{' || next == '_' ||
         std::isalpha(static_cast<unsigned char>(next));
}

[[noreturn]] void throw_shell_syntax(std::string_view what, std::string_view text,
                                     std::string_view token) {
  throw Error(ErrorKind::config,
              fmt::format("{} \"{}\" uses shell syntax '{}', but herald runs commands without a "
                          "shell: write sh -c '...' if you need one",
                          what, text, token));
}

std::string_view shell_token_at(std::string_view text, std::size_t i) {
  if (starts_expansion(text, i)) {
    return text.substr(i, text[i] == '`' ? 1 : 2);
  }
  static constexpr std::string_view k_two[] = {"&&", "||", ">>", "<<", ">&", "<&", ";;"};
  for (auto op : k_two) {
    if (text.substr(i, 2) == op) {
      return op;
    }
  }
  return text.substr(i, 1);
}

bool is_operator_char(char c) {
  return c == '|' || c == '&' || c == ';' || c == '<' || c == '>' || c == '(' || c == ')';
}

// "NAME=value" as a first word is an environment assignment for a shell, a file name for exec.
bool is_assignment(std::string_view word) {
  auto eq = word.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    return false;
  }
  for (std::size_t i = 0; i < eq; ++i) {
    char c = word[i];
    if (!(c == '_' || std::isalnum(static_cast<unsigned char>(c))) ||
        (i == 0 && std::isdigit(static_cast<unsigned char>(c)))) {
      return false;
    }
  }
  return true;
}

std::string join_lines(std::string_view output) {
  std::string out;
  std::size_t start = 0;
  while (start < output.size()) {
    auto end = output.find('\n', start);
    if (end == std::string_view::npos) {
      end = output.size();
    }
    std::string_view line = output.substr(start, end - start);
    while (!line.empty() && (line.back() == '\r' || is_blank(line.back()))) {
      line.remove_suffix(1);
    }
    if (!line.empty()) {
      out += out.empty() ? "" : "; ";
      out += line;
    }
    start = end + 1;
  }
  return out;
}

/// posix_spawn attributes and file actions, destroyed on every path.
class SpawnSetup {
public:
  SpawnSetup() {
    posix_spawnattr_init(&m_attr);
    posix_spawn_file_actions_init(&m_actions);
  }
  ~SpawnSetup() {
    posix_spawnattr_destroy(&m_attr);
    posix_spawn_file_actions_destroy(&m_actions);
  }
  SpawnSetup(const SpawnSetup&) = delete;
  SpawnSetup& operator=(const SpawnSetup&) = delete;

  posix_spawnattr_t m_attr;
  posix_spawn_file_actions_t m_actions;
};

/// A file descriptor closed on destruction.
class Fd {
public:
  explicit Fd(int fd = -1) : m_fd(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return m_fd; }
  void reset(int fd = -1) {
    if (m_fd >= 0) {
      ::close(m_fd);
    }
    m_fd = fd;
  }

private:
  int m_fd;
};

int decode_status(int raw) {
  if (WIFEXITED(raw)) {
    return WEXITSTATUS(raw);
  }
  if (WIFSIGNALED(raw)) {
    return 128 + WTERMSIG(raw);
  }
  return -1;
}

void append_bounded(CommandResult& result, const char* data, std::size_t size) {
  std::size_t room = k_output_limit - std::min(k_output_limit, result.output.size());
  if (size > room) {
    result.truncated = true;
  }
  result.output.append(data, std::min(size, room));
}

} // namespace

CommandLine split_command(std::string_view text, std::string_view what) {
  CommandLine command;
  command.text = std::string(text);
  std::string word;
  bool in_word = false;
  auto finish_word = [&] {
    if (in_word) {
      command.argv.push_back(std::move(word));
      word.clear();
      in_word = false;
    }
  };
  for (std::size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (is_blank(c)) {
      finish_word();
      continue;
    }
    if (c == '\'') {
      auto close = text.find('\'', i + 1);
      if (close == std::string_view::npos) {
        throw Error(ErrorKind::config,
                    fmt::format("{} \"{}\" has an unterminated ' quote", what, text));
      }
      word.append(text.substr(i + 1, close - i - 1));
      in_word = true;
      i = close;
      continue;
    }
    if (c == '"') {
      in_word = true;
      std::size_t j = i + 1;
      for (; j < text.size() && text[j] != '"'; ++j) {
        if (text[j] == '\\' && j + 1 < text.size()) {
          char next = text[j + 1];
          if (next == '$' || next == '`' || next == '"' || next == '\\') {
            word += next;
            ++j;
            continue;
          }
          if (next == '\n') {
            ++j;
            continue;
          }
        } else if (starts_expansion(text, j)) {
          throw_shell_syntax(what, text, shell_token_at(text, j));
        }
        word += text[j];
      }
      if (j >= text.size()) {
        throw Error(ErrorKind::config,
                    fmt::format("{} \"{}\" has an unterminated \" quote", what, text));
      }
      i = j;
      continue;
    }
    if (c == '\\') {
      in_word = true;
      if (i + 1 < text.size()) {
        ++i;
        if (text[i] != '\n') {
          word += text[i];
        }
      } else {
        word += c;
      }
      continue;
    }
    if (is_operator_char(c) || starts_expansion(text, i)) {
      throw_shell_syntax(what, text, shell_token_at(text, i));
    }
    word += c;
    in_word = true;
  }
  finish_word();
  if (command.argv.empty()) {
    throw Error(ErrorKind::config, fmt::format("{} is empty: name a program to run", what));
  }
  if (is_assignment(command.argv.front())) {
    throw Error(ErrorKind::config,
                fmt::format("{} \"{}\" starts with the variable assignment '{}', which needs a "
                            "shell: write env {} ... instead",
                            what, text, command.argv.front(), command.argv.front()));
  }
  return command;
}

std::vector<std::string> substitute_src(const std::vector<std::string>& argv,
                                        std::string_view src) {
  static const std::regex k_src(R"(\{\{-?\s*\.src\s*-?\}\})");
  std::vector<std::string> out;
  out.reserve(argv.size());
  // The replacement is literal: '$' in a path must not be read as a regex back-reference.
  std::string replacement;
  for (char c : src) {
    replacement += c;
    if (c == '$') {
      replacement += '$';
    }
  }
  for (const auto& word : argv) {
    out.push_back(std::regex_replace(word, k_src, replacement));
  }
  return out;
}

std::optional<std::string> find_executable(std::string_view program) {
  auto executable = [](const std::string& path) {
    struct stat st {};
    return ::stat(path.c_str(), &st) == 0 && S_ISREG(st.st_mode) &&
           ::access(path.c_str(), X_OK) == 0;
  };
  if (program.empty()) {
    return std::nullopt;
  }
  if (program.find('/') != std::string_view::npos) {
    std::string path(program);
    return executable(path) ? std::optional(path) : std::nullopt;
  }
  const char* env_path = std::getenv("PATH");
  std::string_view dirs = env_path != nullptr ? env_path : "/usr/local/bin:/usr/bin:/bin";
  std::size_t start = 0;
  while (start <= dirs.size()) {
    auto end = dirs.find(':', start);
    if (end == std::string_view::npos) {
      end = dirs.size();
    }
    std::string dir(dirs.substr(start, end - start));
    std::string path = (dir.empty() ? std::string(".") : dir) + "/" + std::string(program);
    if (executable(path)) {
      return path;
    }
    start = end + 1;
  }
  return std::nullopt;
}

void require_executable(const CommandLine& command, std::string_view what) {
  const std::string& program = command.argv.front();
  if (find_executable(program)) {
    return;
  }
  struct stat st {};
  std::string reason;
  if (program.find('/') == std::string::npos) {
    reason = "is not on PATH";
  } else if (::stat(program.c_str(), &st) != 0) {
    reason = "does not exist";
  } else if (S_ISDIR(st.st_mode)) {
    reason = "is a directory";
  } else {
    reason = "is not executable";
  }
  throw Error(ErrorKind::config,
              fmt::format("{} \"{}\": program '{}' {}", what, command.text, program, reason));
}

CommandResult run_command(const std::vector<std::string>& argv, std::chrono::milliseconds timeout,
                          const StopToken* stop) {
  CommandResult result;
  if (argv.empty()) {
    throw Error(ErrorKind::internal, "run_command: empty argv");
  }
  auto path = find_executable(argv.front());
  if (!path) {
    throw Error(ErrorKind::config,
                fmt::format("cannot run '{}': not an executable file on PATH", argv.front()));
  }

  int pipe_fds[2];
  if (::pipe2(pipe_fds, O_CLOEXEC) != 0) {
    throw Error(ErrorKind::internal, fmt::format("pipe: {}", std::strerror(errno)));
  }
  Fd read_end(pipe_fds[0]);
  Fd write_end(pipe_fds[1]);

  SpawnSetup setup;
  posix_spawn_file_actions_addopen(&setup.m_actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&setup.m_actions, write_end.get(), 1);
  posix_spawn_file_actions_adddup2(&setup.m_actions, write_end.get(), 2);
  sigset_t defaults;
  sigemptyset(&defaults);
  for (int sig : {SIGPIPE, SIGTERM, SIGINT, SIGHUP, SIGCHLD}) {
    sigaddset(&defaults, sig);
  }
  sigset_t empty;
  sigemptyset(&empty);
  posix_spawnattr_setsigdefault(&setup.m_attr, &defaults);
  posix_spawnattr_setsigmask(&setup.m_attr, &empty);
  posix_spawnattr_setpgroup(&setup.m_attr, 0);
  posix_spawnattr_setflags(&setup.m_attr,
                           POSIX_SPAWN_SETSIGDEF | POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETPGROUP);

  std::vector<char*> args;
  args.reserve(argv.size() + 1);
  for (const auto& a : argv) {
    args.push_back(const_cast<char*>(a.c_str()));
  }
  args.push_back(nullptr);

  pid_t pid = -1;
  int rc =
      ::posix_spawn(&pid, path->c_str(), &setup.m_actions, &setup.m_attr, args.data(), environ);
  if (rc != 0) {
    throw Error(ErrorKind::config,
                fmt::format("cannot run '{}': {}", argv.front(), std::strerror(rc)));
  }
  write_end.reset();

  using Clock = std::chrono::steady_clock;
  const auto deadline = Clock::now() + timeout;
  std::optional<Clock::time_point> exited_at;
  // A daemon the command started may inherit the pipe: after the command itself exits, read
  // what is already there for a moment, then stop waiting for EOF.
  constexpr auto k_drain_grace = std::chrono::milliseconds(100);
  char buffer[4096];
  bool pipe_open = true;
  std::optional<Clock::time_point> kill_at; // set once a stop sent SIGTERM
  while (true) {
    if (!exited_at) {
      int raw = 0;
      pid_t done = ::waitpid(pid, &raw, WNOHANG);
      if (done == pid) {
        result.status = decode_status(raw);
        exited_at = Clock::now();
      }
    }
    auto now = Clock::now();
    if (exited_at && (!pipe_open || now - *exited_at >= k_drain_grace || result.stopped)) {
      break;
    }
    if (!exited_at && stop != nullptr && stop->requested() && !kill_at) {
      // The whole group: a shell script's children too.
      ::kill(-pid, SIGTERM);
      kill_at = now + k_stop_grace;
      result.stopped = true;
    }
    if (!exited_at && (now >= deadline || (kill_at && now >= *kill_at))) {
      ::kill(-pid, SIGKILL);
      int raw = 0;
      ::waitpid(pid, &raw, 0);
      result.status = decode_status(raw);
      result.timed_out = !result.stopped;
      break;
    }
    if (!pipe_open) {
      ::usleep(10 * 1000);
      continue;
    }
    pollfd pfds[2] = {{read_end.get(), POLLIN, 0}, {stop != nullptr ? stop->fd() : -1, POLLIN, 0}};
    int poll_ms = exited_at ? 10 : 20;
    int ready = ::poll(pfds, stop != nullptr && !kill_at ? 2 : 1, poll_ms);
    if (ready > 0 && pfds[0].revents != 0) {
      ssize_t n = ::read(read_end.get(), buffer, sizeof buffer);
      if (n > 0) {
        append_bounded(result, buffer, static_cast<std::size_t>(n));
      } else if (n == 0 || (errno != EINTR && errno != EAGAIN)) {
        pipe_open = false;
      }
    }
  }
  return result;
}

std::string describe_failure(const CommandResult& result) {
  std::string head;
  if (result.timed_out) {
    head = "timed out and was killed";
  } else if (result.status > 128) {
    head = fmt::format("killed by signal {}", result.status - 128);
  } else {
    head = fmt::format("exit {}", result.status);
  }
  std::string output = join_lines(result.output);
  constexpr std::size_t k_keep = 600;
  if (output.size() > k_keep) {
    // The start names the problem, the end usually says "test failed": keep both.
    output = output.substr(0, k_keep / 3) + " ... " + output.substr(output.size() - 2 * k_keep / 3);
  }
  if (output.empty()) {
    return head + " (no output)";
  }
  return head + ": " + output;
}

} // namespace herald::render
