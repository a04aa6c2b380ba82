#!/usr/bin/env python3
"""Contract test: replays the recorded Consul fixtures against the Consul double.

Every entry of tests/fixtures/consul-api/manifest.json (its "responses" and its "errors")
becomes one test. The double is brought into the manifest's scenario (web@1 passing, web@2
critical after its TTL expired, the KV keys, a held lock), the recorded request is sent, and
the answer must match the recording: status code; JSON field names, value types and values,
recursively (only values that differ per run - indexes, UUIDs - are exempt; no field may be
missing or extra); the recorded headers; empty bodies without Content-Type; error texts. A
fixture the test does not know how to replay fails, so new fixtures cannot be skipped silently.

Usage: consul_contract_test.py [--fixtures DIR] [unittest options]
       DIR: HERALD_CONSUL_FIXTURES, or else tests/fixtures/consul-api/ of this checkout
"""

import json
import os
import re
import sys
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean when ctest runs us
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from consul_harness import Double, eventually, ttl_service  # noqa: E402
from double_common import json_type  # noqa: E402

FIXTURES = None  # set in main()
MANIFEST = None

# The scenario's node: the fixtures were recorded on node1 (10.0.0.11) in dc1.
SCENARIO_ARGS = ["--node-name", "node1", "--node-address", "10.0.0.11", "--datacenter", "dc1"]
LOCK_FLAGS = 3304740253564472344

# Which state each recorded response needs: "setup" responses are the scenario's own writes,
# "read" ones run against the shared scenario, "write" ones each on a fresh scenario.
PHASES = {
    "agent-service-register": "setup", "agent-check-pass": "setup", "kv-put": "setup",
    "agent-services": "read", "agent-checks": "read", "catalog-services": "read",
    "catalog-service-web": "read", "catalog-service-unknown": "read",
    "health-service-web": "read", "health-service-web-passing": "read",
    "health-service-web-blocking-timeout": "read", "health-service-unknown": "read",
    "health-checks-web": "read", "kv-get": "read", "kv-get-raw": "read",
    "kv-get-missing": "read", "kv-get-recurse": "read", "kv-get-locked": "read",
    "kv-keys": "read", "kv-keys-separator": "read", "status-leader": "read",
    "status-peers": "read",
    "agent-service-register-multi-check": "write", "agent-service-deregister": "write",
    "agent-check-update": "write", "kv-put-cas-failed": "write", "kv-delete": "write",
    "kv-keys-root-empty": "empty-store", "status-leader-none": "no-leader",
}

# Fields whose values are naturally per run; their type and presence are still checked.
PER_RUN_FIELDS = {"CreateIndex", "ModifyIndex", "Session"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
# A three-server cluster was recorded; the double is one server.
LENGTH_MAY_DIFFER = {("status-peers", "$")}
BLOCKING_WAIT = 1.0  # seconds; the recording waited 30s


def compare(name, expected, actual, path, problems, key=None):
    """Appends to `problems` every way `actual` differs from the recorded `expected`."""
    if json_type(expected) != json_type(actual):
        problems.append("%s: %s expected, got %s (%r)" % (path, json_type(expected),
                                                          json_type(actual), actual))
        return
    if isinstance(expected, dict):
        for k in sorted(expected.keys() - actual.keys()):
            problems.append("%s: field %r missing" % (path, k))
        for k in sorted(actual.keys() - expected.keys()):
            problems.append("%s: field %r not in the recording" % (path, k))
        for k in sorted(expected.keys() & actual.keys()):
            compare(name, expected[k], actual[k], "%s.%s" % (path, k), problems, k)
    elif isinstance(expected, list):
        if len(expected) != len(actual) and (name, path) not in LENGTH_MAY_DIFFER:
            problems.append("%s: %d elements expected, got %d" % (path, len(expected),
                                                                   len(actual)))
            return
        if actual and not expected:
            problems.append("%s: [] expected" % path)
            return
        for i, item in enumerate(actual):
            compare(name, expected[min(i, len(expected) - 1)], item, "%s[%d]" % (path, i),
                    problems)
    elif key in PER_RUN_FIELDS:
        pass
    elif key == "ID" and UUID.fullmatch(str(expected)) and UUID.fullmatch(str(actual)):
        pass  # node IDs are generated per run
    elif expected != actual:
        problems.append("%s: %r expected, got %r" % (path, expected, actual))


def fixture_request(entry, query=None):
    """(method, path with query, body bytes) of a recorded request; `query` overrides it."""
    r = entry["request"]
    q = r.get("query", "") if query is None else query
    body = None
    if "body_file" in r:
        with open(os.path.join(FIXTURES, r["body_file"]), "rb") as f:
            body = f.read()
    elif "body" in r:
        body = r["body"].encode()
    return r["method"], r["path"] + ("?" + q if q else ""), body


def replay(double, entry, query=None):
    method, path, body = fixture_request(entry, query)
    return double.request(method, path, body)


def response_problems(entry, resp):
    """Everything in which `resp` differs from the recorded response `entry`."""
    problems = []
    if resp.status != entry["status"]:
        problems.append("status %d expected, got %d (%r)" % (entry["status"], resp.status,
                                                             resp.body[:300]))
        return problems
    if "body_file" in entry:
        with open(os.path.join(FIXTURES, entry["body_file"]), encoding="utf-8") as f:
            expected = json.load(f)
        try:
            actual = resp.json()
        except ValueError as e:
            problems.append("body is not JSON (%s): %r" % (e, resp.body[:300]))
        else:
            compare(entry["name"], expected, actual, "$", problems)
    elif "body" in entry and resp.body != entry["body"].encode():
        problems.append("body %r expected, got %r" % (entry["body"], resp.body[:300]))
    headers = entry.get("headers", {})
    for name, value in headers.items():
        got = resp.header(name)
        if got is None:
            problems.append("header %s missing" % name)
        elif name.lower() == "x-consul-index":
            if not got.isdigit() or int(got) < 1:
                problems.append("X-Consul-Index %r is not an index >= 1" % got)
        elif got != value:
            problems.append("header %s: %r expected, got %r" % (name, value, got))
    if entry.get("body") == "" and "Content-Type" not in headers and resp.header("Content-Type"):
        problems.append("an empty answer must have no Content-Type, got %r"
                        % resp.header("Content-Type"))
    if "no X-Consul-Index" in entry.get("note", "") and resp.header("X-Consul-Index"):
        problems.append("not a blocking endpoint, yet X-Consul-Index is set")
    return problems


def build_scenario(d, record):
    """Brings a fresh double into the manifest's scenario; keeps the replayed setup answers."""
    resp = {e["name"]: e for e in MANIFEST["responses"]}
    record["agent-service-register"] = replay(d, resp["agent-service-register"])
    record["agent-check-pass"] = replay(d, resp["agent-check-pass"])
    d.put("/v1/agent/service/register", ttl_service("web@2", port=32769, ttl="300ms"))
    d.put("/v1/agent/check/pass/service:web@2?note=herald%3A%20ok")
    expired = eventually(lambda: d.get_json("/v1/agent/checks")["service:web@2"]["Status"]
                         == "critical", timeout=10)
    assert expired, "web@2's TTL check did not expire"
    d.put("/v1/kv/services/web/", b"")
    record["kv-put"] = replay(d, resp["kv-put"])
    d.put("/v1/kv/services/web/web@2", "10.0.0.11:32769")
    d.put("/v1/kv/services/clusters/web", "10.0.0.11:32768")
    session = d.put("/v1/session/create", {"Name": "herald-leader"}).json()["ID"]
    locked = d.put("/v1/kv/locks/herald/leader?acquire=%s&flags=%d" % (session, LOCK_FLAGS),
                   "node1").json()
    assert locked is True, "could not take the lock"


# --- what the fixture notes promise beyond the shape ----------------------------------------


def effects(name, d, resp, ctx):
    """Extra checks for fixtures whose note (or nature) says more than the body does."""
    problems = []
    if name == "kv-get":
        if resp.index() != resp.json()[0]["ModifyIndex"]:
            problems.append("X-Consul-Index must be the key's ModifyIndex")
    elif name == "kv-get-missing":
        highest = max(e["ModifyIndex"] for e in d.get_json("/v1/kv/?recurse"))
        if resp.index() != highest:
            problems.append("a missing key must report the KV table index %d, got %d"
                            % (highest, resp.index()))
    elif name == "health-service-web-passing":
        unfiltered = d.request("GET", "/v1/health/service/web")
        if resp.index() != unfiltered.index():
            problems.append("?passing must report the unfiltered query's index")
        if [e["Service"]["ID"] for e in resp.json()] != ["web@1"]:
            problems.append("?passing must drop the critical web@2")
    elif name == "health-service-web-blocking-timeout":
        if resp.elapsed < BLOCKING_WAIT:
            problems.append("returned after %.2fs, before the %.1fs wait" % (resp.elapsed,
                                                                            BLOCKING_WAIT))
        if resp.index() != ctx["index"] or resp.json() != ctx["body"]:
            problems.append("a timed-out blocking query must return the same index and body")
    elif name == "kv-put":
        if d.request("GET", "/v1/kv/services/web/web@1?raw").body != b"10.0.0.11:32768":
            problems.append("the value was not stored")
    elif name == "agent-service-register-multi-check":
        checks = d.get_json("/v1/agent/checks")
        one, two = checks.get("service:web@3:1"), checks.get("service:web@3:2")
        if not one or (one["Type"], one["Status"], one["Name"]) != (
                "ttl", "critical", "Service 'web' check"):
            problems.append("service:web@3:1 should be a critical ttl check: %r" % (one,))
        if not two or (two["Type"], two["Interval"], two["Timeout"], two["Name"]) != (
                "http", "10s", "2s", "HTTP /health on 32770"):
            problems.append("service:web@3:2 should be the http check: %r" % (two,))
    elif name == "agent-service-deregister":
        if "web@1" in d.get_json("/v1/agent/services") or "service:web@1" in d.get_json(
                "/v1/agent/checks"):
            problems.append("web@1 and its check should be gone")
    elif name == "agent-check-update":
        chk = d.get_json("/v1/agent/checks")["service:web@1"]
        with open(os.path.join(FIXTURES, "agent-check-update.request.json")) as f:
            sent = json.load(f)
        if (chk["Status"], chk["Output"]) != (sent["Status"], sent["Output"]):
            problems.append("the update was not applied: %r" % chk)
    elif name == "kv-put-cas-failed":
        if d.get_json("/v1/kv/services/web/web@1")[0]["ModifyIndex"] != ctx["modify_index"]:
            problems.append("a failed CAS must not write")
    elif name == "kv-delete":
        if d.request("GET", "/v1/kv/services/web/?recurse").status != 404:
            problems.append("services/web/ should be empty")
        if d.request("GET", "/v1/kv/services/clusters/web").status != 200:
            problems.append("keys outside the prefix must stay")
    return problems


# --- the generated test cases ----------------------------------------------------------------


class Replays(unittest.TestCase):
    """Recorded responses replayed against the shared scenario (setup and read fixtures)."""

    double = None
    recorded = {}

    @classmethod
    def setUpClass(cls):
        cls.double = Double(*SCENARIO_ARGS)
        cls.recorded = {}
        try:
            build_scenario(cls.double, cls.recorded)
        except Exception:
            cls.double.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.double.stop()

    def setUp(self):
        # Keep web@1 (TTL 15s) passing however slowly the tests run; an unchanged pass does not
        # touch the catalog.
        self.double.put("/v1/agent/check/pass/service:web@1?note=herald%3A%20ok")

    def check(self, entry):
        d, name, ctx = self.double, entry["name"], {}
        if name in self.recorded:
            resp = self.recorded[name]
        elif name == "health-service-web-blocking-timeout":
            first = d.request("GET", "/v1/health/service/web?passing")
            ctx = {"index": first.index(), "body": first.json()}
            resp = replay(d, entry, "passing&index=%d&wait=%gs" % (ctx["index"], BLOCKING_WAIT))
        else:
            resp = replay(d, entry)
        problems = response_problems(entry, resp)
        if not problems:
            problems = effects(name, d, resp, ctx)
        if problems:
            self.fail("%s %s:\n  %s" % (entry["request"]["method"], entry["request"]["path"],
                                        "\n  ".join(problems)))


class WriteReplays(unittest.TestCase):
    """Recorded writes, each on a fresh scenario so they cannot disturb one another."""

    def check(self, entry):
        with Double(*SCENARIO_ARGS) as d:
            build_scenario(d, {})
            name, ctx, query = entry["name"], {}, None
            if name == "kv-put-cas-failed":
                # The recording's cas=43 was stale there; use an index that is stale here.
                ctx["modify_index"] = d.get_json("/v1/kv/services/web/web@1")[0]["ModifyIndex"]
                query = "cas=%d" % (ctx["modify_index"] + 1)
            resp = replay(d, entry, query)
            problems = response_problems(entry, resp) or effects(name, d, resp, ctx)
            if problems:
                self.fail("%s %s:\n  %s" % (entry["request"]["method"],
                                            entry["request"]["path"], "\n  ".join(problems)))


class StateReplays(unittest.TestCase):
    """Recorded responses that need a particular cluster state."""

    def check(self, entry):
        with Double(*SCENARIO_ARGS) as d:
            if PHASES[entry["name"]] == "no-leader":
                d.put("/_double/leader?present=false")
            problems = response_problems(entry, replay(d, entry))
            if problems:
                self.fail("\n  ".join(problems))


# Recorded error answers. A request of the form "METHOD PATH [JSON]" is sent as written; the
# others are described in prose and replayed by these steps: (prepare, [requests]).
def _register_multi(d):
    with open(os.path.join(FIXTURES, "agent-service-register-multi-check.request.json"),
              "rb") as f:
        d.put("/v1/agent/service/register", f.read())


ERROR_STEPS = {
    "PUT /v1/agent/service/register (body: not JSON)":
        (None, [("PUT", "/v1/agent/service/register", b"this is { not json", {})]),
    "PUT /v1/agent/check/pass/service:web@3:2 (an HTTP check, not TTL)":
        (_register_multi, [("PUT", "/v1/agent/check/pass/service:web@3:2", None, {})]),
    "GET /v1/kv/ (no recurse, no keys)": (None, [("GET", "/v1/kv/", None, {})]),
    "PUT /v1/kv/a (body > kv_max_value_size, default 512 KiB)":
        (None, [("PUT", "/v1/kv/a", b"x" * 600000, {})]),
    "any request, ACLs on, token lacks the permission":
        ("acl", [("PUT", "/v1/agent/service/register", json.dumps(ttl_service("web@1")).encode(),
                  {"X-Consul-Token": "read-only-token"}),
                 ("PUT", "/v1/agent/service/register", json.dumps(ttl_service("web@1")).encode(),
                  {}),
                 ("PUT", "/v1/kv/services/web/web@1", b"v",
                  {"X-Consul-Token": "read-only-token"})]),
    "any request, ACLs on, unknown X-Consul-Token":
        ("acl", [("GET", "/v1/agent/services", None, {"X-Consul-Token": "no-such-token"}),
                 ("GET", "/v1/health/service/web?token=no-such-token", None, {}),
                 ("PUT", "/v1/kv/a", b"v", {"Authorization": "Bearer no-such-token"})]),
    "catalog/health/kv read while the cluster has no leader":
        ("no-leader", [("GET", "/v1/catalog/services", None, {}),
                       ("GET", "/v1/health/service/web", None, {}),
                       ("GET", "/v1/kv/services/web/web@1", None, {})]),
}


def error_steps(text):
    if text in ERROR_STEPS:
        return ERROR_STEPS[text]
    m = re.fullmatch(r"(GET|PUT|DELETE) (\S+)(?: (\{.*\}))?", text)
    if not m:
        return None
    return None, [(m.group(1), m.group(2), m.group(3).encode() if m.group(3) else None, {})]


class ErrorReplays(unittest.TestCase):
    """Recorded error answers: status, exact text (or its prefix), plain text, headers."""

    double = None

    @classmethod
    def setUpClass(cls):
        cls.double = Double(*SCENARIO_ARGS)
        try:
            build_scenario(cls.double, {})
        except Exception:
            cls.double.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.double.stop()

    def check(self, entry):
        prepare, requests = error_steps(entry["request"])
        if prepare == "acl":
            d = Double(*SCENARIO_ARGS, "--acl-token", "management-token",
                       "--acl-read-token", "read-only-token")
        elif prepare == "no-leader":
            d = Double(*SCENARIO_ARGS)
            d.put("/_double/leader?present=false")
        else:
            d = self.double
            if prepare:
                prepare(d)
        try:
            for method, path, body, headers in requests:
                with self.subTest(request="%s %s" % (method, path)):
                    resp = d.request(method, path, body, headers)
                    self.assertEqual(problems_of_error(entry, resp), [])
        finally:
            if d is not self.double:
                d.stop()


def problems_of_error(entry, resp):
    problems = []
    text = resp.body.decode("utf-8", errors="replace")
    if resp.status != entry["status"]:
        problems.append("status %d expected, got %d (%r)" % (entry["status"], resp.status, text))
    if "body" in entry and text != entry["body"]:
        problems.append("body %r expected, got %r" % (entry["body"], text))
    if "body_prefix" in entry and not text.startswith(entry["body_prefix"]):
        problems.append("body starting %r expected, got %r" % (entry["body_prefix"], text))
    if "body_contains" in entry and entry["body_contains"] not in text:
        problems.append("body containing %r expected, got %r" % (entry["body_contains"], text))
    ctype = resp.header("Content-Type")
    if text and ctype != entry.get("content_type", "text/plain; charset=utf-8"):
        problems.append("errors are plain text; Content-Type %r" % ctype)
    if not text and ctype:
        problems.append("an empty answer must have no Content-Type, got %r" % ctype)
    for name, value in entry.get("headers", {}).items():
        if resp.header(name) != value:
            problems.append("header %s: %r expected, got %r" % (name, value, resp.header(name)))
    return problems


class Coverage(unittest.TestCase):
    """Fixtures the test cannot replay fail here instead of being skipped."""

    uncovered = []

    def test_every_fixture_is_replayed(self):
        self.assertEqual(self.uncovered, [])


def slug(text):
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")[:60]


def generate_tests():
    """One test method per manifest entry, on the class whose state it needs."""
    classes = {"setup": Replays, "read": Replays, "write": WriteReplays,
               "empty-store": StateReplays, "no-leader": StateReplays}
    for entry in MANIFEST["responses"]:
        phase = PHASES.get(entry["name"])
        if phase is None:
            Coverage.uncovered.append(entry["name"])
            continue
        cls = classes[phase]
        setattr(cls, "test_" + slug(entry["name"]),
                lambda self, e=entry: self.check(e))
    for i, entry in enumerate(MANIFEST["errors"]):
        if error_steps(entry["request"]) is None:
            Coverage.uncovered.append(entry["request"])
            continue
        setattr(ErrorReplays, "test_%02d_%s" % (i, slug(entry["request"])),
                lambda self, e=entry: self.check(e))
    return len(MANIFEST["responses"]) + len(MANIFEST["errors"]) - len(Coverage.uncovered)


def main():
    global FIXTURES, MANIFEST
    argv = list(sys.argv)
    FIXTURES = os.environ.get("HERALD_CONSUL_FIXTURES") or os.path.join(
        os.path.dirname(os.path.abspath(__file__)), os.pardir, "fixtures", "consul-api")
    if "--fixtures" in argv:
        i = argv.index("--fixtures")
        FIXTURES = argv[i + 1]
        del argv[i:i + 2]
    if not FIXTURES or not os.path.isfile(os.path.join(FIXTURES, "manifest.json")):
        sys.exit("consul_contract_test: missing fixture %s (give --fixtures DIR or "
                 "HERALD_CONSUL_FIXTURES)" % os.path.join(FIXTURES or "", "manifest.json"))
    with open(os.path.join(FIXTURES, "manifest.json"), encoding="utf-8") as f:
        MANIFEST = json.load(f)
    covered = generate_tests()
    print("consul contract: %d of %d recorded fixtures replayed (%d responses, %d errors)"
          % (covered, len(MANIFEST["responses"]) + len(MANIFEST["errors"]),
             len(MANIFEST["responses"]), len(MANIFEST["errors"])), flush=True)
    unittest.main(argv=argv, verbosity=2)


if __name__ == "__main__":
    main()
