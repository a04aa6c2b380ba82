#!/usr/bin/env python3
"""A stateful fleet API v1 double for herald's tests (a test tool, not product code).

fleet cannot be installed on the test machines, so herald's fleet client and its unit commands
are tested against this server. It models one fleet cluster - fleetd's HTTP API, its engine
(the scheduler) and one agent per fake machine - written from tests/fixtures/reference/fleet-api.md and
kept honest by fleet_contract_test.py, which replays tests/fixtures/fleet-api/ against it.

What it models:
  API     GET /fleet/v1/units, GET|PUT|DELETE /fleet/v1/units/NAME, GET /fleet/v1/state
          (?machineID= ?unitName=), GET /fleet/v1/state/NAME, GET|PATCH /fleet/v1/machines,
          GET /fleet/v1/discovery; the same under /v1-alpha/. fleetd's answers exactly: status
          codes, {"error":{"code","message"}} bodies, `{}` for empty collections, alphabetical
          keys, Content-Length up to 2 KiB and chunked above, paging by nextPageToken (two
          little-endian uint16, limit and page, URL-safe base64), PUT's decision table (409
          for an instance sent without options: fleet does not instantiate templates), the
          unvalidated desiredState that breaks a unit, the 415s, the panic of /state/NAME for a
          unit without state (the connection closes without an answer).
  engine  schedules every loaded/launched non-global unit to the least loaded machine (ties:
          lowest ID) that can take it: MachineID (full or 8-digit), MachineMetadata (k=v, values
          of one key OR-ed, keys AND-ed), MachineOf (the peer must be there), Conflicts (glob,
          both ways), %n %N %p %i expanded for instances; unschedules inactive units and the
          units of a lost machine. Global units run on every machine whose metadata matches.
  lost    A machine whose fleetd dies is not gone at once: its presence and the unit states its
          agent published are etcd keys with the agent's TTL (fleetd's agent_ttl, 30 s by
          default), so until they expire /machines still lists it, its units keep their
          machineID and currentState, and /state shows their last systemd states, frozen, while
          nothing runs there. Then the machine leaves: its states go, and the engine unschedules
          its units and places them again where they fit (a unit that fits nowhere stays
          unscheduled; a Global unit is simply gone from that machine). The recorded fixtures
          have no lost machine; this follows fleet's design (agent_ttl, engine reconcile).
  agents  walk their units inactive -> loaded -> launched, with systemd's view in /state:
          loaded/inactive/dead, then loaded/activating/start-pre, then loaded/active/running;
          stop (loaded) goes back to inactive/dead, unload/destroy drop the job at once and
          the /state entry later, replaced options stop and restart the unit with the new hash.
          An agent only starts a unit when nothing it still runs conflicts with it.

Test control (outside /fleet/v1):
  POST /_double/fail?unit=GLOB          units matching GLOB fail (active/sub failed/failed)
  POST /_double/never-start?unit=GLOB   units matching GLOB stay activating/start-pre
  POST /_double/crash-loop?unit=GLOB[&restarts=N][&seconds=S]
                                        units matching GLOB crash as a Restart= unit does:
                                        activating/start-pre for S seconds (default 0.5), the
                                        start fails, activating/auto-restart for S (RestartSec),
                                        start-pre again, and so on; never failed. With N, they
                                        run after the Nth auto-restart (N=1: restart once, then
                                        run). A running unit starts crashing at once. A unit in
                                        a crash loop never settles (/_double/settled)
  POST /_double/heal?unit=GLOB          forget fail/never-start/crash-loop for GLOB (a held
                                        start goes on; a crash loop runs at its next start)
  POST /_double/purge?unit=GLOB         remove units as deleting their etcd keys would
  POST /_double/lose-machine?id=ID[&ttl=S]
                                        the machine's fleetd dies: with ttl, it stays listed
                                        with its states frozen for S seconds (its agent TTL),
                                        then it leaves; without, it leaves at once. Its units
                                        are then rescheduled
  POST /_double/add-machine?id=ID&ip=IP&metadata=k=v,k=v
  POST /_double/starting?seconds=S      answer 503 (fleetd not yet connected to etcd) for S
                                        seconds (S=0: stop now; no S: until told)
  POST /_double/etcd-down?on=true|false answer 500 after etcd_request_timeout, as with etcd gone
  GET  /_double/requests                {"total": N, "by": {"GET /fleet/v1/units": N, ...}}
  POST /_double/reset-requests
  GET  /_double/settled                 true when no unit or agent has a change pending

Usage: fleet_double.py --port 0            (prints "listening 127.0.0.1:PORT" first)
       fleet_double.py --unix PATH         (prints "listening unix:PATH" first)
       fleet_double.py --port 0 --unix PATH   (both: the TCP line first)
"""

import argparse
import base64
import fnmatch
import hashlib
import json
import os
import re
import signal
import socket
import socketserver
import struct
import sys
import threading
import time
import traceback
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

sys.dont_write_bytecode = True  # keep the source tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from double_common import read_body  # noqa: E402

SERVER_VERSION = "fleetd/v1.0.0-15-g45224983"
GO_BUFFER = 2048  # net/http writes a body up to this size with Content-Length, above it chunked
STATES = ("inactive", "loaded", "launched")
UNIT_TYPES = ("automount", "busname", "device", "mount", "path", "scope", "service", "slice",
              "snapshot", "socket", "swap", "target", "timer")
TEMPLATE_TYPES = ("path", "service", "socket", "target", "timer")
NAME_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789:-_.\\@")
DEFAULT_MACHINES = ["11111111111111111111111111111111,127.0.0.1,role=web",
                    "22222222222222222222222222222222,127.0.0.1,role=router"]


class HttpError(Exception):
    """An error answer in fleetd's shape: {"error":{"code":N,"message":"..."}}."""

    def __init__(self, status, message=""):
        super().__init__(message)
        self.status = status
        self.message = message


class Hangup(Exception):
    """fleetd panicked in the handler: close the connection without any answer."""


# --------------------------------------------------------------------------------------------
# Units, names and options as fleet sees them
# --------------------------------------------------------------------------------------------


def go_json(value):
    """Go's json.Marshal: compact, keys as declared (fleet's are alphabetical), HTML-escaped."""
    text = json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return (text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
            .replace("\u2028", "\\u2028").replace("\u2029", "\\u2029"))


def go_quote(text):
    return json.dumps(text, ensure_ascii=False)


def name_problem(name):
    """fleetd's api.ValidateName (with the template rule of v1.0), in its words."""
    if not name:
        return "unit name cannot be empty"
    if len(name.encode()) > 256:
        return "unit name exceeds maximum length (256)"
    dot = name.rfind(".")
    if dot == -1:
        return 'unit name must contain "."'
    if dot == len(name) - 1:
        return 'unit name cannot end in "."'
    suffix = name[dot + 1:]
    if suffix not in UNIT_TYPES:
        return "invalid unit type: %s" % go_quote(suffix)
    if "@" in name and suffix not in TEMPLATE_TYPES:
        return "invalid unit type for template: %s" % go_quote(suffix)
    for ch in name[:dot]:
        if ch not in NAME_CHARS:
            return "invalid character %s in unit name" % ("'%s'" % ch)
    if name.startswith("@"):
        return 'unit name cannot start in "@"'
    return None


def name_info(name):
    """(full, name without type, prefix, instance, is_template, is_instance) like fleet's
    unit.UnitNameInfo; None without a '.'."""
    dot = name.rfind(".")
    if dot == -1:
        return None
    base = name[:dot]
    prefix, at, instance = base.partition("@")
    return {"full": name, "name": base, "prefix": prefix, "instance": instance,
            "template": bool(at) and not instance, "is_instance": bool(at) and bool(instance),
            "suffix": name[dot + 1:]}


def expand(value, name):
    """fleet's unitPrintf: %n %N %p %i for the unit `name`."""
    info = name_info(name)
    if info is None:
        return value
    for spec, text in (("%n", info["full"]), ("%N", info["name"]), ("%p", info["prefix"]),
                       ("%i", info["instance"])):
        value = value.replace(spec, text)
    return value


def normalize(options):
    """The order fleetd stores: sections by first appearance, order within a section kept."""
    sections = []
    for o in options:
        if o["section"] not in sections:
            sections.append(o["section"])
    return [o for s in sections for o in options if o["section"] == s]


def serialize(options):
    """go-systemd's unit serializer: what fleet hashes and fleetctl cat prints."""
    out = []
    current = None
    for o in normalize(options):
        if o["section"] != current:
            if current is not None:
                out.append("\n")
            out.append("[%s]\n" % o["section"])
            current = o["section"]
        out.append("%s=%s\n" % (o["name"], o["value"]))
    return "".join(out)


def unit_hash(options):
    return hashlib.sha1(serialize(options).encode()).hexdigest()


class Requirements:
    """The [X-Fleet] requirements of a unit, specifiers expanded (fleet's job.Job)."""

    def __init__(self, name, options, expand_specifiers=True):
        values = {}
        for o in options:
            if o["section"] == "X-Fleet":
                v = expand(o["value"], name) if expand_specifiers else o["value"]
                values.setdefault(o["name"], []).append(v)
        self.conflicts = values.get("X-Conflicts", []) + values.get("Conflicts", [])
        self.peers = values.get("X-ConditionMachineOf", []) + values.get("MachineOf", [])
        target = (values.get("MachineID") or values.get("X-ConditionMachineID")
                  or values.get("X-ConditionMachineBootID") or [])
        self.machine_id = target[0] if target else None
        self.metadata = {}
        for key in ("X-ConditionMachineMetadata", "MachineMetadata"):
            for pair in values.get(key, []):
                # fleet reads each value as one k=v pair (a value "a=b c=d" is skipped)
                parts = pair.split("=")
                if len(parts) == 2 and parts[0] and parts[1]:
                    self.metadata.setdefault(parts[0], set()).add(parts[1])
        glob = values.get("Global", [])
        self.is_global = bool(glob) and glob[-1].lower() == "true"


def options_problem(options):
    """fleetd's api.ValidateOptions: a unit file go-systemd can read back, and requirements
    that can be met together."""
    text = serialize(options)
    for o in options:
        if "\n" in o["value"] or "\n" in o["name"] or "\n" in o["section"]:
            return "unexpected newline encountered while parsing option name"
    for line in text.split("\n"):
        if len(line.encode()) > 2048:
            return "line too long (max 2048 bytes)"
    req = Requirements("", options, expand_specifiers=False)
    for peer in req.peers:
        for conflict in req.conflicts:
            if fnmatch.fnmatchcase(peer, conflict):
                return "unresolvable requirements: peer %s matches conflict %s" % (
                    go_quote(peer), go_quote(conflict))
    if req.machine_id and req.peers:
        return "MachineID cannot be used with Peers"
    if req.machine_id and req.conflicts:
        return "MachineID cannot be used with Conflicts"
    if req.machine_id and req.is_global:
        return "MachineID cannot be used with Global"
    if req.is_global and req.peers:
        return "Global cannot be used with Peers"
    if req.is_global and req.conflicts:
        return "Global cannot be used with Conflicts"
    return None


def decode_options(raw):
    """The options of a PUT body, as Go's decoder fills []*schema.UnitOption."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise HttpError(400, "unable to decode body: json: cannot unmarshal %s into Go struct "
                             "field Unit.options of type []*schema.UnitOption" % json_kind(raw))
    out = []
    for item in raw:
        if item is None:
            continue
        if not isinstance(item, dict):
            raise HttpError(400, "unable to decode body: json: cannot unmarshal %s into Go "
                                 "struct field Unit.options of type schema.UnitOption"
                                 % json_kind(item))
        opt = {}
        for field in ("section", "name", "value"):
            value = next((v for k, v in item.items() if k.lower() == field), "")
            if value is None:
                value = ""
            if not isinstance(value, str):
                raise HttpError(400, "unable to decode body: json: cannot unmarshal %s into Go "
                                     "struct field UnitOption.options.%s of type string"
                                     % (json_kind(value), field))
            opt[field] = value
        out.append(opt)
    return out


def json_kind(value):
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if value is None:
        return "null"
    return "object"


def go_decode_error(text):
    """Go's encoding/json syntax error for a body Python cannot parse either."""
    try:
        json.loads(text)
        return None
    except json.JSONDecodeError as e:
        if e.pos >= len(text):
            return "unexpected EOF"
        ch = text[e.pos]
        if e.msg.startswith("Expecting property name"):
            where = "looking for beginning of object key string"
        elif e.msg.startswith("Expecting ':'"):
            where = "after object key"
        elif e.msg.startswith("Expecting ',' delimiter"):
            where = "after object key:value pair" if text.lstrip().startswith("{") \
                else "after array element"
        elif e.msg.startswith("Extra data"):
            where = "after top-level value"
        else:
            where = "looking for beginning of value"
        return "invalid character %s %s" % ("'%s'" % ch, where)


# --------------------------------------------------------------------------------------------
# Paging
# --------------------------------------------------------------------------------------------


def encode_token(limit, page):
    return base64.urlsafe_b64encode(struct.pack("<HH", limit, page)).decode()


def page_of(items, query, limit):
    """fleetd's extractUnitPageData: page N of `limit` items and the next token. Note that a
    page ending exactly at the last item still carries a token (the next page is {})."""
    tokens = query.get("nextPageToken", [])
    if len(tokens) > 1:
        raise HttpError(400, "too many values for page token")
    page = 1
    if tokens:
        if not re.fullmatch(r"[A-Za-z0-9_=-]*", tokens[0]):
            bad = next(i for i, c in enumerate(tokens[0]) if not re.match(r"[A-Za-z0-9_=-]", c))
            raise HttpError(400, "illegal base64 data at input byte %d" % bad)
        try:
            raw = base64.urlsafe_b64decode(tokens[0].encode())
        except (ValueError, TypeError):
            raise HttpError(400, "illegal base64 data at input byte %d" % len(tokens[0]))
        if len(raw) < 4:
            raise HttpError(400, "unexpected EOF" if raw else "EOF")
        tok_limit, page = struct.unpack("<HH", raw[:4])
        if tok_limit != limit:
            raise HttpError(400, "token limit must be %d" % limit)
        if page == 0:
            raise HttpError(400, "token page must be greater than zero")
    start, stop = (page - 1) * limit, page * limit
    if start >= len(items):
        return [], None
    if stop > len(items):
        return items[start:], None
    return items[start:stop], encode_token(limit, page + 1)


# --------------------------------------------------------------------------------------------
# The cluster: units, machines, engine and agents
# --------------------------------------------------------------------------------------------


class Unit:
    def __init__(self, name, options, desired):
        self.name = name
        self.options = normalize(options)
        self.desired = desired  # may be garbage: fleetd does not validate it on an update
        self.target = None  # machine the engine scheduled it to
        self.hash = unit_hash(self.options)
        self.req = Requirements(name, self.options)

    def set_options(self, options):
        self.options = normalize(options)
        self.hash = unit_hash(self.options)
        self.req = Requirements(self.name, self.options)

    def broken(self):
        return self.desired not in STATES


class Local:
    """A unit as one machine's agent (and systemd there) has it."""

    def __init__(self, name):
        self.name = name
        self.job = None  # None (not loaded), "loaded" or "launched": fleet's currentState
        self.hash = None
        self.options = []
        self.systemd = None  # (load, active, sub) or None when systemd has no state to report
        self.next_at = 0.0  # the agent's next step for this unit is not due before this
        self.settle_at = None  # when a systemd transition in progress completes
        self.settle_to = None
        self.gc_at = None  # when an unloaded unit's state entry disappears
        self.restarts = 0  # failed starts systemd's Restart= restarted since it was launched
        self.restart_sec = 0.0  # the crash loop's phase length, while it is in one


class Machine:
    def __init__(self, mid, ip, metadata):
        self.id = mid
        self.ip = ip
        self.metadata = dict(metadata)
        self.units = {}  # name -> Local
        self.gone_at = None  # lost: when its presence expires (monotonic); its agent is dead

    def view(self):
        out = {"id": self.id, "primaryIP": self.ip}
        md = {k: v for k, v in self.metadata.items() if v != ""}
        if md:
            out["metadata"] = md
        return out

    def match_id(self, wanted):
        return wanted == self.id or wanted == self.id[:8]


class Cluster:
    """Everything fleet knows, behind one lock; a timer thread advances engine and agents."""

    def __init__(self, config, machines):
        self.cfg = config
        self.lock = threading.RLock()
        self.units = {}  # name -> Unit
        self.machines = {m.id: m for m in machines}
        self.behaviour = []  # (glob, "fail" | "never-start" | "crash-loop", {parameters})
        self.starting_until = None  # monotonic deadline of the 503 phase; inf = until told
        self.etcd_down = False
        self.requests = {}
        self.total_requests = 0
        self.next_engine = 0.0

    # --- scheduling -------------------------------------------------------------------------

    def scheduled_on(self, machine_id):
        return [u for u in self.units.values()
                if u.target == machine_id and not u.req.is_global and not u.broken()]

    def able_to_run(self, unit, machine, placed):
        """fleet's AgentState.AbleToRun for `unit` on `machine` with `placed` units there."""
        req = unit.req
        if req.machine_id and not machine.match_id(req.machine_id):
            return False
        for key, values in req.metadata.items():
            if machine.metadata.get(key) not in values:
                return False
        names = {u.name for u in placed}
        for peer in req.peers:
            if peer not in names:
                return False
        for other in placed:
            if other.name == unit.name:
                continue
            if any(fnmatch.fnmatchcase(other.name, c) for c in req.conflicts):
                return False
            if any(fnmatch.fnmatchcase(unit.name, c) for c in other.req.conflicts):
                return False
        return True

    def engine_pass(self):
        for unit in sorted(self.units.values(), key=lambda u: u.name):
            if unit.req.is_global or unit.broken():
                unit.target = None
                continue
            if unit.desired == "inactive" or name_info(unit.name)["template"]:
                unit.target = None
                continue
            if unit.target is not None and unit.target in self.machines:
                continue
            unit.target = None
            candidates = sorted(self.machines.values(),
                                key=lambda m: (len(self.scheduled_on(m.id)), m.id))
            for machine in candidates:
                if self.able_to_run(unit, machine, self.scheduled_on(machine.id)):
                    unit.target = machine.id
                    break

    # --- agents -----------------------------------------------------------------------------

    def wanted_on(self, machine):
        """name -> Unit the agent of `machine` should have, with the job state it wants."""
        wanted = {}
        for unit in self.units.values():
            if unit.broken() or unit.desired == "inactive":
                continue
            if unit.req.is_global:
                if all(machine.metadata.get(k) in v for k, v in unit.req.metadata.items()):
                    wanted[unit.name] = unit
            elif unit.target == machine.id:
                wanted[unit.name] = unit
        return wanted

    def behaviour_of(self, name):
        return self.behaviour_entry(name)[0]

    def behaviour_entry(self, name):
        """(what, parameters) of the last control matching `name`, (None, {}) without one."""
        for glob, what, params in reversed(self.behaviour):
            if fnmatch.fnmatchcase(name, glob):
                return what, params
        return None, {}

    def next_start_fails(self, local):
        """True while `local` is told to crash-loop and has restarts left: its next start fails
        (counted here, as the failure it schedules)."""
        what, params = self.behaviour_entry(local.name)
        limit = params.get("restarts")
        if what != "crash-loop" or (limit is not None and local.restarts >= limit):
            return False
        local.restarts += 1
        local.restart_sec = params["seconds"]
        return True

    def crash_loop_settled(self, local, now):
        """systemd finished a transition of `local` in a crash loop: after RestartSec it starts
        the unit again; that start fails again (-> auto-restart) or, healed or out of
        restarts, the unit runs."""
        if local.job != "launched" or not local.restart_sec or local.systemd is None:
            return
        if local.systemd[2] == "auto-restart":
            local.settle_at = now + local.restart_sec
            local.settle_to = ("loaded", "activating", "start-pre")
        elif local.systemd[2] == "start-pre":
            if self.next_start_fails(local):
                local.settle_at = now + local.restart_sec
                local.settle_to = ("loaded", "activating", "auto-restart")
            else:
                local.restart_sec = 0.0
                local.settle_at = now + self.cfg.start_delay
                local.settle_to = ("loaded", "active", "running")

    def agent_conflict(self, machine, unit):
        """True while the agent still has a unit that conflicts with `unit`, even one it is
        unloading (it then waits before it takes `unit`, as fleet's agent does: 76)."""
        for local in machine.units.values():
            if local.name == unit.name:
                continue
            other = self.units.get(local.name)
            other_conflicts = other.req.conflicts if other else []
            if any(fnmatch.fnmatchcase(local.name, c) for c in unit.req.conflicts) or any(
                    fnmatch.fnmatchcase(unit.name, c) for c in other_conflicts):
                return True
        return False

    def agent_step(self, machine, now):
        cfg = self.cfg
        wanted = self.wanted_on(machine)
        for name in sorted(set(machine.units) | set(wanted)):
            local = machine.units.get(name)
            unit = wanted.get(name)
            if local is None:
                if unit is None or self.agent_conflict(machine, unit):
                    continue
                local = machine.units[name] = Local(name)
                local.next_at = now + cfg.agent_delay
                continue
            # systemd finishing a transition is independent of the agent's pace
            if local.settle_at is not None and now >= local.settle_at:
                local.systemd, local.settle_at, local.settle_to = local.settle_to, None, None
                self.crash_loop_settled(local, now)
            if local.gc_at is not None:
                if unit is not None and local.job is None:
                    local.gc_at = None  # wanted again before the entry went
                elif now >= local.gc_at:
                    del machine.units[name]
                    continue
            if now < local.next_at:
                continue
            if unit is None:
                if local.job is not None:
                    # unload: the job goes at once, systemd stops it, the entry goes later
                    local.job = None
                    if local.systemd and local.systemd[1] in ("active", "activating"):
                        local.systemd = ("loaded", "inactive", "dead")
                        local.settle_at = local.settle_to = None  # no start goes on
                    local.gc_at = now + cfg.state_ttl
                continue
            if local.job is not None and local.hash != unit.hash:
                # replaced options: stop the old unit file, then load the new one
                if local.job == "launched":
                    local.job = "loaded"
                    local.next_at = now + cfg.agent_delay
                    continue
                local.hash, local.options = unit.hash, list(unit.options)
                local.systemd = ("loaded", "inactive", "dead")
                local.settle_at = local.settle_to = None
                local.next_at = now + cfg.agent_delay
                continue
            if local.job is None:
                local.job = "loaded"
                local.hash, local.options = unit.hash, list(unit.options)
                local.systemd = ("loaded", "inactive", "dead")
                local.gc_at = None
                local.next_at = now + cfg.agent_delay
                continue
            if unit.desired == "launched" and local.job == "loaded":
                local.job = "launched"
                what = self.behaviour_of(name)
                if local.systemd is None or local.systemd[1] not in ("active", "activating"):
                    local.systemd = ("loaded", "activating", "start-pre")
                local.restarts, local.restart_sec = 0, 0.0  # systemd's counter starts anew
                if what == "never-start":
                    local.settle_at = None
                elif what == "fail":
                    local.settle_at, local.settle_to = now + cfg.start_delay, (
                        "loaded", "failed", "failed")
                elif what == "crash-loop" and self.next_start_fails(local):
                    local.systemd = ("loaded", "activating", "start-pre")
                    local.settle_at, local.settle_to = now + local.restart_sec, (
                        "loaded", "activating", "auto-restart")
                elif local.systemd[1] != "active":
                    local.settle_at, local.settle_to = now + cfg.start_delay, (
                        "loaded", "active", "running")
                local.next_at = now + cfg.agent_delay
                continue
            if unit.desired == "loaded" and local.job == "launched":
                local.job = "loaded"
                local.settle_at, local.settle_to = now + cfg.stop_delay, (
                    "loaded", "inactive", "dead")
                local.next_at = now + cfg.agent_delay
                continue
            if local.job == "launched" and local.systemd and local.systemd[1] == "active":
                if self.behaviour_of(name) == "fail":
                    local.systemd = ("loaded", "failed", "failed")
                elif self.next_start_fails(local):
                    # its main process dies: systemd waits RestartSec, then starts it again
                    local.systemd = ("loaded", "activating", "auto-restart")
                    local.settle_at, local.settle_to = now + local.restart_sec, (
                        "loaded", "activating", "start-pre")

    def expire_lost(self, now):
        for mid in [m.id for m in self.machines.values()
                    if m.gone_at is not None and now >= m.gone_at]:
            del self.machines[mid]

    def tick(self, now):
        with self.lock:
            self.expire_lost(now)
            if now >= self.next_engine:
                self.engine_pass()
                self.next_engine = now + self.cfg.engine_interval
            for machine in list(self.machines.values()):
                if machine.gone_at is None:  # a lost machine's agent does nothing
                    self.agent_step(machine, now)

    def settled(self):
        with self.lock:
            if any(m.gone_at is not None for m in self.machines.values()):
                return False  # a lost machine is still to leave
            self.engine_pass()
            for machine in self.machines.values():
                wanted = self.wanted_on(machine)
                for name, local in machine.units.items():
                    if local.settle_at is not None or local.gc_at is not None:
                        return False
                    unit = wanted.get(name)
                    if unit is None and local.job is not None:
                        return False
                    if unit is not None and (local.hash != unit.hash or local.job != (
                            "launched" if unit.desired == "launched" else "loaded")):
                        return False
                for name, unit in wanted.items():
                    if name not in machine.units and not self.agent_conflict(machine, unit):
                        return False
            return True

    def touch(self, name):
        """A change of `name` reaches each agent one reconcile step later, never at once."""
        due = time.monotonic() + self.cfg.agent_delay
        for machine in self.machines.values():
            local = machine.units.get(name)
            if local is not None:
                local.next_at = max(local.next_at, due)

    # --- views ------------------------------------------------------------------------------

    def current_state(self, unit):
        if unit.target is None or unit.target not in self.machines:
            return "inactive"
        local = self.machines[unit.target].units.get(unit.name)
        return local.job if local is not None and local.job is not None else "inactive"

    def unit_view(self, unit, item):
        out = {"name": unit.name, "desiredState": unit.desired, "options": unit.options}
        if unit.req.is_global:
            if not item:
                out["currentState"] = "inactive"  # the list says so; the item says nothing
            return out
        out["currentState"] = self.current_state(unit)
        if unit.target is not None:
            out["machineID"] = unit.target
        return out

    def state_entries(self):
        entries = []
        for machine in self.machines.values():
            for local in machine.units.values():
                if local.systemd is None:
                    continue
                load, active, sub = local.systemd
                entries.append({"name": local.name, "hash": local.hash,
                                "machineID": machine.id, "systemdLoadState": load,
                                "systemdActiveState": active, "systemdSubState": sub})
        entries.sort(key=lambda e: (e["name"], e["machineID"]))
        return entries


# --------------------------------------------------------------------------------------------
# The API
# --------------------------------------------------------------------------------------------


class Reply:
    def __init__(self, status=200, body=None, content_type=True):
        self.status = status
        self.body = body  # a JSON value, or None for an empty answer
        self.content_type = content_type  # 204 of PATCH /machines carries one, PUT's do not


class Api:
    def __init__(self, cluster, config):
        self.cluster = cluster
        self.cfg = config
        self.discovery = None
        if config.discovery and os.path.exists(config.discovery):
            with open(config.discovery, encoding="utf-8") as f:
                self.discovery = json.load(f)["response"]["body"]

    def handle(self, method, path, query, headers, body):
        c = self.cluster
        if c.starting_until is not None:
            if time.monotonic() < c.starting_until:
                raise HttpError(503, "fleet server unable to communicate with etcd")
            c.starting_until = None
        for prefix in ("/fleet/v1/", "/v1-alpha/"):
            if path.startswith(prefix):
                return self.resource(method, path[len(prefix):], query, headers, body)
        raise HttpError(405)  # fleetd's catch-all handler refuses everything else

    def resource(self, method, rest, query, headers, body):
        c = self.cluster
        if rest == "discovery":
            if method != "GET":
                raise HttpError(405, "only GET supported against this resource")
            if self.discovery is None:
                raise HttpError(404)
            return Reply(body=RawJson(self.discovery))
        if c.etcd_down and rest != "discovery":
            time.sleep(self.cfg.etcd_request_timeout)
            raise HttpError(500)
        if rest == "units":
            if method != "GET":
                raise HttpError(405, "only GET supported against this resource")
            return self.list_units(query)
        if rest.startswith("units/") and rest != "units/":
            name = rest[len("units/"):]
            if method == "GET":
                return self.get_unit(name)
            if method == "PUT":
                return self.put_unit(name, headers, body)
            if method == "DELETE":
                return self.delete_unit(name)
            raise HttpError(405, "only GET, PUT and DELETE supported against this resource")
        if rest == "state":
            if method != "GET":
                raise HttpError(405, "only GET supported against this resource")
            return self.list_state(query)
        if rest.startswith("state/") and rest != "state/":
            if method != "GET":
                raise HttpError(405, "only GET supported against this resource")
            return self.get_state(rest[len("state/"):])
        if rest == "machines":
            if method == "GET":
                with c.lock:
                    items = [m.view() for m in sorted(c.machines.values(), key=lambda m: m.id)]
                return self.page("machines", items, query)
            if method == "PATCH":
                return self.patch_machines(headers, body)
            raise HttpError(405, "only GET and PATCH supported against this resource")
        raise HttpError(404)

    def page(self, key, items, query):
        chunk, token = page_of(items, query, self.cfg.token_limit)
        out = {}
        if chunk:
            out[key] = chunk
        if token:
            out["nextPageToken"] = token
        return Reply(body=out)

    def list_units(self, query):
        c = self.cluster
        with c.lock:
            items = [c.unit_view(u, item=False) for u in sorted(c.units.values(),
                                                                  key=lambda u: u.name)
                     if not u.broken()]
        return self.page("units", items, query)

    def existing(self, name):
        unit = self.cluster.units.get(name)
        if unit is not None and unit.broken():
            raise HttpError(500)  # fleetd cannot read its own stored garbage back
        return unit

    def get_unit(self, name):
        c = self.cluster
        with c.lock:
            unit = self.existing(name)
            if unit is None:
                raise HttpError(404, "unit does not exist")
            return Reply(body=c.unit_view(unit, item=True))

    def delete_unit(self, name):
        c = self.cluster
        with c.lock:
            if self.existing(name) is None:
                raise HttpError(404, "unit does not exist")
            del c.units[name]
            c.touch(name)
        return Reply(204, None, content_type=False)

    def put_unit(self, name, headers, body):
        check_content_type(headers)
        text = body.decode("utf-8", errors="replace")
        problem = go_decode_error(text)
        if problem:
            raise HttpError(400, "unable to decode body: %s" % problem)
        data = json.loads(text)
        if not isinstance(data, dict):
            raise HttpError(400, "unable to decode body: json: cannot unmarshal %s into Go value "
                                 "of type schema.Unit" % json_kind(data))
        sent_name = data.get("name") or ""
        desired = data.get("desiredState") or ""
        if not isinstance(sent_name, str) or not isinstance(desired, str):
            raise HttpError(400, "unable to decode body: json: cannot unmarshal into a string")
        options = decode_options(data.get("options"))
        if not sent_name:
            sent_name = name
        if sent_name != name:
            raise HttpError(400, "name in URL %s differs from unit name in request body %s"
                            % (go_quote(name), go_quote(sent_name)))
        problem = name_problem(name)
        if problem:
            raise HttpError(400, problem)
        is_template = name_info(name)["template"]
        c = self.cluster
        with c.lock:
            unit = self.existing(name)
            if unit is None:
                if not options:
                    raise HttpError(409, "unit does not exist and options field empty")
                problem = options_problem(options)
                if problem:
                    raise HttpError(400, problem)
                if desired and desired not in STATES:
                    raise HttpError(500)
                if is_template and desired in ("loaded", "launched"):
                    raise HttpError(400, "cannot activate template %s" % go_quote(name))
                c.units[name] = Unit(name, options, desired or "inactive")
                return Reply(201, None, content_type=False)
            if options and normalize(options) != unit.options:
                problem = options_problem(options)
                if problem:
                    raise HttpError(400, problem)
                if desired and desired not in STATES:
                    raise HttpError(500)
                unit.set_options(options)
                if desired:
                    unit.desired = desired
                c.touch(name)
                return Reply(201, None, content_type=False)
            if not desired:
                raise HttpError(409, "must provide DesiredState to update existing unit")
            if is_template and desired in ("loaded", "launched"):
                raise HttpError(400, "cannot activate template %s" % go_quote(name))
            unit.desired = desired  # not validated: a garbage value breaks the unit (38-41)
            c.touch(name)
            return Reply(204, None, content_type=False)

    def list_state(self, query):
        c = self.cluster
        machine = query.get("machineID", [""])[0]
        unit = query.get("unitName", [""])[0]
        with c.lock:
            items = [e for e in c.state_entries()
                     if (not machine or e["machineID"] == machine)
                     and (not unit or e["name"] == unit)]
        return self.page("states", items, query)

    def get_state(self, name):
        c = self.cluster
        with c.lock:
            for entry in c.state_entries():
                if entry["name"] == name:
                    return Reply(body=entry)
        raise Hangup()  # fleetd dereferences a nil state and its handler panics

    def patch_machines(self, headers, body):
        check_content_type(headers)
        text = body.decode("utf-8", errors="replace")
        problem = go_decode_error(text)
        if problem:
            raise HttpError(400, problem)
        ops = json.loads(text)
        if not isinstance(ops, list):
            raise HttpError(400, "json: cannot unmarshal %s into Go value of type "
                                 "[]api.machineMetadataOp" % json_kind(ops))
        parsed = []
        for op in ops:
            if not isinstance(op, dict):
                raise HttpError(400, "json: cannot unmarshal %s into Go value of type "
                                     "api.machineMetadataOp" % json_kind(op))
            value = op.get("value")
            if value is not None and not isinstance(value, dict):
                raise HttpError(400, "json: cannot unmarshal %s into Go struct field "
                                     "machineMetadataOp.Value of type struct { Value string "
                                     "\"json:\\\"value\\\"\" }" % json_kind(value))
            kind = op.get("op")
            if kind not in ("add", "remove", "replace"):
                raise HttpError(400, "invalid op: expect add, remove, or replace")
            m = re.fullmatch(r"/([^/]+)/metadata/([^/]+)", op.get("path") or "")
            if not m:
                raise HttpError(400, "machine metadata path invalid")
            if kind in ("add", "replace") and (value is None or "value" not in value):
                raise HttpError(400, "invalid value: add and replace require a value")
            parsed.append((kind, m.group(1), m.group(2), (value or {}).get("value", "")))
        c = self.cluster
        with c.lock:
            for kind, mid, key, value in parsed:
                machine = c.machines.get(mid)
                if machine is None:
                    continue
                machine.metadata[key] = "" if kind == "remove" else value
        return Reply(204, None, content_type=True)

    # --- test control -----------------------------------------------------------------------

    def control(self, method, path, query):
        c = self.cluster
        arg = lambda k, d=None: query.get(k, [d])[0]  # noqa: E731
        with c.lock:
            if path == "/_double/requests" and method == "GET":
                return {"total": c.total_requests, "by": dict(c.requests)}
            if path == "/_double/settled" and method == "GET":
                return c.settled()
            if method != "POST":
                raise HttpError(405, "control endpoints take POST")
            if path == "/_double/reset-requests":
                c.requests, c.total_requests = {}, 0
                return True
            if path in ("/_double/fail", "/_double/never-start"):
                c.behaviour.append((arg("unit", "*"), path.rsplit("/", 1)[1], {}))
                return True
            if path == "/_double/crash-loop":
                try:
                    restarts = None if arg("restarts") is None else int(arg("restarts"))
                    seconds = float(arg("seconds", "0.5"))
                except ValueError:
                    raise HttpError(400, "restarts must be an integer, seconds a number")
                if (restarts is not None and restarts < 0) or not 0 < seconds < float("inf"):
                    raise HttpError(400, "restarts must be 0 or more, seconds more than 0")
                c.behaviour.append((arg("unit", "*"), "crash-loop",
                                    {"restarts": restarts, "seconds": seconds}))
                return True
            if path == "/_double/heal":
                glob = arg("unit", "*")
                c.behaviour = [(g, w, p) for g, w, p in c.behaviour if g != glob]
                # a unit held back from starting now finishes its start
                for machine in c.machines.values():
                    for local in machine.units.values():
                        if (fnmatch.fnmatchcase(local.name, glob) and local.systemd
                                and local.systemd[1] == "activating" and local.settle_at is None):
                            local.settle_at = time.monotonic() + c.cfg.start_delay
                            local.settle_to = ("loaded", "active", "running")
                return True
            if path == "/_double/purge":
                # what deleting /_coreos.com/fleet/job/NAME in etcd does: the only way to get rid
                # of a unit broken by an unvalidated desiredState (38-41); unit=* purges all
                glob = arg("unit", "")
                for name in [n for n in c.units if fnmatch.fnmatchcase(n, glob)]:
                    del c.units[name]
                return True
            if path == "/_double/lose-machine":
                machine = c.machines.get(arg("id", ""))
                if machine is None or machine.gone_at is not None:
                    raise HttpError(404, "no such machine")
                ttl = float(arg("ttl", "0"))
                if ttl > 0:
                    machine.gone_at = time.monotonic() + ttl
                else:
                    del c.machines[machine.id]
                return True
            if path == "/_double/add-machine":
                mid = arg("id", "")
                if not re.fullmatch(r"[0-9a-f]{32}", mid):
                    raise HttpError(400, "id must be 32 hex digits")
                c.machines[mid] = Machine(mid, arg("ip", "127.0.0.1"),
                                          parse_metadata(arg("metadata", "")))
                return True
            if path == "/_double/starting":
                seconds = arg("seconds")
                c.starting_until = (float("inf") if seconds is None else
                                    (time.monotonic() + float(seconds)) if float(seconds) > 0
                                    else None)
                return True
            if path == "/_double/etcd-down":
                c.etcd_down = arg("on", "true") == "true"
                return True
        raise HttpError(404, "unknown control endpoint")


class RawJson:
    """A body already in its wire form (the discovery document, served verbatim)."""

    def __init__(self, text):
        self.text = text


def check_content_type(headers):
    values = headers.get_all("Content-Type") or []
    if len(values) != 1:
        raise HttpError(415, "expected 1 Content-Type, got %d" % len(values))
    if values[0].split(";")[0].strip().lower() != "application/json":
        raise HttpError(415, "only acceptable Content-Type is application/json")


def parse_metadata(text):
    md = {}
    for pair in filter(None, text.replace(";", ",").split(",")):
        key, _, value = pair.partition("=")
        md[key] = value
    return md


def parse_machine(spec):
    """"ID,IP,k=v;k=v" (IP and metadata optional)."""
    parts = spec.split(",", 2)
    mid = parts[0]
    if not re.fullmatch(r"[0-9a-f]{32}", mid):
        raise ValueError("machine id %r is not 32 hex digits" % mid)
    ip = parts[1] if len(parts) > 1 and parts[1] else "127.0.0.1"
    return Machine(mid, ip, parse_metadata(parts[2] if len(parts) > 2 else ""))


# --------------------------------------------------------------------------------------------
# HTTP
# --------------------------------------------------------------------------------------------


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive, as libcurl and Go's client reuse connections
    api = None  # set by main()
    quiet = False

    def do_GET(self):
        self.dispatch()

    do_PUT = do_DELETE = do_POST = do_PATCH = do_HEAD = do_OPTIONS = do_GET

    def address_string(self):
        return "unix" if not isinstance(self.client_address, tuple) else self.client_address[0]

    def log_message(self, fmt, *args):
        if not self.quiet:
            sys.stderr.write("fleet-double: %s\n" % (fmt % args))

    def dispatch(self):
        raw_path, _, raw_query = self.path.partition("?")
        query = parse_qs(raw_query, keep_blank_values=True)
        body = read_body(self)
        api = self.api
        if raw_path.startswith("/_double/"):
            try:
                self.send_json(200, go_json(api.control(self.command, raw_path, query)), True)
            except HttpError as e:
                self.send_error_json(e)
            return
        cluster = api.cluster
        if api.cfg.latency > 0:
            time.sleep(api.cfg.latency)  # a network between client and fleetd (a tunnel, a WAN)
        with cluster.lock:
            key = "%s %s" % (self.command, unquote(raw_path))
            cluster.requests[key] = cluster.requests.get(key, 0) + 1
            cluster.total_requests += 1
        try:
            reply = api.handle(self.command, unquote(raw_path), query, self.headers, body)
        except Hangup:
            self.log_message("%s %s: no answer (fleetd's handler panics here)", self.command,
                             self.path)
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        except HttpError as e:
            self.send_error_json(e)
            return
        except Exception as e:  # noqa: BLE001 - a bug in the double: say so, keep serving
            traceback.print_exc()
            self.send_error_json(HttpError(500, "fleet double: internal error: %r" % e))
            return
        if reply.body is None:
            self.send_empty(reply.status, reply.content_type)
        elif isinstance(reply.body, RawJson):
            self.send_json(reply.status, reply.body.text, True)
        else:
            self.send_json(reply.status, go_json(reply.body), True)

    def start(self, status, server=True):
        self.log_request(status)
        self.send_response_only(status)
        if server:
            self.send_header("Server", SERVER_VERSION)
        self.send_header("Date", self.date_time_string())

    def send_error_json(self, e):
        body = go_json({"error": {"code": e.status, "message": e.message}}).encode()
        self.log_request(e.status)
        self.send_response_only(e.status)
        self.send_header("Content-Type", "application/json")
        if e.status != 503:  # the 503 comes before fleetd's own server is up: no Server header
            self.send_header("Server", SERVER_VERSION)
        self.send_header("Date", self.date_time_string())
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.write(body)

    def send_empty(self, status, content_type):
        self.log_request(status)
        self.send_response_only(status)
        if content_type:
            self.send_header("Content-Type", "application/json")
        self.send_header("Server", SERVER_VERSION)
        self.send_header("Date", self.date_time_string())
        if status != 204:
            self.send_header("Content-Length", "0")
        self.end_headers()

    def send_json(self, status, text, _content_type):
        body = text.encode()
        self.log_request(status)
        self.send_response_only(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Server", SERVER_VERSION)
        self.send_header("Date", self.date_time_string())
        if len(body) <= GO_BUFFER:
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.write(body)
            return
        self.send_header("Transfer-Encoding", "chunked")
        self.end_headers()
        for at in range(0, len(body), GO_BUFFER):
            piece = body[at:at + GO_BUFFER]
            self.write(b"%x\r\n%s\r\n" % (len(piece), piece))
        self.write(b"0\r\n\r\n")

    def write(self, data):
        try:
            self.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):
            self.close_connection = True


class UnixServer(socketserver.ThreadingMixIn, socketserver.UnixStreamServer):
    daemon_threads = True
    request_queue_size = 128


def timers(cluster, config):
    """Background thread: the engine's and the agents' reconcile passes."""
    while True:
        time.sleep(config.tick)
        cluster.tick(time.monotonic())


def main(argv=None):
    here = os.path.dirname(os.path.abspath(__file__))
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--port", type=int, default=None, help="TCP port on 127.0.0.1 (0 = pick one)")
    p.add_argument("--unix", default=None, help="listen on this unix socket instead")
    p.add_argument("--machine", action="append", default=None,
                   help="ID,IP,k=v;k=v - a machine (repeat; default: the fixtures' two)")
    p.add_argument("--machines", type=int, default=None,
                   help="N machines with generated IDs and metadata role=web (instead)")
    p.add_argument("--token-limit", type=int, default=100, help="page size (fleetd: 100)")
    p.add_argument("--engine-interval", type=float, default=0.05,
                   help="seconds between scheduling passes (fleetd: 2)")
    p.add_argument("--agent-delay", type=float, default=0.05,
                   help="seconds an agent takes per step of a unit (fleetd: ~1-5)")
    p.add_argument("--start-delay", type=float, default=0.1,
                   help="seconds systemd takes from activating to running")
    p.add_argument("--stop-delay", type=float, default=0.05,
                   help="seconds systemd takes from running to dead")
    p.add_argument("--state-ttl", type=float, default=0.3,
                   help="seconds an unloaded unit's /state entry lingers (fleetd: 8-10)")
    p.add_argument("--etcd-request-timeout", type=float, default=1.0)
    p.add_argument("--latency", type=float, default=0.0,
                   help="seconds added to every API answer, as a network round trip would")
    p.add_argument("--tick", type=float, default=0.01, help="seconds between timer passes")
    p.add_argument("--discovery", default=os.path.join(here, "..", "fixtures", "fleet-api",
                                                        "01-discovery.json"),
                   help="the recorded exchange whose body is the discovery document")
    p.add_argument("--quiet", action="store_true", help="do not log requests to stderr")
    config = p.parse_args(argv)
    if config.port is None and config.unix is None:
        p.error("give --port, --unix or both")
    try:
        if config.machines is not None:
            machines = [Machine("%032x" % (i + 1), "127.0.0.%d" % (i + 1), {"role": "web"})
                        for i in range(config.machines)]
        else:
            machines = [parse_machine(s) for s in (config.machine or DEFAULT_MACHINES)]
    except ValueError as e:
        p.error(str(e))

    cluster = Cluster(config, machines)
    Handler.api = Api(cluster, config)
    Handler.quiet = config.quiet
    servers = []
    if config.port is not None:
        ThreadingHTTPServer.request_queue_size = 128
        tcp = ThreadingHTTPServer(("127.0.0.1", config.port), Handler)
        tcp.daemon_threads = True
        servers.append((tcp, "127.0.0.1:%d" % tcp.server_address[1]))
    if config.unix:
        if os.path.exists(config.unix):
            os.unlink(config.unix)
        servers.append((UnixServer(config.unix, Handler), "unix:%s" % config.unix))
    threading.Thread(target=timers, args=(cluster, config), daemon=True).start()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    for _, where in servers:
        print("listening %s" % where, flush=True)
    for server, _ in servers[1:]:
        threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.2},
                         daemon=True).start()
    try:
        servers[0][0].serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        for server, _ in servers:
            server.server_close()
        if config.unix and os.path.exists(config.unix):
            os.unlink(config.unix)


if __name__ == "__main__":
    main()
