#pragma once

#include "herald/tmpl/kv_store.hpp"
#include "herald/tmpl/template.hpp"

#include <cstdint>
#include <memory>

namespace herald::tmpl {

/// The longest list `seq` returns (an error beyond): 1 Mi numbers, 32 MiB of values.
inline constexpr std::uint64_t k_max_seq_length = std::uint64_t{1} << 20;

/// confd's template functions with confd 0.17's exact semantics: its own set (base dir split join
/// json jsonArray map getenv datetime toUpper toLower contains replace trimSuffix lookupIP
/// lookupIPV4 lookupIPV6 lookupSRV fileExists base64Encode base64Decode parseBool reverse
/// sortByLength sortKVByLength add sub div mod mul seq atoi) and memkv's key functions (exists ls
/// lsdir get gets getv getvs) reading `store`.
FuncMap confd_funcs(std::shared_ptr<const KvStore> store);

/// Adds confd_funcs(store) to `funcs`, replacing functions of the same name.
void add_confd_funcs(FuncMap& funcs, std::shared_ptr<const KvStore> store);

} // namespace herald::tmpl
