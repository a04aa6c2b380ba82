#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace herald {

/// What may reach a router config from the registry (DESIGN.md, "Trust model"). These rules are
/// applied wherever a value enters or leaves the registry: announce's flags, registrator mode, the
/// value decoder, route ls and the instance views behind the templates.

/// The longest DNS name (RFC 1035: 253 characters written without the final dot).
inline constexpr std::size_t k_max_host_name = 253;
/// The longest tag, meta key or meta value (Consul's limit for meta values).
inline constexpr std::size_t k_max_label_text = 512;

/// True when `host` is an IPv4 literal (dotted quad), an IPv6 literal (without brackets, no zone)
/// or a DNS name: labels of letters, digits and '-' (not first or last), 1-63 characters each,
/// 253 in all, the last label not all digits. Nothing else: no spaces, control or non-ASCII bytes,
/// no ';', '{', '}', '#', quotes, '$' or '\'.
bool is_valid_host(std::string_view host);

/// Why `tag` cannot be stored as a tag, or nullopt when it can: a tag is 1-512 printable ASCII
/// characters without spaces and without ; { } # " ' ` $ \ (what a router config would read as
/// syntax when a template emits it unquoted, as haproxy-consul.tmpl does with server_alias=).
std::optional<std::string> tag_problem(std::string_view tag);

/// Why `key` cannot be a meta key (the tag rule), or nullopt when it can.
std::optional<std::string> meta_key_problem(std::string_view key);

/// Why `value` cannot be a meta value, or nullopt when it can: up to 512 bytes of valid UTF-8
/// without control characters (C0, DEL, C1), invisible ones (zero-width, bidirectional controls,
/// line separators, BOM) and without ; { } # " ' ` $ \. Spaces are allowed.
std::optional<std::string> meta_value_problem(std::string_view value);

/// Why `text` cannot be part of a registry key (--key, --prefix), or nullopt when it can: valid
/// UTF-8 without control or invisible characters (as for meta values).
std::optional<std::string> key_text_problem(std::string_view text);

} // namespace herald
