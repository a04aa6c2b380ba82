#!/usr/bin/env python3
"""Contract test: replays the recorded fleet fixtures against the fleet double.

The NN-*.json exchanges were recorded in order by one script against a real 2-machine fleet
cluster; they are replayed in the same order against one double, with the few steps the
recording script took between them and did not record (waiting for the cluster to converge,
clearing units before the paging cases, freezing etcd, restarting fleetd) done through the
double's control endpoints. Every answer must match the recording: status; JSON bodies field by
field (no field missing or extra, same values); error bodies byte for byte; which headers are
present (Content-Type, Server, Content-Length or chunked). Machine IDs are the one thing a new
recording changes ("which machine a unit lands on"), so the test learns how the double's
placement maps onto the recorded one and holds it to that mapping for the rest of the run.
The NN-timeline-*.json cases re-run the action and poll like the recorder did: the sequence of
states the double goes through must contain the recorded one, and end where it ended. The
fleetctl-NN-*.json captures are replayed request by request on a fresh double, the way
fleetctl sent them. A fixture the test does not know how to replay fails.

Usage: fleet_contract_test.py --fixtures DIR [unittest options]
"""

import json
import os
import re
import sys
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean when ctest runs us
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from double_common import json_type  # noqa: E402
from fleet_harness import Double, eventually, option, service  # noqa: E402

FIXTURES = None  # set in main()
MACHINES = ("11111111111111111111111111111111", "22222222222222222222222222222222")
POLL = 0.02
# Slower than the double's defaults, so that the first poll after an action still sees the state
# before it, as the recorder's did (fleet's agents take seconds).
TIMING = ["--engine-interval", "0.1", "--agent-delay", "0.15", "--start-delay", "0.15",
          "--stop-delay", "0.15", "--state-ttl", "0.5"]

# Fixtures recorded while the cluster was converged: wait for the double to settle first.
SETTLE_BEFORE = {14, 19, 20, 21, 22, 23, 24, 25, 27, 32, 53, 79}


def load(name):
    with open(os.path.join(FIXTURES, name), encoding="utf-8") as f:
        return json.load(f)


class Machines:
    """The learned correspondence between recorded and actual machine IDs (a bijection)."""

    def __init__(self):
        self.to_actual = {}

    def actual(self, recorded):
        return self.to_actual.get(recorded, recorded)

    def learn(self, recorded, actual, problems, where):
        known = self.to_actual.get(recorded)
        if known is None:
            if actual in self.to_actual.values():
                problems.append("%s: machine %s already stands for another recorded machine"
                                % (where, actual[:8]))
                return
            self.to_actual[recorded] = actual
            # two machines: one pair decides the other
            if recorded in MACHINES and actual in MACHINES and len(self.to_actual) == 1:
                other_r = [m for m in MACHINES if m != recorded][0]
                other_a = [m for m in MACHINES if m != actual][0]
                self.to_actual[other_r] = other_a
        elif known != actual:
            problems.append("%s: recorded machine %s is %s in this run, but %s here"
                            % (where, recorded[:8], known[:8], actual[:8]))

    def translate_path(self, path):
        # every id at once: a swap must not turn the first replacement back
        return re.sub(r"[0-9a-f]{32}", lambda m: self.actual(m.group(0)), path)


def compare(expected, actual, path, problems, machines):
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
            if k == "machineID" and isinstance(expected[k], str):
                machines.learn(expected[k], actual[k], problems, path)
                continue
            exp, act = expected[k], actual[k]
            if k == "states" and isinstance(exp, list) and isinstance(act, list):
                # one entry per unit per machine, sorted by name: a global unit's entries come
                # in machine order, which the mapping may turn around
                key = lambda e, tr: (e.get("name"), tr(e.get("machineID", "")))  # noqa: E731
                exp = sorted(exp, key=lambda e: key(e, machines.actual))
                act = sorted(act, key=lambda e: key(e, lambda m: m))
            compare(exp, act, "%s.%s" % (path, k), problems, machines)
    elif isinstance(expected, list):
        if len(expected) != len(actual):
            problems.append("%s: %d elements expected, got %d" % (path, len(expected),
                                                                   len(actual)))
            return
        for i, (exp, act) in enumerate(zip(expected, actual)):
            compare(exp, act, "%s[%d]" % (path, i), problems, machines)
    elif expected != actual:
        problems.append("%s: %r expected, got %r" % (path, expected, actual))


def response_problems(recorded, resp, machines):
    """Everything in which the double's `resp` differs from the recorded response."""
    problems = []
    if recorded["status"] == 0:
        if resp.status != 0:
            problems.append("fleetd closed the connection without an answer; got %r" % resp)
        return problems
    if resp.status != recorded["status"]:
        return ["status %d expected, got %r" % (recorded["status"], resp)]
    names = {name.lower(): value for name, value in recorded["headers"]}
    for name in ("content-type", "server", "transfer-encoding"):
        want, got = names.get(name), resp.header(name)
        if (want is None) != (got is None):
            problems.append("header %s: %r expected, got %r" % (name, want, got))
        elif name == "content-type" and want != got:
            problems.append("Content-Type %r expected, got %r" % (want, got))
    if ("content-length" in names) != (resp.header("Content-Length") is not None):
        problems.append("Content-Length %s expected" % ("a" if "content-length" in names
                                                        else "no"))
    body = recorded["body"]
    if "body_json" in recorded and not recorded["body_json"].get("error"):
        try:
            actual = resp.json()
        except ValueError as e:
            problems.append("body is not JSON (%s): %r" % (e, resp.body[:300]))
        else:
            compare(recorded["body_json"], actual, "$", problems, machines)
    elif resp.body != body.encode():
        problems.append("body %r expected, got %r" % (body[:300], resp.body[:300]))
    return problems


def replay(double, request, machines):
    headers = {k: v for k, v in request["headers"].items()
               if k.lower() not in ("host", "content-length")}
    body = request.get("body")
    return double.request(request["method"], machines.translate_path(request["path"]),
                          body.encode() if body is not None else None, headers)


# --- the steps the recording script took between fixtures ------------------------------------


def before(number, double):
    if number in SETTLE_BEFORE:
        double.settle()
    if number == 81:
        # the paging cases ran on a cluster holding exactly 101 units
        double.control("purge?unit=*")
        for i in range(101):
            double.put_unit("page-%03d.service" % i,
                            [option("Service", "ExecStart", "/bin/true")], "inactive")
    if number == 89:
        double.control("etcd-down?on=true")
    if number == 92:
        double.control("etcd-down?on=false")
        double.control("starting")


def after(number, double):
    if number == 92:
        double.control("starting?seconds=0")


# --- timelines -----------------------------------------------------------------------------

TEMPLATE = service("hello %i", option("X-Fleet", "Conflicts", "hello@*.service"))
REPLACED = service("hello %i, replaced", option("X-Fleet", "Conflicts", "hello@*.service"))

TIMELINES = {
    "13-timeline-launch-instance.json": ("PUT", "hello@1.service", {"desiredState": "launched"}),
    "30-timeline-replace-options.json": ("PUT", "hello@2.service",
                                         {"desiredState": "launched", "options": REPLACED}),
    "75-timeline-stop-to-loaded.json": ("PUT", "hello@1.service", {"desiredState": "loaded"}),
    "76-timeline-unload-to-inactive.json": ("PUT", "hello@1.service",
                                            {"desiredState": "inactive"}),
    "80-timeline-destroy-launched.json": ("DELETE", "hello@2.service", None),
}


def observe(double, name, fields):
    """One observation in the recorder's shape."""
    out = {}
    if "unit" in fields:
        resp = double.request("GET", "/fleet/v1/units/" + name)
        unit = resp.json() if resp.status == 200 else {}
        out["unit"] = {k: unit.get(k) for k in ("desiredState", "currentState", "machineID")}
    if "state" in fields:
        states = double.get_json("/fleet/v1/state?unitName=" + name).get("states", [])
        out["state"] = ["%s %s %s/%s/%s" % (s["machineID"][:8], s["hash"][:7],
                                            s["systemdLoadState"], s["systemdActiveState"],
                                            s["systemdSubState"]) for s in states]
    if "hello@3" in fields:
        unit = double.get_json("/fleet/v1/units/hello@3.service")
        out["hello@3"] = {k: unit.get(k) for k in ("desiredState", "currentState", "machineID")}
    return out


def series(observations, extract):
    """The values of one field through the observations, consecutive repeats dropped."""
    out = []
    for o in observations:
        value = extract(o)
        if not out or out[-1] != value:
            out.append(value)
    return out


def is_subsequence(needle, haystack):
    it = iter(haystack)
    return all(any(n == h for h in it) for n in needle)


def timeline_problems(name, recorded, double, machines):
    method, unit, body = TIMELINES[name]
    first = recorded["observations"][0]["observed"]
    fields = set(first)
    # What holds just before the action counts as seen: on a loaded machine the double may
    # move on before the first poll after it, which the recorder's 0.01 s poll never missed.
    seen = [observe(double, unit, fields)]
    resp = double.request(method, "/fleet/v1/units/" + unit, body)
    want_status = int(recorded["action"].split()[1])
    if resp.status != want_status:
        return ["the action answered %r, %d recorded" % (resp, want_status)]
    deadline = time.monotonic() + 20
    settled_since = None
    while time.monotonic() < deadline:
        o = observe(double, unit, fields)
        if not seen or seen[-1] != o:
            seen.append(o)
        if double.control("settled", "GET"):
            settled_since = settled_since or time.monotonic()
            if time.monotonic() - settled_since > 0.2:
                break
        else:
            settled_since = None
        time.sleep(POLL)
    problems = []

    def machine(value):
        return None if value is None else machines.actual(value)

    def state_text(entries, hashes):
        out = []
        for entry in entries:
            m, h, rest = entry.split(" ")
            full = next((x for x in MACHINES if x.startswith(m)), m)
            out.append("%s %s %s" % (machines.actual(full)[:8], hashes.get(h, h), rest))
        return sorted(out)

    recorded_obs = [o["observed"] for o in recorded["observations"]]
    for key in ("unit", "hello@3"):
        if key in fields and recorded_obs[-1][key]["machineID"] and seen[-1][key]["machineID"]:
            machines.learn(recorded_obs[-1][key]["machineID"], seen[-1][key]["machineID"],
                           problems, key)
    # a replaced unit's new hash depends on options the recording does not keep: name it "new"
    hashes_r, hashes_a = {}, {}
    if name.startswith("30-"):
        for obs, table in ((recorded_obs, hashes_r), (seen, hashes_a)):
            for o in obs:
                for entry in o.get("state", []):
                    h = entry.split(" ")[1]
                    if h != "3bc7f66":
                        table.setdefault(h, "new")
    checks = []
    for key in sorted(fields):
        if key in ("unit", "hello@3"):
            for f in ("desiredState", "currentState", "machineID"):
                convert = machine if f == "machineID" else (lambda v: v)
                want = [convert(v) for v in series(recorded_obs, lambda o, k=key, f=f: o[k][f])]
                got = series(seen, lambda o, k=key, f=f: o[k][f])
                checks.append(("%s.%s" % (key, f), want, got))
        else:
            want = series(recorded_obs, lambda o: tuple(state_text(o["state"], hashes_r)))
            got = series(seen, lambda o: tuple(sorted(
                "%s %s %s" % (e.split(" ")[0], hashes_a.get(e.split(" ")[1], e.split(" ")[1]),
                              e.split(" ")[2]) for e in o["state"])))
            checks.append((key, want, got))
    for label, want, got in checks:
        if not is_subsequence(want, got):
            problems.append("%s went %s; recorded %s" % (label, got, want))
        elif want[-1] != got[-1]:
            problems.append("%s ended at %r; recorded %r" % (label, got[-1], want[-1]))
    return problems


# --- fleetctl's captures -------------------------------------------------------------------


def fleetctl_problems(name, capture, double, machines):
    """Replays what fleetctl sent. A run of identical GETs is fleetctl polling: the double must
    come to the last recorded answer of the run within a few seconds."""
    exchanges = capture["exchanges"]
    problems = []
    i = 0
    while i < len(exchanges):
        request = exchanges[i]["request"]
        j = i
        while (j + 1 < len(exchanges) and request["method"] == "GET"
               and exchanges[j + 1]["request"]["method"] == "GET"
               and exchanges[j + 1]["request"]["path"] == request["path"]):
            j += 1
        recorded = exchanges[j]["response"]
        if "body_json" not in recorded and recorded.get("body", "").startswith(("{", "[")):
            recorded = dict(recorded, body_json=json.loads(recorded["body"]))
        last = []

        def matches():
            last[:] = response_problems(recorded, replay(double, request, machines), Machines())
            return not last

        if j > i:
            eventually(matches, timeout=10, step=0.05)
        else:
            last[:] = response_problems(recorded, replay(double, request, machines), machines)
        if last:
            problems.append("%s %s: %s" % (request["method"], request["path"], "; ".join(last)))
        i = j + 1
    return problems


class Contract(unittest.TestCase):

    def test_exchanges_in_recorded_order(self):
        machines = Machines()
        names = sorted(n for n in os.listdir(FIXTURES) if n[:2].isdigit() and n.endswith(".json"))
        self.assertGreaterEqual(len(names), 92, "the fleet fixtures are incomplete")
        with Double(*TIMING) as double:
            for name in names:
                number = int(name[:2])
                with self.subTest(fixture=name):
                    fixture = load(name)
                    before(number, double)
                    if "observations" in fixture:
                        self.assertIn(name, TIMELINES, "no replay known for this timeline")
                        problems = timeline_problems(name, fixture, double, machines)
                    else:
                        resp = replay(double, fixture["request"], machines)
                        problems = response_problems(fixture["response"], resp, machines)
                    after(number, double)
                    if problems and "observations" not in fixture:
                        problems.append("sent %s %s, machines %s" % (
                            fixture["request"]["method"],
                            machines.translate_path(fixture["request"]["path"]),
                            machines.to_actual))
                        problems.append("got %s" % resp.body[:1500])
                    self.assertEqual(problems, [], "\n" + "\n".join(problems))

    def test_fleetctl_request_sequences(self):
        names = sorted(n for n in os.listdir(FIXTURES) if n.startswith("fleetctl-"))
        self.assertEqual(len(names), 11, "the fleetctl captures are incomplete")
        machines = Machines()
        with Double(*TIMING) as double:
            double.put_unit("hello@.service", TEMPLATE, "inactive")  # fleetctl-01 submits it
            double.request("DELETE", "/fleet/v1/units/hello@.service")
            for name in names:
                with self.subTest(capture=name):
                    capture = load(name)
                    problems = fleetctl_problems(name, capture, double, machines)
                    self.assertEqual(problems, [], "\n" + "\n".join(problems))
                    double.settle()


def main():
    global FIXTURES
    args = sys.argv[1:]
    if "--fixtures" in args:
        i = args.index("--fixtures")
        FIXTURES = args[i + 1]
        del args[i:i + 2]
    FIXTURES = FIXTURES or os.environ.get("HERALD_FLEET_FIXTURES")
    if not FIXTURES or not os.path.isdir(FIXTURES):
        sys.stderr.write("fleet contract test: no fixtures directory (--fixtures DIR)\n")
        sys.exit(2)
    unittest.main(argv=[sys.argv[0]] + args)


if __name__ == "__main__":
    main()
