#pragma once

#include "herald/core/retry.hpp"

#include <chrono>
#include <cstddef>
#include <functional>
#include <future>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace herald::launch {

/// Why the launcher refused a request; the values label herald_launch_refusals_total.
enum class Reason {
  bad_name,    ///< not a strict DNS label (or a name the launcher reserves)
  not_allowed, ///< no allow pattern matches (the allow-list is empty by default)
  denied,      ///< a deny pattern matches
  policy_cmd,  ///< the policy command refused, failed or timed out
  cap,         ///< max_apps apps started on demand exist already
  client_rate, ///< the client started too many apps lately
  overall_rate ///< the launcher started too many apps lately
};

/// "bad_name", "not_allowed", ... (the metric label value).
std::string_view to_string(Reason reason);

/// A token bucket's settings: `burst` launches at once, then `per_second` on average.
struct Rate {
  double per_second = 0; ///< 0: unlimited
  int burst = 0;         ///< the bucket's size (at least 1 when per_second > 0)
};

/// What decides whether a name may become an app and whether a start may begin now.
struct PolicyOptions {
  /// Exact names, globs (* ? [..], fnmatch(3)) or /regex/ (ECMAScript, full match). EMPTY means
  /// nothing is allowed: the launcher denies by default.
  std::vector<std::string> allow;
  /// The same forms; a deny match wins over any allow match.
  std::vector<std::string> deny;
  /// Whether an allowed name can be made at all (an app of the cluster file, or a template it
  /// fits); false refuses it as not_allowed before the policy command runs. Empty: any name.
  std::function<bool(std::string_view)> known;
  /// argv of a hook run (posix_spawn, no shell) with the app name appended as the last argument;
  /// exit 0 allows, anything else refuses. Empty: no hook.
  std::vector<std::string> policy_cmd;
  /// The hook is killed after this long, which counts as a refusal.
  std::chrono::milliseconds policy_timeout{2000};
  /// How long a hook's answer is remembered for the same name.
  std::chrono::milliseconds policy_cache{30000};
  /// Apps started on demand that may exist at once; 0: no cap.
  int max_apps = 20;
  /// New launches per client address.
  Rate client_rate{0.2, 3};
  /// New launches overall.
  Rate overall_rate{2, 10};
};

/// True when `name` is a strict DNS label: [a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?, lower case only.
bool valid_app_name(std::string_view name);

/// The first segment of a request target ("/web/x?y" -> "web"), raw: nothing is decoded, so a
/// percent-encoded name stays invalid. nullopt when the target does not start with '/' or its
/// first segment is empty.
std::optional<std::string> app_from_path(std::string_view target);

/// The app of a Host header in host routing: "web.example.com[:port]" with `domain`
/// "example.com" -> "web". Exactly one label before the domain; case-folded to lower case; a
/// trailing dot is ignored. nullopt for anything else (another domain, two labels, IPv6, junk).
std::optional<std::string> app_from_host(std::string_view host, std::string_view domain);

/// A token bucket: starts full (`burst` tokens) and gains `per_second` tokens a second.
class TokenBucket {
public:
  using Clock = std::chrono::steady_clock;

  TokenBucket(Rate rate, Clock::time_point now);

  /// True (and one token fewer) when a token is there at `now`.
  bool try_take(Clock::time_point now);
  /// True when try_take(now) would succeed, without taking.
  bool available(Clock::time_point now);
  /// How long until a token is there (0 when one is).
  std::chrono::milliseconds wait_time(Clock::time_point now);
  /// True when the bucket is full again at `now` (it then equals a fresh one).
  bool full(Clock::time_point now);

private:
  void refill(Clock::time_point now);

  Rate m_rate;
  double m_tokens;
  Clock::time_point m_last;
};

/// A policy's answer.
struct Decision {
  bool allowed = false;
  Reason reason{};    ///< why not, when !allowed
  std::string detail; ///< for the debug log only (the pattern, the hook's exit), never for clients
  std::chrono::seconds retry_after{0}; ///< for rate and cap refusals: when to try again
};

/// The launcher's policy: check() decides whether a name may be an app at all, admit() whether a
/// new start may begin now. Thread safe.
class Policy {
public:
  /// Throws Error(config) naming a pattern that is not a valid regex or glob.
  explicit Policy(PolicyOptions options, SteadyNow now = {});
  ~Policy();
  Policy(const Policy&) = delete;
  Policy& operator=(const Policy&) = delete;

  /// Name rules, deny, allow, then the policy command (its answers cached for policy_cache per
  /// name, in a bounded cache; concurrent checks of one name run it once; at most a few run at
  /// once, beyond which a name is refused uncached).
  Decision check(std::string_view app);

  /// Whether a new start may begin for a request from `client` while `on_demand_apps` apps
  /// started on demand exist: the cap, then the client's and the overall token bucket (a token
  /// is taken from both only when both have one). The per-client table is bounded.
  Decision admit(std::string_view client, int on_demand_apps);

  /// The options in use.
  const PolicyOptions& options() const { return m_options; }

private:
  struct Pattern;
  bool matches(const std::vector<Pattern>& patterns, std::string_view app,
               std::string* which) const;
  Decision run_policy_cmd(const std::string& app);

  PolicyOptions m_options;
  SteadyNow m_now;
  std::vector<Pattern> m_allow;
  std::vector<Pattern> m_deny;

  struct CachedAnswer {
    bool allowed;
    std::string detail;
    std::chrono::steady_clock::time_point expires;
  };
  std::mutex m_cmd_mutex;
  std::unordered_map<std::string, CachedAnswer> m_cache;
  std::map<std::string, std::shared_future<Decision>> m_running;

  std::mutex m_rate_mutex;
  std::unordered_map<std::string, TokenBucket> m_clients;
  std::optional<TokenBucket> m_overall;
};

/// How many policy-command answers are cached at most.
inline constexpr std::size_t k_policy_cache_size = 4096;
/// How many policy commands run at once at most.
inline constexpr std::size_t k_policy_cmd_concurrency = 4;
/// How many client addresses the rate limiter tracks at most.
inline constexpr std::size_t k_max_tracked_clients = 10000;

} // namespace herald::launch
