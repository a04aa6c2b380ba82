#pragma once

#include "herald/render/haproxy_config.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <string>

namespace herald::render {

/// Sends one command line (without its newline) to haproxy's CLI and returns the answer as
/// haproxy wrote it.
using HaproxyCommand = std::function<std::string(const std::string& command)>;

/// The longest answer stats_socket() reads (a `show stat` of a backend with thousands of servers
/// is a few MB).
inline constexpr std::size_t k_max_haproxy_answer = std::size_t{16} << 20;

/// The longest unix socket path (sockaddr_un's sun_path holds 108 bytes with the final NUL).
inline constexpr std::size_t k_max_socket_path = 107;

/// A HaproxyCommand over the stats socket at `path`, one connection per command (haproxy's
/// non-interactive mode: it answers one line and closes), each bounded by `timeout` from
/// connect to the end of the answer. Error(unavailable) naming the socket when it cannot be
/// reached, answers nothing in time or too much; Error(internal) for a command holding a
/// control character or ';' (which the CLI reads as a second command): nothing is sent then.
HaproxyCommand stats_socket(std::string path, std::chrono::milliseconds timeout);

/// Settings of apply_runtime_plan().
struct RuntimeApplyOptions {
  /// How long removed servers may take to finish their sessions once draining; what is left
  /// after it is shut down.
  std::chrono::milliseconds drain_timeout{std::chrono::seconds(10)};
  /// How often their sessions are counted meanwhile.
  std::chrono::milliseconds poll_interval{100};
};

/// Takes a running haproxy from the old config to the new one through its runtime API, new
/// servers first so capacity never dips: per added server `add server BACKEND/NAME ADDR
/// OPTIONS` ("New server registered."; the server starts in maintenance), `enable health` when
/// it is checked, `enable server`; per readdressed server `set server BACKEND/NAME addr IP port
/// PORT`; then every removed server `set server ... state drain`, its sessions counted with
/// `show stat BACKEND 4 -1` until none is left or the drain timeout passes, `set server ...
/// state maint`, `shutdown sessions server` for what is left, `del server` ("Server deleted.").
/// Every answer is checked; the first unexpected one is Error(failed) naming the command and
/// the answer, with what was applied so far left as it is (a reload of the new config then
/// makes haproxy whole).
void apply_runtime_plan(const HaproxyRuntimePlan& plan, const HaproxyCommand& send,
                        const RuntimeApplyOptions& options = {});

} // namespace herald::render
