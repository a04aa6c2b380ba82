#!/usr/bin/env python3
"""A stateful Consul HTTP API double for herald's tests (a test tool, not product code).

Consul cannot be installed on the test machines, so herald's Consul client is tested against
this server. It models one Consul 1.x agent that is also the only server of its datacenter
(a `consul agent -dev`), written from tests/fixtures/reference/consul-http-api.md and kept
honest by consul_contract_test.py, which replays tests/fixtures/consul-api/ against it.

What it models (section numbers refer to the reference):
  agent   PUT /v1/agent/service/register, /deregister/:id, GET /v1/agent/services,
          GET /v1/agent/checks, PUT /v1/agent/check/pass|warn|fail/:id?note=, /update/:id (§3, §4)
  catalog GET /v1/catalog/services, /v1/catalog/service/:name?tag= (§5)
  health  GET /v1/health/service/:name?passing&tag=, /checks/:name, /state/:state (§6)
  kv      GET/PUT/DELETE /v1/kv/:key with recurse, keys, separator, raw, cas, flags,
          acquire/release (§7); PUT /v1/session/create, /destroy/:id, GET /info/:id
  status  GET /v1/status/leader, /v1/status/peers
  TTL checks turn critical on expiry; a reaper removes services whose check stayed critical
  longer than DeregisterCriticalServiceAfter (§4.3). Blocking queries (?index=&wait=) really
  block on one raft-like index (§8). Optional ACLs (§10). Everything is lost when the process
  stops, and the index restarts low, as with a dev agent whose data dir was wiped (§11.9).

Deliberate simplifications: HTTP/TCP/script checks are never executed (they keep their initial
status); ?filter= is refused with a 400 instead of being evaluated (so a client relying on it
fails loudly rather than silently getting unfiltered data); with ACLs on, every /v1 request
except /v1/status/* needs a token (real Consul would filter list results for an anonymous
caller instead of refusing them); sessions have no TTL and no lock-delay.

Test control (outside /v1, never ACL-checked): PUT /_double/leader?present=false|true makes
the cluster lose or regain its leader (reads answer 500 "No cluster leader", status/leader "").

Usage: consul_double.py --port 0   (prints "listening 127.0.0.1:PORT" as its first line)
"""

import argparse
import base64
import json
import os
import random
import re
import signal
import sys
import threading
import time
import traceback
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qsl, unquote, urlencode

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from double_common import read_body  # noqa: E402

MAX_KV_VALUE = 512 * 1024  # kv_max_value_size
DEFAULT_WAIT = 300.0  # default_query_time: a blocking query without ?wait waits 5 minutes
MAX_WAIT = 600.0  # max_query_time
OUTPUT_MAX_SIZE = 4096
STATUSES = ("passing", "warning", "critical")


# --------------------------------------------------------------------------------------------
# Go-compatible parsing and formatting
# --------------------------------------------------------------------------------------------

_DURATION_UNITS = {"ns": 1, "us": 1_000, "µs": 1_000, "μs": 1_000, "ms": 1_000_000,
                   "s": 1_000_000_000, "m": 60_000_000_000, "h": 3_600_000_000_000}
_DURATION_PART = re.compile(r"([0-9]*(?:\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)")


def parse_go_duration(text):
    """Go's time.ParseDuration ("15s", "1m30s", "100ms", "1.5s", "0") -> int nanoseconds."""
    s = text
    sign = 1
    if s[:1] in ("+", "-"):
        sign = -1 if s[0] == "-" else 1
        s = s[1:]
    if s == "0":
        return 0
    if not s:
        raise ValueError("invalid duration %r" % text)
    total = 0
    pos = 0
    while pos < len(s):
        m = _DURATION_PART.match(s, pos)
        if not m or m.group(1) in ("", "."):
            raise ValueError("invalid duration %r" % text)
        whole, _, frac = m.group(1).partition(".")
        unit = _DURATION_UNITS[m.group(2)]
        total += int(whole or "0") * unit
        if frac:
            total += int(frac) * unit // (10 ** len(frac))
        pos = m.end()
    return sign * total


def format_go_duration(ns):
    """Go's time.Duration.String(): 15s, 1m30s, 10m0s, 100ms, 1.5s."""
    if ns == 0:
        return "0s"
    sign = "-" if ns < 0 else ""
    u = abs(ns)

    def frac(value, unit):
        whole, rest = divmod(value, unit)
        if not rest:
            return str(whole)
        digits = str(rest).rjust(len(str(unit)) - 1, "0").rstrip("0")
        return "%d.%s" % (whole, digits)

    if u < 1_000:
        return "%s%dns" % (sign, u)
    if u < 1_000_000:
        return sign + frac(u, 1_000) + "µs"
    if u < 1_000_000_000:
        return sign + frac(u, 1_000_000) + "ms"
    hours, rest = divmod(u, 3_600_000_000_000)
    minutes, rest = divmod(rest, 60_000_000_000)
    seconds = frac(rest, 1_000_000_000) + "s"
    if hours:
        return "%s%dh%dm%s" % (sign, hours, minutes, seconds)
    if minutes:
        return "%s%dm%s" % (sign, minutes, seconds)
    return sign + seconds


def parse_go_bool(text):
    """Go's strconv.ParseBool."""
    if text in ("1", "t", "T", "TRUE", "true", "True"):
        return True
    if text in ("0", "f", "F", "FALSE", "false", "False"):
        return False
    raise ValueError(text)


def parse_uint(text):
    """strconv.ParseUint(text, 10, 64); raises HttpError 500 with Go's text like Consul does."""
    if not re.fullmatch(r"[0-9]+", text) or int(text) >= 2 ** 64:
        kind = "value out of range" if re.fullmatch(r"[0-9]+", text) else "invalid syntax"
        raise HttpError(500, 'strconv.ParseUint: parsing "%s": %s' % (text, kind))
    return int(text)


def go_quote(text):
    """Go's %q for the plain strings used in error messages."""
    return json.dumps(text, ensure_ascii=False)


class HttpError(Exception):
    """An error answer: plain text body, as Consul writes errors (§1, §10)."""

    def __init__(self, status, body="", headers=None):
        super().__init__(body)
        self.status = status
        self.body = body
        self.headers = headers or {}


# --------------------------------------------------------------------------------------------
# Request body decoding for service registration (Go's case-insensitive JSON + snake_case)
# --------------------------------------------------------------------------------------------

SERVICE_FIELDS = ["ID", "Name", "Tags", "Address", "Port", "Meta", "TaggedAddresses",
                  "EnableTagOverride", "Weights", "Check", "Checks", "Kind", "Proxy", "Connect",
                  "SocketPath", "Namespace", "Partition", "Locality"]
CHECK_FIELDS = ["CheckID", "Name", "Notes", "Status", "TTL", "HTTP", "Method", "Header", "Body",
                "TCP", "UDP", "GRPC", "GRPCUseTLS", "H2PING", "H2PingUseTLS", "ScriptArgs",
                "DockerContainerID", "Shell", "Interval", "Timeout", "TLSSkipVerify",
                "TLSServerName", "OutputMaxSize", "SuccessBeforePassing",
                "FailuresBeforeWarning", "FailuresBeforeCritical",
                "DeregisterCriticalServiceAfter", "AliasNode", "AliasService", "ServiceID"]
CHECK_ALIASES = {"id": "CheckID", "args": "ScriptArgs"}


def canonical_keys(obj, fields, aliases=None, where="ServiceDefinition"):
    """Maps Name/name/NAME/snake_name onto the canonical CamelCase names; drops unknown keys."""
    if not isinstance(obj, dict):
        raise decode_error(obj, where, "struct")
    table = {f.lower(): f for f in fields}
    for alias, target in (aliases or {}).items():
        table[alias] = target
    out = {}
    for key, value in obj.items():
        canon = table.get(key.replace("_", "").lower())
        if canon is not None and canon not in out:
            out[canon] = value
    return out


def json_type_name(value):
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def decode_error(value, field, go_type):
    return HttpError(400, "Request decode failed: json: cannot unmarshal %s into Go struct field "
                     "%s of type %s" % (json_type_name(value), field, go_type))


def want(obj, key, kind, where, default):
    """Reads obj[key] checking its JSON type, as Go's decoder would when filling a struct."""
    value = obj.get(key)
    if value is None:
        return default
    checks = {"string": lambda v: isinstance(v, str),
              "int": lambda v: isinstance(v, int) and not isinstance(v, bool),
              "bool": lambda v: isinstance(v, bool),
              "[]string": lambda v: isinstance(v, list) and all(isinstance(x, str) for x in v),
              "map[string]string": lambda v: isinstance(v, dict) and all(
                  isinstance(x, str) for x in v.values()),
              "struct": lambda v: isinstance(v, dict)}
    if not checks[kind](value):
        raise decode_error(value, "%s.%s" % (where, key), kind)
    return value


def want_duration(obj, key, where):
    """A Go duration field: a duration string, or a number of nanoseconds."""
    value = obj.get(key)
    if value is None or value == "":
        return 0
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return int(value)
    if not isinstance(value, str):
        raise decode_error(value, "%s.%s" % (where, key), "time.Duration")
    try:
        return parse_go_duration(value)
    except ValueError:
        raise HttpError(400, "Request decode failed: time: invalid duration %s" % go_quote(value))


# --------------------------------------------------------------------------------------------
# State
# --------------------------------------------------------------------------------------------


class Service:
    """One service instance registered on the agent (and so in the catalog)."""

    def __init__(self, sid, name):
        self.id = sid
        self.name = name
        self.tags = []
        self.address = ""
        self.port = 0
        self.meta = {}
        self.tagged_addresses = {}
        self.weights = {"Passing": 1, "Warning": 1}
        self.enable_tag_override = False
        self.kind = ""
        self.create_index = 0
        self.modify_index = 0
        self.agent_local = True  # False for the catalog-only "consul" service of the servers

    def definition(self):
        return (self.name, tuple(self.tags), self.address, self.port,
                tuple(sorted(self.meta.items())), json.dumps(self.tagged_addresses, sort_keys=True),
                tuple(sorted(self.weights.items())), self.enable_tag_override, self.kind)


class Check:
    """A health check: the agent's local state plus the copy the catalog holds (§4.3: output-only
    changes reach the catalog lazily, status changes at once)."""

    def __init__(self, cid):
        self.id = cid
        self.name = ""
        self.notes = ""
        self.service_id = ""
        self.service_name = ""
        self.type = ""
        self.interval_ns = 0
        self.timeout_ns = 0
        self.ttl = 0.0  # seconds; > 0 only for TTL checks
        self.deregister_after = 0.0  # seconds, after the minimum clamp; 0 = never
        self.output_max = OUTPUT_MAX_SIZE
        self.status = "critical"
        self.output = ""
        self.catalog_status = "critical"
        self.catalog_output = ""
        self.catalog_due = None  # monotonic time at which a pending output-only change syncs
        self.ttl_deadline = None
        self.ttl_last_output = ""
        self.critical_since = None
        self.create_index = 0
        self.modify_index = 0

    def definition(self):
        return (self.name, self.notes, self.service_id, self.service_name, self.type,
                self.interval_ns, self.timeout_ns)


class KvEntry:
    def __init__(self, key):
        self.key = key
        self.value = b""
        self.flags = 0
        self.lock_index = 0
        self.session = ""
        self.create_index = 0
        self.modify_index = 0


class State:
    """Everything the agent and its one-server cluster know. Callers hold `cond` (its lock)."""

    def __init__(self, config):
        self.cfg = config
        self.cond = threading.Condition(threading.RLock())
        self.index = 0  # the raft index; every write moves it up by one
        self.leader = True
        self.services = {}
        self.checks = {}
        self.kv = {}
        self.kv_graveyard = {}  # key -> index of its deletion, so missing keys can be watched
        self.sessions = {}
        # Table indexes (§8.1): what blocking queries report and wait on.
        self.nodes_index = 0
        self.services_index = 0
        self.kv_index = 0
        self.catalog_name_index = {}  # service name -> last change of an instance
        self.health_name_index = {}  # service name -> last change of an instance or its checks
        # The node and its serfHealth check exist from the start, as does the "consul" service
        # of the (single) server.
        self.node_id = config.node_id or str(uuid.uuid4())
        self.node_create = self.node_modify = self.bump()
        self.nodes_index = self.node_modify
        serf = Check("serfHealth")
        serf.name = "Serf Health Status"
        serf.status = serf.catalog_status = "passing"
        serf.output = serf.catalog_output = "Agent alive and reachable"
        serf.create_index = serf.modify_index = self.bump()
        self.serf = serf
        consul = Service("consul", "consul")
        consul.port = 8300
        consul.agent_local = False
        consul.create_index = consul.modify_index = self.bump()
        self.services["consul"] = consul
        self.mark_service_change(consul.name, consul.modify_index)

    # --- indexes ---------------------------------------------------------------------------

    def bump(self):
        """One raft apply: a new index, and every blocked query re-evaluates."""
        with self.cond:  # re-entrant: callers usually hold it already
            self.index += 1
            self.cond.notify_all()
            return self.index

    def mark_service_change(self, name, idx):
        self.services_index = idx
        self.catalog_name_index[name] = idx
        self.health_name_index[name] = idx

    def mark_check_change(self, check, idx):
        check.modify_index = idx
        if check.service_name:
            self.health_name_index[check.service_name] = idx

    def catalog_service_index(self, name):
        if name in self.catalog_name_index:
            return self.catalog_name_index[name]
        return max(self.nodes_index, self.services_index)

    def health_service_index(self, name):
        if name in self.health_name_index:
            return max(self.health_name_index[name], self.node_modify, self.serf.modify_index)
        return max(self.nodes_index, self.services_index)

    # --- registration (§3.1) ---------------------------------------------------------------

    def register_service(self, body, replace_checks, now):
        svc = canonical_keys(body, SERVICE_FIELDS)
        where = "ServiceDefinition"
        name = want(svc, "Name", "string", where, "")
        sid = want(svc, "ID", "string", where, "") or name
        tags = want(svc, "Tags", "[]string", where, [])
        address = want(svc, "Address", "string", where, "")
        port = want(svc, "Port", "int", where, 0)
        meta = want(svc, "Meta", "map[string]string", where, {})
        tagged = want(svc, "TaggedAddresses", "struct", where, {})
        enable_tag_override = want(svc, "EnableTagOverride", "bool", where, False)
        weights_in = want(svc, "Weights", "struct", where, None)
        kind = want(svc, "Kind", "string", where, "")
        check_objs = []
        single = want(svc, "Check", "struct", where, None)
        if single:  # a check object with no fields at all is ignored
            check_objs.append(single)
        many = svc.get("Checks")
        if many is not None:
            if not isinstance(many, list):
                raise decode_error(many, where + ".Checks", "structs.CheckTypes")
            check_objs.extend(many)
        checks_in = [canonical_keys(c, CHECK_FIELDS, CHECK_ALIASES, "CheckType")
                     for c in check_objs]

        if not name:
            raise HttpError(400, "Missing service name")
        if address in ("0.0.0.0", "::", "[::]"):
            raise HttpError(400, "Invalid service address")
        validate_meta(meta)
        weights = {"Passing": 1, "Warning": 1}
        if weights_in is not None:
            w = canonical_keys(weights_in, ["Passing", "Warning"], where="Weights")
            weights = {"Passing": want(w, "Passing", "int", "Weights", 0),
                       "Warning": want(w, "Warning", "int", "Weights", 0)}
            if weights["Passing"] < 1:
                raise HttpError(400, "Invalid Weights: Passing must be greater than 0")
            if weights["Warning"] < 0:
                raise HttpError(400, "Invalid Weights: Warning must be greater or equal than 0")
        parsed_checks = [parse_check_type(c) for c in checks_in]

        tagged_addresses = {}
        for key, value in tagged.items():
            entry = canonical_keys(value, ["Address", "Port"], where="ServiceAddress")
            tagged_addresses[key] = {"Address": want(entry, "Address", "string", "ServiceAddress",
                                                     ""),
                                     "Port": want(entry, "Port", "int", "ServiceAddress", 0)}
        if re.fullmatch(r"[0-9]+(\.[0-9]+){3}", address):
            tagged_addresses.setdefault("lan_ipv4", {"Address": address, "Port": port})
            tagged_addresses.setdefault("wan_ipv4", {"Address": address, "Port": port})
        elif ":" in address:
            tagged_addresses.setdefault("lan_ipv6", {"Address": address, "Port": port})
            tagged_addresses.setdefault("wan_ipv6", {"Address": address, "Port": port})

        # Build the new records, then apply them as one write (one index for the lot).
        old = self.services.get(sid)
        new = Service(sid, name)
        new.tags, new.address, new.port, new.meta = list(tags), address, port, dict(meta)
        new.tagged_addresses, new.weights = tagged_addresses, weights
        new.enable_tag_override, new.kind = enable_tag_override, kind
        changed_service = old is None or old.definition() != new.definition()

        new_checks = []
        for i, ct in enumerate(parsed_checks):
            cid = ct["CheckID"]
            if not cid:
                cid = "service:" + sid + (":%d" % (i + 1) if len(parsed_checks) > 1 else "")
            chk = Check(cid)
            chk.name = ct["Name"] or "Service '%s' check" % name
            chk.notes = ct["Notes"]
            chk.service_id, chk.service_name, chk.type = sid, name, ct["Type"]
            chk.interval_ns, chk.timeout_ns = ct["Interval"], ct["Timeout"]
            chk.ttl = ct["TTL"] / 1e9
            chk.output_max = ct["OutputMaxSize"] or OUTPUT_MAX_SIZE
            dcsa = ct["DeregisterCriticalServiceAfter"] / 1e9
            chk.deregister_after = max(dcsa, self.cfg.deregister_min) if dcsa > 0 else 0.0
            chk.status = ct["Status"] or "critical"
            existing = self.checks.get(cid)
            if existing is not None:  # re-registration keeps the check's state (§3.1)
                chk.status, chk.output = existing.status, existing.output
                chk.catalog_status = existing.catalog_status
                chk.catalog_output = existing.catalog_output
                chk.catalog_due = existing.catalog_due
                chk.create_index = existing.create_index
                chk.modify_index = existing.modify_index
            else:
                chk.catalog_status, chk.catalog_output = chk.status, chk.output
            if chk.status == "critical":
                chk.critical_since = now
            if chk.ttl > 0:
                chk.ttl_deadline = now + chk.ttl
            new_checks.append((chk, existing))

        keep = {chk.id for chk, _ in new_checks}
        removed = []
        if replace_checks:
            removed = [c for c in self.checks.values() if c.service_id == sid and c.id not in keep]
        changed_checks = [chk for chk, existing in new_checks
                          if existing is None or existing.definition() != chk.definition()
                          or changed_service]

        idx = None
        if changed_service or changed_checks or removed:
            idx = self.bump()
        self.services[sid] = new
        if changed_service:
            new.create_index = old.create_index if old else idx
            new.modify_index = idx
            self.mark_service_change(name, idx)
            if old is not None and old.name != name:
                self.mark_service_change(old.name, idx)
        else:
            new.create_index, new.modify_index = old.create_index, old.modify_index
        for chk, existing in new_checks:
            if chk in changed_checks:
                if existing is None:
                    chk.create_index = idx
                self.mark_check_change(chk, idx)
            self.checks[chk.id] = chk
        for chk in removed:
            del self.checks[chk.id]
            self.mark_check_change(chk, idx)

    def deregister_service(self, sid):
        svc = self.services.get(sid)
        if svc is None or not svc.agent_local:
            return False
        idx = self.bump()
        del self.services[sid]
        self.mark_service_change(svc.name, idx)
        for chk in [c for c in self.checks.values() if c.service_id == sid]:
            del self.checks[chk.id]
        return True

    # --- checks (§4.2, §4.3) ---------------------------------------------------------------

    def set_check_status(self, chk, status, output, now):
        """Local status change; the catalog follows at once if the status changed."""
        if len(output) > chk.output_max:
            output = "%s ... (captured %d of %d bytes)" % (output[:chk.output_max],
                                                           chk.output_max, len(output))
        if status == "critical" and chk.status != "critical":
            chk.critical_since = now
        elif status != "critical":
            chk.critical_since = None
        chk.status, chk.output = status, output
        if chk.catalog_status != status:
            chk.catalog_status, chk.catalog_output, chk.catalog_due = status, output, None
            self.mark_check_change(chk, self.bump())
        elif chk.catalog_output != output and chk.catalog_due is None:
            chk.catalog_due = now + self.cfg.check_update_interval

    def update_ttl(self, cid, status, output, now):
        chk = self.checks.get(cid)
        if chk is None:
            if self.cfg.legacy_agent:
                raise HttpError(500, 'CheckID "%s" does not have associated TTL' % cid)
            raise HttpError(404, 'Unknown check ID "%s". Ensure that the check ID is passed, '
                                 'not the check name.' % cid)
        if chk.ttl <= 0:
            raise HttpError(500, 'CheckID "%s" does not have associated TTL' % cid)
        chk.ttl_deadline = now + chk.ttl
        chk.ttl_last_output = output
        self.set_check_status(chk, status, output, now)

    def tick(self, now):
        """Timers: TTL expiry, lazy catalog sync of outputs, and (when due) the reaper."""
        for chk in list(self.checks.values()):
            if chk.ttl_deadline is not None and now >= chk.ttl_deadline:
                chk.ttl_deadline = None
                out = "TTL expired"
                if chk.ttl_last_output:
                    out += " (last output before timeout follows): " + chk.ttl_last_output
                self.set_check_status(chk, "critical", out, now)
            if chk.catalog_due is not None and now >= chk.catalog_due:
                chk.catalog_due = None
                if chk.catalog_output != chk.output:
                    chk.catalog_output = chk.output
                    self.mark_check_change(chk, self.bump())

    def reap(self, now):
        for chk in list(self.checks.values()):
            if (chk.deregister_after > 0 and chk.status == "critical"
                    and chk.critical_since is not None
                    and now - chk.critical_since > chk.deregister_after):
                self.deregister_service(chk.service_id)

    # --- KV (§7) ---------------------------------------------------------------------------

    def kv_list_index(self, prefix, entries):
        if not prefix:
            return self.kv_index
        idx = max([e.modify_index for e in entries] +
                  [i for k, i in self.kv_graveyard.items() if k.startswith(prefix)] + [0])
        return idx or self.kv_index

    def kv_put(self, key, value, flags, cas, acquire, release):
        entry = self.kv.get(key)
        if cas is not None:
            if cas == 0 and entry is not None:
                return False
            if cas > 0 and (entry is None or entry.modify_index != cas):
                return False
        session = entry.session if entry else ""
        lock_index = entry.lock_index if entry else 0
        if acquire is not None:
            if acquire not in self.sessions:
                raise HttpError(500, "invalid session %s" % go_quote(acquire))
            if session and session != acquire:
                return False
            if session != acquire:
                lock_index += 1
            session = acquire
        if release is not None:
            if release not in self.sessions:
                raise HttpError(500, "invalid session %s" % go_quote(release))
            if session != release:
                return False
            session = ""
        idx = self.bump()
        new = KvEntry(key)
        new.value, new.flags, new.session, new.lock_index = value, flags, session, lock_index
        new.create_index = entry.create_index if entry else idx
        new.modify_index = idx
        self.kv[key] = new
        self.kv_index = idx
        return True

    def kv_delete(self, keys):
        if not keys:
            return
        idx = self.bump()
        for key in keys:
            del self.kv[key]
            self.kv_graveyard[key] = idx
        self.kv_index = idx

    def destroy_session(self, sid):
        if self.sessions.pop(sid, None) is None:
            return
        idx = self.bump()
        for entry in self.kv.values():
            if entry.session == sid:  # behavior "release": the lock goes, the key stays
                entry.session = ""
                entry.modify_index = idx
                self.kv_index = idx

    # --- views ------------------------------------------------------------------------------

    def node_view(self):
        addr = self.cfg.node_address
        return {"ID": self.node_id, "Node": self.cfg.node_name, "Address": addr,
                "Datacenter": self.cfg.datacenter,
                "TaggedAddresses": {"lan": addr, "lan_ipv4": addr, "wan": addr, "wan_ipv4": addr},
                "Meta": {"consul-network-segment": ""},
                "CreateIndex": self.node_create, "ModifyIndex": self.node_modify}

    def agent_service_view(self, svc):
        out = {"ID": svc.id, "Service": svc.name, "Tags": list(svc.tags), "Meta": dict(svc.meta),
               "Port": svc.port, "Address": svc.address}
        if svc.kind:
            out["Kind"] = svc.kind
        if svc.tagged_addresses:
            out["TaggedAddresses"] = svc.tagged_addresses
        out.update({"Weights": dict(svc.weights), "EnableTagOverride": svc.enable_tag_override,
                    "Datacenter": self.cfg.datacenter})
        return out

    def health_service_view(self, svc):
        out = {"ID": svc.id, "Service": svc.name, "Tags": list(svc.tags),
               "Address": svc.address}
        if svc.kind:
            out["Kind"] = svc.kind
        if svc.tagged_addresses:
            out["TaggedAddresses"] = svc.tagged_addresses
        out["Meta"] = dict(svc.meta)
        if svc.port:
            out["Port"] = svc.port
        out.update({"Weights": dict(svc.weights), "EnableTagOverride": svc.enable_tag_override,
                    "Proxy": {"Mode": "", "MeshGateway": {}, "Expose": {}}, "Connect": {},
                    "PeerName": "", "CreateIndex": svc.create_index,
                    "ModifyIndex": svc.modify_index})
        return out

    def catalog_service_view(self, svc):
        node = self.node_view()
        out = {"ID": node["ID"], "Node": node["Node"], "Address": node["Address"],
               "Datacenter": node["Datacenter"], "TaggedAddresses": node["TaggedAddresses"],
               "NodeMeta": node["Meta"], "ServiceKind": svc.kind, "ServiceID": svc.id,
               "ServiceName": svc.name, "ServiceTags": list(svc.tags),
               "ServiceAddress": svc.address}
        if svc.tagged_addresses:
            out["ServiceTaggedAddresses"] = svc.tagged_addresses
        out.update({"ServiceWeights": dict(svc.weights), "ServiceMeta": dict(svc.meta),
                    "ServicePort": svc.port, "ServiceSocketPath": "",
                    "ServiceEnableTagOverride": svc.enable_tag_override,
                    "ServiceProxy": {"Mode": "", "MeshGateway": {}, "Expose": {}},
                    "ServiceConnect": {}, "ServiceLocality": None,
                    "CreateIndex": svc.create_index, "ModifyIndex": svc.modify_index})
        return out

    def check_view(self, chk, agent):
        """`agent`: the local view (/v1/agent/checks: live output, indexes 0)."""
        svc = self.services.get(chk.service_id)
        return {"Node": self.cfg.node_name, "CheckID": chk.id, "Name": chk.name,
                "Status": chk.status if agent else chk.catalog_status, "Notes": chk.notes,
                "Output": chk.output if agent else chk.catalog_output,
                "ServiceID": chk.service_id, "ServiceName": chk.service_name,
                "ServiceTags": list(svc.tags) if svc else [], "Type": chk.type,
                "Interval": format_go_duration(chk.interval_ns) if chk.interval_ns else "",
                "Timeout": format_go_duration(chk.timeout_ns) if chk.timeout_ns else "",
                "ExposedPort": 0, "Definition": {},
                "CreateIndex": 0 if agent else chk.create_index,
                "ModifyIndex": 0 if agent else chk.modify_index}

    def instances(self, name, tags):
        wanted = [t.lower() for t in tags]
        found = [s for s in self.services.values() if s.name == name
                 and all(t in [x.lower() for x in s.tags] for t in wanted)]
        return sorted(found, key=lambda s: s.id)

    def service_checks(self, sid):
        return sorted((c for c in self.checks.values() if c.service_id == sid),
                      key=lambda c: c.id)

    def kv_view(self, entry):
        out = {"LockIndex": entry.lock_index, "Key": entry.key, "Flags": entry.flags,
               "Value": base64.b64encode(entry.value).decode() if entry.value else None}
        if entry.session:
            out["Session"] = entry.session
        out.update({"CreateIndex": entry.create_index, "ModifyIndex": entry.modify_index})
        return out


def validate_meta(meta):
    """structs.ValidateServiceMetadata (§3.1)."""
    if len(meta) > 64:
        raise HttpError(400, "Invalid Service Meta: Node metadata cannot contain more than 64 "
                             "key/value pairs")
    for key, value in meta.items():
        problem = None
        if key == "":
            problem = "Key cannot be blank"
        elif not re.fullmatch(r"[a-zA-Z0-9_-]+", key):
            problem = "Key contains invalid characters"
        elif len(key) > 128:
            problem = "Key is too long (limit: 128 characters)"
        elif key.startswith("consul-"):
            problem = "Key prefix 'consul-' is reserved for internal use"
        elif len(value) > 512:
            problem = "Value is too long (limit: 512 characters)"
        if problem:
            raise HttpError(400, "Invalid Service Meta: Couldn't load metadata pair ('%s', '%s'): "
                                 "%s" % (key, value, problem))


def parse_check_type(c):
    """Validates one check definition (structs.CheckType.Validate) and returns its fields."""
    where = "CheckType"
    out = {"CheckID": want(c, "CheckID", "string", where, ""),
           "Name": want(c, "Name", "string", where, ""),
           "Notes": want(c, "Notes", "string", where, ""),
           "Status": want(c, "Status", "string", where, ""),
           "TTL": want_duration(c, "TTL", where),
           "Interval": want_duration(c, "Interval", where),
           "Timeout": want_duration(c, "Timeout", where),
           "DeregisterCriticalServiceAfter": want_duration(c, "DeregisterCriticalServiceAfter",
                                                           where),
           "OutputMaxSize": want(c, "OutputMaxSize", "int", where, 0)}
    kinds = [("http", "HTTP"), ("tcp", "TCP"), ("udp", "UDP"), ("grpc", "GRPC"),
             ("h2ping", "H2PING"), ("script", "ScriptArgs"), ("docker", "DockerContainerID")]
    kind = next((k for k, field in kinds if c.get(field)), "")
    alias = bool(c.get("AliasService") or c.get("AliasNode"))
    if out["TTL"] > 0 and out["Interval"] > 0:
        raise HttpError(400, "Invalid check: Interval and TTL cannot both be specified")
    if kind and out["Interval"] <= 0:
        raise HttpError(400, "Invalid check: Interval must be > 0 for Script, HTTP, H2PING, TCP, "
                             "UDP or GRPC checks")
    if alias and out["TTL"] > 0:
        raise HttpError(400, "Invalid check: TTL must be not be set for Alias checks")
    if not kind and not alias and out["TTL"] <= 0:
        raise HttpError(400, "Invalid check: TTL must be > 0 for TTL checks")
    if out["OutputMaxSize"] < 0:
        raise HttpError(400, "Invalid check: MaxOutputMaxSize must be positive")
    if out["Status"] and out["Status"] not in STATUSES:
        raise HttpError(400, "Status for checks must 'passing', 'warning', 'critical'")
    out["Type"] = kind or ("alias" if alias else "ttl")
    return out


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


class Reply:
    """A successful answer; `body` None means empty (no Content-Type, as Go writes it)."""

    def __init__(self, status=200, body=None, headers=None, raw=None, content_type=None):
        self.status = status
        self.body = body
        self.raw = raw
        self.headers = headers or {}
        self.content_type = content_type


class Request:
    def __init__(self, method, path, query_pairs, headers, body):
        self.method = method
        self.path = path
        self.pairs = query_pairs
        self.query = {}
        for k, v in query_pairs:
            self.query.setdefault(k, v)
        self.headers = headers
        self.body = body

    def has(self, name):
        return name in self.query

    def get(self, name, default=None):
        return self.query.get(name, default)

    def all(self, name):
        return [v for k, v in self.pairs if k == name]


# Routes: (pattern, methods, handler name). A pattern ending in "/" matches by prefix, as Go's
# ServeMux does; the rest of the path is the handler's argument.
ROUTES = [
    ("/v1/agent/service/register", ["PUT"], "agent_register"),
    ("/v1/agent/service/deregister/", ["PUT"], "agent_deregister"),
    ("/v1/agent/services", ["GET"], "agent_services"),
    ("/v1/agent/checks", ["GET"], "agent_checks"),
    ("/v1/agent/check/pass/", ["PUT"], "agent_check_pass"),
    ("/v1/agent/check/warn/", ["PUT"], "agent_check_warn"),
    ("/v1/agent/check/fail/", ["PUT"], "agent_check_fail"),
    ("/v1/agent/check/update/", ["PUT"], "agent_check_update"),
    ("/v1/catalog/services", ["GET"], "catalog_services"),
    ("/v1/catalog/service/", ["GET"], "catalog_service"),
    ("/v1/health/service/", ["GET"], "health_service"),
    ("/v1/health/checks/", ["GET"], "health_checks"),
    ("/v1/health/state/", ["GET"], "health_state"),
    ("/v1/kv/", ["GET", "PUT", "DELETE"], "kv"),
    ("/v1/session/create", ["PUT"], "session_create"),
    ("/v1/session/destroy/", ["PUT"], "session_destroy"),
    ("/v1/session/info/", ["GET"], "session_info"),
    ("/v1/status/leader", ["GET"], "status_leader"),
    ("/v1/status/peers", ["GET"], "status_peers"),
    ("/_double/leader", ["PUT"], "control_leader"),
]


class Api:
    """The endpoint handlers. Each takes (request, rest-of-path) and returns a Reply."""

    def __init__(self, state, config):
        self.state = state
        self.cfg = config

    # --- cross-cutting ----------------------------------------------------------------------

    def authorize(self, req, permission, resource):
        """ACL enforcement (§10); a no-op unless the double was started with a token."""
        if not self.cfg.acl_token:
            return
        token = req.headers.get("X-Consul-Token") or req.get("token") or ""
        auth = req.headers.get("Authorization") or ""
        if not token and auth.startswith("Bearer "):
            token = auth[len("Bearer "):].strip()
        if token == self.cfg.acl_token:
            return
        if not token:
            raise HttpError(403, "Permission denied: anonymous token lacks permission '%s' on %s. "
                                 "The anonymous token is used implicitly when a request does not "
                                 "specify a token." % (permission, go_quote(resource)))
        if token == self.cfg.acl_read_token:
            if permission.endswith(":read"):
                return
            raise HttpError(403, "Permission denied: token with AccessorID '%s' lacks permission "
                                 "'%s' on %s" % (READ_TOKEN_ACCESSOR, permission,
                                                 go_quote(resource)))
        raise HttpError(403, "ACL not found")

    def read_options(self, req):
        """Query options of blocking reads (§8.2): (min_index, wait_seconds, consistency)."""
        try:
            index = parse_uint(req.get("index", "0") or "0")
        except HttpError:
            raise HttpError(400, "Invalid index")
        wait = 0.0
        if req.get("wait"):
            try:
                wait = parse_go_duration(req.get("wait")) / 1e9
            except ValueError:
                raise HttpError(400, "Invalid wait time")
            if wait < 0:
                raise HttpError(400, "Invalid wait time")
        if req.has("stale") and req.has("consistent"):
            raise HttpError(400, "Cannot specify ?stale with ?consistent, conflicting semantics.")
        if req.has("cached") and req.has("consistent"):
            raise HttpError(400, "Cannot specify ?cached with ?consistent, conflicting semantics.")
        if req.get("dc") and req.get("dc") != self.cfg.datacenter:
            raise HttpError(500, "No path to datacenter")
        if req.has("filter"):
            raise HttpError(400, "consul test double: ?filter= is not implemented")
        consistency = "stale" if req.has("stale") else (
            "consistent" if req.has("consistent") else "leader")
        if not self.state.leader and consistency != "stale":
            raise HttpError(500, "No cluster leader")
        return index, wait, consistency

    def blocking(self, req, compute, health=False):
        """Runs `compute` (-> (status, body, index)) as a blocking query (§8.3)."""
        min_index, wait, consistency = self.read_options(req)
        if wait <= 0:
            wait = DEFAULT_WAIT
        wait = min(wait, MAX_WAIT)
        if not self.cfg.no_jitter:
            wait += random.uniform(0, wait / 16)
        deadline = time.monotonic() + wait
        with self.state.cond:
            status, body, index = compute()
            while min_index > 0 and max(index, 1) <= min_index:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    break
                self.state.cond.wait(remaining)
                status, body, index = compute()
            headers = {"X-Consul-Index": str(max(index, 1)),
                       "X-Consul-Knownleader": "true" if self.state.leader else "false",
                       "X-Consul-Lastcontact": "0"}
        if health:  # only /v1/health/service was recorded with these
            headers["X-Consul-Effective-Consistency"] = consistency
            headers["X-Consul-Query-Backend"] = "blocking-query"
        return Reply(status, body, headers)

    def require_leader(self):
        if not self.state.leader:
            raise HttpError(500, "No cluster leader")

    # --- agent --------------------------------------------------------------------------------

    def agent_register(self, req, _rest):
        try:
            body = json.loads(req.body.decode("utf-8") or "null")
        except (ValueError, UnicodeDecodeError) as e:
            raise HttpError(400, "Request decode failed: %s" % e)
        if body is None:
            body = {}
        if not isinstance(body, dict):
            raise decode_error(body, "ServiceDefinition", "structs.ServiceDefinition")
        name = body.get("Name") if isinstance(body.get("Name"), str) else ""
        self.authorize(req, "service:write", name)
        replace = req.has("replace-existing-checks") and req.get("replace-existing-checks") in (
            "", "1", "t", "true", "True", "TRUE")
        with self.state.cond:
            self.state.register_service(body, replace, time.monotonic())
        return Reply()

    def agent_deregister(self, req, sid):
        with self.state.cond:
            svc = self.state.services.get(sid)
            self.authorize(req, "service:write", svc.name if svc else sid)
            if self.state.deregister_service(sid) or self.cfg.legacy_agent:
                return Reply()
        raise HttpError(404, 'Unknown service ID "%s". Ensure that the service ID is passed, '
                             'not the service name.' % sid)

    def agent_services(self, req, _rest):
        self.authorize(req, "service:read", "")
        with self.state.cond:
            return Reply(body={s.id: self.state.agent_service_view(s)
                               for s in sorted(self.state.services.values(), key=lambda s: s.id)
                               if s.agent_local})

    def agent_checks(self, req, _rest):
        self.authorize(req, "service:read", "")
        with self.state.cond:
            return Reply(body={c.id: self.state.check_view(c, agent=True)
                               for c in sorted(self.state.checks.values(), key=lambda c: c.id)})

    def _ttl(self, req, cid, status, output):
        with self.state.cond:
            chk = self.state.checks.get(cid)
            self.authorize(req, "service:write", chk.service_name if chk else cid)
            self.state.update_ttl(cid, status, output, time.monotonic())
        return Reply()

    def agent_check_pass(self, req, cid):
        return self._ttl(req, cid, "passing", req.get("note", ""))

    def agent_check_warn(self, req, cid):
        return self._ttl(req, cid, "warning", req.get("note", ""))

    def agent_check_fail(self, req, cid):
        return self._ttl(req, cid, "critical", req.get("note", ""))

    def agent_check_update(self, req, cid):
        try:
            body = json.loads(req.body.decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError) as e:
            raise HttpError(400, "Request decode failed: %s" % e)
        update = canonical_keys(body, ["Status", "Output"], where="checkUpdate")
        status = want(update, "Status", "string", "checkUpdate", "")
        output = want(update, "Output", "string", "checkUpdate", "")
        if status not in STATUSES:
            raise HttpError(400, "Invalid check status: '%s'" % status)
        return self._ttl(req, cid, status, output)

    # --- catalog and health ---------------------------------------------------------------------

    def catalog_services(self, req, _rest):
        self.authorize(req, "service:read", "")
        st = self.state

        def compute():
            out = {}
            for svc in sorted(st.services.values(), key=lambda s: s.id):
                tags = out.setdefault(svc.name, [])
                tags.extend(t for t in svc.tags if t not in tags)
            return 200, dict(sorted(out.items())), st.services_index

        return self.blocking(req, compute)

    def catalog_service(self, req, name):
        if not name:
            raise HttpError(400, "Missing service name")
        self.authorize(req, "service:read", name)
        st = self.state
        tags = req.all("tag")

        def compute():
            rows = [st.catalog_service_view(s) for s in st.instances(name, tags)]
            return 200, rows, st.catalog_service_index(name)

        return self.blocking(req, compute)

    def health_service(self, req, name):
        if not name:
            raise HttpError(400, "Missing service name")
        passing = False
        if req.has("passing"):
            try:
                passing = req.get("passing") == "" or parse_go_bool(req.get("passing"))
            except ValueError:
                raise HttpError(400, "Invalid value for ?passing")
        self.authorize(req, "service:read", name)
        st = self.state
        tags = req.all("tag")
        node_meta = [p.partition(":") for p in req.all("node-meta")]

        def compute():
            rows = []
            node_ok = all(st.node_view()["Meta"].get(k) == v for k, _, v in node_meta)
            for svc in st.instances(name, tags) if node_ok else []:
                checks = [st.check_view(st.serf, agent=False)] + [
                    st.check_view(c, agent=False) for c in st.service_checks(svc.id)]
                # ?passing filters after the query ran, so the index is the unfiltered one
                if passing and any(c["Status"] != "passing" for c in checks):
                    continue
                rows.append({"Node": st.node_view(), "Service": st.health_service_view(svc),
                             "Checks": checks})
            return 200, rows, st.health_service_index(name)

        return self.blocking(req, compute, health=True)

    def health_checks(self, req, name):
        if not name:
            raise HttpError(400, "Missing service name")
        self.authorize(req, "service:read", name)
        st = self.state

        def compute():
            rows = [st.check_view(c, agent=False)
                    for svc in st.instances(name, []) for c in st.service_checks(svc.id)]
            return 200, rows, st.health_service_index(name)

        return self.blocking(req, compute)

    def health_state(self, req, state_name):
        if state_name not in ("any",) + STATUSES:
            raise HttpError(400, "Bad check state")
        self.authorize(req, "node:read", "")
        st = self.state

        def compute():
            every = [st.serf] + sorted(st.checks.values(), key=lambda c: c.id)
            rows = [st.check_view(c, agent=False) for c in every
                    if state_name == "any" or c.catalog_status == state_name]
            idx = max([c.modify_index for c in every] + list(st.health_name_index.values()))
            return 200, rows, idx

        return self.blocking(req, compute)

    # --- KV -----------------------------------------------------------------------------------

    def kv(self, req, key):
        if req.method == "GET":
            return self.kv_get(req, key)
        if req.method == "PUT":
            return self.kv_put(req, key)
        return self.kv_delete(req, key)

    def kv_get(self, req, key):
        listing = req.has("recurse") or req.has("keys")
        if not key and not listing:
            raise HttpError(400, "Missing key name")
        self.authorize(req, "key:read", key)
        st = self.state

        if req.has("keys"):
            sep = req.get("separator", req.get("seperator", ""))

            def compute():
                entries = [e for k, e in sorted(st.kv.items()) if k.startswith(key)]
                keys = []
                for e in entries:
                    k = e.key
                    if sep:
                        cut = k[len(key):].find(sep)
                        if cut >= 0:
                            k = key + k[len(key):][:cut + len(sep)]
                    if not keys or keys[-1] != k:
                        keys.append(k)
                status = 404 if not keys and key else 200
                return status, keys if status == 200 else None, st.kv_list_index(key, entries)

            return self.blocking(req, compute)

        if req.has("recurse"):
            def compute():
                entries = [e for k, e in sorted(st.kv.items()) if k.startswith(key)]
                rows = [st.kv_view(e) for e in entries]
                return (200 if rows else 404), (rows or None), st.kv_list_index(key, entries)

            return self.blocking(req, compute)

        raw = req.has("raw")

        def compute():
            entry = st.kv.get(key)
            if entry is None:
                return 404, None, st.kv_index
            return 200, entry.value if raw else [st.kv_view(entry)], entry.modify_index

        reply = self.blocking(req, compute)
        if reply.status == 200 and raw:
            reply.raw, reply.body = reply.body, None
            reply.content_type = "text/plain"
            reply.headers["X-Content-Type-Options"] = "nosniff"
            reply.headers["Content-Security-Policy"] = "sandbox"
        return reply

    def conflicting(self, req, *flags):
        if sum(1 for f in flags if req.has(f)) > 1:
            raise HttpError(400, "Conflicting flags: %s\n" % urlencode(sorted(req.pairs)))

    def kv_put(self, req, key):
        if not key:
            raise HttpError(400, "Missing key name")
        self.authorize(req, "key:write", key)
        self.require_leader()
        self.conflicting(req, "cas", "acquire", "release")
        flags = parse_uint(req.get("flags")) if req.has("flags") else 0
        cas = parse_uint(req.get("cas")) if req.has("cas") else None
        if len(req.body) > MAX_KV_VALUE:
            raise HttpError(413, "Request body(%d bytes) too large, max size: %d bytes. See "
                                 "https://developer.hashicorp.com/docs/agent/config/"
                                 "config-files#kv_max_value_size." % (len(req.body),
                                                                      MAX_KV_VALUE))
        with self.state.cond:
            ok = self.state.kv_put(key, req.body, flags, cas, req.get("acquire"),
                                   req.get("release"))
        return Reply(body=ok)

    def kv_delete(self, req, key):
        if not key and not req.has("recurse"):
            raise HttpError(400, "Missing key name")
        self.authorize(req, "key:write", key)
        self.require_leader()
        self.conflicting(req, "recurse", "cas")
        cas = parse_uint(req.get("cas")) if req.has("cas") else None
        st = self.state
        with st.cond:
            if req.has("recurse"):
                st.kv_delete([k for k in st.kv if k.startswith(key)])
                return Reply(body=True)
            entry = st.kv.get(key)
            if cas is not None and (cas == 0 or entry is None or entry.modify_index != cas):
                return Reply(body=False)
            st.kv_delete([key] if entry else [])
            return Reply(body=True)

    # --- sessions (only what KV locks need) ---------------------------------------------------

    def session_create(self, req, _rest):
        self.authorize(req, "session:write", self.cfg.node_name)
        self.require_leader()
        try:
            body = json.loads(req.body.decode("utf-8") or "{}")
        except (ValueError, UnicodeDecodeError) as e:
            raise HttpError(400, "Request decode failed: %s" % e)
        opts = canonical_keys(body, ["Name", "TTL", "Behavior", "LockDelay"], where="Session")
        with self.state.cond:
            sid = str(uuid.uuid4())
            idx = self.state.bump()
            self.state.sessions[sid] = {
                "ID": sid, "Name": want(opts, "Name", "string", "Session", ""),
                "Node": self.cfg.node_name, "LockDelay": 15000000000,
                "Behavior": want(opts, "Behavior", "string", "Session", "") or "release",
                "TTL": want(opts, "TTL", "string", "Session", ""), "NodeChecks": ["serfHealth"],
                "ServiceChecks": None, "CreateIndex": idx, "ModifyIndex": idx}
        return Reply(body={"ID": sid})

    def session_destroy(self, req, sid):
        self.authorize(req, "session:write", self.cfg.node_name)
        self.require_leader()
        with self.state.cond:
            self.state.destroy_session(sid)
        return Reply(body=True)

    def session_info(self, req, sid):
        self.authorize(req, "session:read", self.cfg.node_name)
        st = self.state

        def compute():
            found = st.sessions.get(sid)
            return 200, [dict(found)] if found else [], (found or {}).get("ModifyIndex",
                                                                           st.index)

        return self.blocking(req, compute)

    # --- status and control -----------------------------------------------------------------

    def status_leader(self, _req, _rest):
        return Reply(body="%s:8300" % self.cfg.node_address if self.state.leader else "")

    def status_peers(self, _req, _rest):
        return Reply(body=["%s:8300" % self.cfg.node_address])

    def control_leader(self, req, _rest):
        with self.state.cond:
            self.state.leader = parse_go_bool(req.get("present", "true"))
            self.state.cond.notify_all()
        return Reply(body=self.state.leader)


READ_TOKEN_ACCESSOR = "00000000-0000-4000-8000-00000000read"


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as clients (libcurl) reuse connections
    api = None  # set by main()
    quiet = False

    def do_GET(self):
        self.dispatch()

    do_PUT = do_DELETE = do_POST = do_PATCH = do_OPTIONS = do_GET

    def send_response(self, code, message=None):
        # Go's net/http sends Date but no Server header.
        self.log_request(code)
        self.send_response_only(code, message)
        self.send_header("Date", self.date_time_string())

    def log_message(self, fmt, *args):
        if not self.quiet:
            text = re.sub(r"token=[^& ]*", "token=<hidden>", fmt % args)
            sys.stderr.write("consul-double: %s\n" % text)

    def dispatch(self):
        raw_path, _, raw_query = self.path.partition("?")
        path = unquote(raw_path)
        req = Request(self.command, path, parse_qsl(raw_query, keep_blank_values=True),
                      self.headers, read_body(self))
        try:
            reply = self.route(req)
        except Exception as e:  # noqa: BLE001 - every failure becomes an answer
            if not isinstance(e, HttpError):  # a bug in the double: say so, keep serving
                traceback.print_exc()
                e = HttpError(500, "consul double: internal error: %r" % e)
            self.send(e.status, e.body.encode(), "text/plain; charset=utf-8" if e.body else None,
                      e.headers)
            return
        if reply.raw is not None:
            body, ctype = reply.raw, reply.content_type
        elif reply.body is None:
            body, ctype = b"", None
        else:
            pretty = req.has("pretty")
            text = json.dumps(reply.body, ensure_ascii=False, indent=4 if pretty else None,
                              separators=None if pretty else (",", ":"))
            body, ctype = (text + ("\n" if pretty else "")).encode(), "application/json"
        self.send(reply.status, body, ctype, reply.headers)

    def route(self, req):
        if "\n" in req.path:
            raise HttpError(400, "Invalid URL")
        for pattern, methods, handler in ROUTES:
            prefix = pattern.endswith("/")
            if (prefix and req.path.startswith(pattern)) or req.path == pattern:
                allowed = ",".join(sorted(methods + ["OPTIONS"]))
                if req.method == "OPTIONS":
                    return Reply(headers={"Allow": allowed})
                if req.method not in methods:
                    raise HttpError(405, "method %s not allowed" % req.method, {"Allow": allowed})
                rest = req.path[len(pattern):] if prefix else ""
                return getattr(self.api, handler)(req, rest)
        raise HttpError(404)

    def send(self, status, body, content_type, headers):
        try:
            self.send_response(status)
            policy = "deny" if self.api.cfg.acl_token else "allow"
            self.send_header("X-Consul-Default-Acl-Policy", policy)
            for name, value in headers.items():
                self.send_header(name, value)
            if content_type:
                self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


def timers(state, config):
    """Background thread: TTL expiry and lazy syncs every few ms, the reaper at its interval."""
    next_reap = time.monotonic() + config.reaper_interval
    step = min(0.02, config.reaper_interval)
    while True:
        time.sleep(step)
        now = time.monotonic()
        with state.cond:
            state.tick(now)
            if now >= next_reap:
                state.reap(now)
                next_reap = now + config.reaper_interval


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=8500, help="0 = pick a free port and print it")
    p.add_argument("--node-name", default="node1")
    p.add_argument("--node-address", default="127.0.0.1",
                   help="address the node advertises in responses (the double binds 127.0.0.1)")
    p.add_argument("--node-id", default="", help="node UUID (default: a new one per start)")
    p.add_argument("--datacenter", default="dc1")
    p.add_argument("--acl-token", default="", help="turn ACLs on; this token may do anything")
    p.add_argument("--acl-token-file", default="", help="the same, read from a file")
    p.add_argument("--acl-read-token", default="", help="with ACLs on, a token that may only read")
    p.add_argument("--deregister-min", type=float, default=60.0,
                   help="seconds DeregisterCriticalServiceAfter is raised to (Consul: 60)")
    p.add_argument("--reaper-interval", type=float, default=30.0,
                   help="seconds between reaper runs (Consul: 30)")
    p.add_argument("--check-update-interval", type=float, default=300.0,
                   help="seconds before an output-only check change reaches the catalog")
    p.add_argument("--legacy-agent", action="store_true",
                   help="answer like Consul <= 1.10: unknown check 500, unknown deregister 200")
    p.add_argument("--no-jitter", action="store_true",
                   help="do not add Consul's random wait/16 to blocking waits")
    p.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    config = p.parse_args(argv)
    if config.acl_token_file:
        with open(config.acl_token_file, encoding="utf-8") as f:
            config.acl_token = f.read().strip()
    if config.reaper_interval <= 0:
        p.error("--reaper-interval must be > 0")

    state = State(config)
    Handler.api = Api(state, config)
    Handler.quiet = config.quiet
    ThreadingHTTPServer.request_queue_size = 128
    server = ThreadingHTTPServer(("127.0.0.1", config.port), Handler)
    server.daemon_threads = True
    threading.Thread(target=timers, args=(state, config), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    print("listening 127.0.0.1:%d" % server.server_address[1], flush=True)
    try:
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()


if __name__ == "__main__":
    main()
