#!/usr/bin/env python3
"""Behaviour of the fleet double beyond the recorded fixtures: what herald's unit commands rely
on (scheduling constraints, systemd states over time, failures, lost machines, the 503 of a
starting fleetd, a unix socket), checked with plain HTTP."""

import os
import sys
import tempfile
import unittest

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from fleet_harness import Double, eventually, option, service  # noqa: E402

M1 = "11111111111111111111111111111111"
M2 = "22222222222222222222222222222222"
M3 = "33333333333333333333333333333333"
THREE = ["--machine", M1 + ",10.0.0.1,role=web", "--machine", M2 + ",10.0.0.2,role=web",
         "--machine", M3 + ",10.0.0.3,role=router"]


def unit(double, name):
    return double.get_json("/fleet/v1/units/" + name)


def states(double, name=None):
    path = "/fleet/v1/state" + ("?unitName=" + name if name else "")
    return double.get_json(path).get("states", [])


def running(double, name):
    return [s["machineID"] for s in states(double, name)
            if (s["systemdActiveState"], s["systemdSubState"]) == ("active", "running")]


class Scheduling(unittest.TestCase):

    def setUp(self):
        self.d = Double(*THREE)

    def tearDown(self):
        self.d.stop()

    def test_conflicts_spread_instances_and_leave_the_extra_one_unscheduled(self):
        tmpl = service("web %i", option("X-Fleet", "Conflicts", "web@*.service"))
        for i in range(1, 5):
            self.d.put_unit("web@%d.service" % i, tmpl, "launched")
        self.d.settle()
        placed = [unit(self.d, "web@%d.service" % i).get("machineID") for i in range(1, 5)]
        self.assertEqual(len(set(p for p in placed if p)), 3)
        self.assertEqual(placed.count(None), 1)
        lost = "web@%d.service" % (placed.index(None) + 1)
        self.assertEqual(unit(self.d, lost)["currentState"], "inactive")
        self.assertEqual(states(self.d, lost), [])

    def test_machine_metadata_and_machine_id_pin_units(self):
        self.d.put_unit("router.service", service("r", option("X-Fleet", "MachineMetadata",
                                                                 "role=router")), "launched")
        self.d.put_unit("pinned.service", service("p", option("X-Fleet", "MachineID",
                                                                 M2[:8])), "launched")
        self.d.put_unit("nowhere.service", service("n", option("X-Fleet", "MachineMetadata",
                                                                  "role=db")), "launched")
        self.d.settle()
        self.assertEqual(running(self.d, "router.service"), [M3])
        self.assertEqual(running(self.d, "pinned.service"), [M2])
        self.assertNotIn("machineID", unit(self.d, "nowhere.service"))

    def test_machine_of_follows_the_peer_with_specifiers_expanded(self):
        self.d.put_unit("app@1.service", service("app"), "launched")
        self.d.put_unit("app-side@1.service", service("side", option(
            "X-Fleet", "MachineOf", "app@%i.service")), "launched")
        self.d.settle()
        self.assertEqual(running(self.d, "app-side@1.service"), running(self.d, "app@1.service"))

    def test_global_units_run_on_every_matching_machine(self):
        self.d.put_unit("everywhere.service", service("g", option("X-Fleet", "Global", "true")),
                        "launched")
        self.d.put_unit("webs.service", service("g", option("X-Fleet", "Global", "true"),
                                                option("X-Fleet", "MachineMetadata", "role=web")),
                        "launched")
        self.d.settle()
        self.assertEqual(sorted(running(self.d, "everywhere.service")), [M1, M2, M3])
        self.assertEqual(sorted(running(self.d, "webs.service")), [M1, M2])
        item = unit(self.d, "everywhere.service")
        self.assertNotIn("currentState", item)
        self.assertNotIn("machineID", item)

    def test_least_loaded_machine_wins(self):
        for i in range(6):
            self.d.put_unit("u%d.service" % i, service("u"), "launched")
        self.d.settle()
        per = {}
        for s in states(self.d):
            per[s["machineID"]] = per.get(s["machineID"], 0) + 1
        self.assertEqual(sorted(per.values()), [2, 2, 2])

    def test_a_lost_machine_takes_its_states_and_its_units_move(self):
        self.d.put_unit("a.service", service("a"), "launched")
        self.d.settle()
        first = unit(self.d, "a.service")["machineID"]
        self.d.control("lose-machine?id=" + first)
        self.d.settle()
        now = unit(self.d, "a.service")["machineID"]
        self.assertNotEqual(now, first)
        self.assertEqual(running(self.d, "a.service"), [now])
        ids = [m["id"] for m in self.d.get_json("/fleet/v1/machines")["machines"]]
        self.assertNotIn(first, ids)

    def test_a_lost_machine_looks_alive_until_its_ttl_then_its_units_move(self):
        self.d.put_unit("a.service", service("a"), "launched")
        self.d.put_unit("g.service", service("g", option("X-Fleet", "Global", "true")),
                        "launched")
        self.d.settle()
        first = unit(self.d, "a.service")["machineID"]
        self.d.control("lose-machine?id=%s&ttl=1" % first)
        # Within the TTL: still listed, its unit still placed there and reported running, the
        # Global unit's entry there too.
        ids = [m["id"] for m in self.d.get_json("/fleet/v1/machines")["machines"]]
        self.assertIn(first, ids)
        self.assertEqual(unit(self.d, "a.service")["machineID"], first)
        self.assertEqual(unit(self.d, "a.service")["currentState"], "launched")
        self.assertEqual(running(self.d, "a.service"), [first])
        self.assertIn(first, running(self.d, "g.service"))
        self.assertFalse(self.d.control("settled", "GET"))
        # Then it leaves: the unit runs elsewhere, the Global unit on the others only.
        self.assertTrue(eventually(
            lambda: first not in [m["id"] for m in
                                  self.d.get_json("/fleet/v1/machines")["machines"]],
            timeout=10))
        self.d.settle()
        now = unit(self.d, "a.service")["machineID"]
        self.assertNotEqual(now, first)
        self.assertEqual(running(self.d, "a.service"), [now])
        self.assertEqual(sorted(running(self.d, "g.service")), sorted(set([M1, M2, M3]) - {first}))
        self.assertEqual(self.d.request("POST", "/_double/lose-machine?id=" + first).status, 404)


class Lifecycle(unittest.TestCase):

    def setUp(self):
        self.d = Double("--start-delay", "0.3")

    def tearDown(self):
        self.d.stop()

    def test_launch_walks_through_loaded_and_activating_to_running(self):
        self.d.put_unit("a.service", service("a"), "launched")
        seen = []

        def watch():
            for s in states(self.d, "a.service"):
                key = (s["systemdLoadState"], s["systemdActiveState"], s["systemdSubState"])
                if not seen or seen[-1] != key:
                    seen.append(key)
            return seen and seen[-1] == ("loaded", "active", "running")

        self.assertTrue(eventually(watch, timeout=10, step=0.01))
        self.assertIn(("loaded", "activating", "start-pre"), seen)
        self.assertEqual(unit(self.d, "a.service")["currentState"], "launched")

    def test_stop_unload_and_destroy(self):
        self.d.put_unit("a.service", service("a"), "launched")
        self.d.settle()
        self.d.put_unit("a.service", None, "loaded")
        self.d.settle()
        [s] = states(self.d, "a.service")
        self.assertEqual((s["systemdActiveState"], s["systemdSubState"]), ("inactive", "dead"))
        self.assertEqual(unit(self.d, "a.service")["currentState"], "loaded")
        self.d.put_unit("a.service", None, "inactive")
        self.assertTrue(eventually(lambda: "machineID" not in unit(self.d, "a.service")))
        self.d.settle()
        self.assertEqual(states(self.d, "a.service"), [])
        self.d.put_unit("a.service", None, "launched")
        self.d.settle()
        self.assertEqual(self.d.request("DELETE", "/fleet/v1/units/a.service").status, 204)
        self.assertEqual(self.d.request("GET", "/fleet/v1/units/a.service").status, 404)
        self.assertTrue(states(self.d, "a.service"), "the state entry outlives the DELETE")
        self.d.settle()
        self.assertEqual(states(self.d, "a.service"), [])

    def test_replaced_options_restart_the_unit_with_the_new_hash(self):
        self.d.put_unit("a.service", service("a"), "launched")
        self.d.settle()
        [old] = states(self.d, "a.service")
        self.assertEqual(self.d.put_unit("a.service", service("b"), "launched").status, 201)
        self.d.settle()
        [new] = states(self.d, "a.service")
        self.assertNotEqual(old["hash"], new["hash"])
        self.assertEqual(new["systemdSubState"], "running")

    def test_a_failing_unit_reports_failed(self):
        self.d.control("fail?unit=bad@*")
        self.d.put_unit("bad@1.service", service("bad"), "launched")
        self.assertTrue(eventually(lambda: [(s["systemdActiveState"], s["systemdSubState"])
                                            for s in states(self.d, "bad@1.service")] ==
                                   [("failed", "failed")], timeout=10))
        self.d.put_unit("good.service", service("good"), "launched")
        self.d.settle()
        self.assertTrue(running(self.d, "good.service"))

    def test_a_running_unit_can_be_made_to_fail(self):
        self.d.put_unit("a.service", service("a"), "launched")
        self.d.settle()
        self.d.control("fail?unit=a.service")
        self.assertTrue(eventually(lambda: states(self.d, "a.service")[0]["systemdActiveState"]
                                   == "failed", timeout=10))

    def test_a_unit_told_never_to_start_stays_activating(self):
        self.d.control("never-start?unit=slow.service")
        self.d.put_unit("slow.service", service("s"), "launched")
        self.d.settle()
        [s] = states(self.d, "slow.service")
        self.assertEqual((s["systemdActiveState"], s["systemdSubState"]),
                         ("activating", "start-pre"))

    def watch_states(self, name, until, timeout=10):
        """The (active, sub) states `name` goes through, polled every 10 ms, until `until`
        of them is true (or `timeout`)."""
        seen = []

        def watch():
            for s in states(self.d, name):
                key = (s["systemdActiveState"], s["systemdSubState"])
                if not seen or seen[-1] != key:
                    seen.append(key)
            return until(seen)

        eventually(watch, timeout=timeout, step=0.01)
        return seen

    def test_a_crash_looping_unit_keeps_restarting_and_never_fails(self):
        self.d.control("crash-loop?unit=loop@*&seconds=0.1")
        self.d.put_unit("loop@1.service", service("loop"), "launched")
        seen = self.watch_states(
            "loop@1.service", lambda seen: seen.count(("activating", "auto-restart")) >= 3)
        self.assertGreaterEqual(seen.count(("activating", "auto-restart")), 3, seen)
        # never failed, never running: start-pre and auto-restart by turns (seen keeps a state
        # once per change, so three auto-restarts had other states between them)
        self.assertLessEqual(set(seen), {("inactive", "dead"), ("activating", "start-pre"),
                                         ("activating", "auto-restart")}, seen)
        self.assertEqual(unit(self.d, "loop@1.service")["currentState"], "launched")
        self.assertFalse(self.d.control("settled", "GET"))
        # healed, its next start succeeds
        self.d.control("heal?unit=loop@*")
        self.assertTrue(eventually(lambda: running(self.d, "loop@1.service"), timeout=10))

    def test_a_unit_told_to_restart_once_then_runs(self):
        self.d.control("crash-loop?unit=once.service&restarts=1&seconds=0.1")
        self.d.put_unit("once.service", service("once"), "launched")
        seen = self.watch_states("once.service",
                                 lambda seen: seen and seen[-1] == ("active", "running"))
        self.assertEqual(seen[-1], ("active", "running"), seen)
        self.assertEqual(seen.count(("activating", "auto-restart")), 1, seen)
        self.d.settle()
        self.assertTrue(running(self.d, "once.service"))

    def test_a_running_unit_can_be_made_to_crash_loop_and_stopped(self):
        self.d.put_unit("a.service", service("a"), "launched")
        self.d.settle()
        self.d.control("crash-loop?unit=a.service&seconds=0.1")
        seen = self.watch_states("a.service",
                                 lambda seen: seen.count(("activating", "auto-restart")) >= 2)
        self.assertGreaterEqual(seen.count(("activating", "auto-restart")), 2, seen)
        self.d.put_unit("a.service", None, "loaded")
        self.d.settle()
        [s] = states(self.d, "a.service")
        self.assertEqual((s["systemdActiveState"], s["systemdSubState"]), ("inactive", "dead"))

    def test_crash_loop_parameters_are_checked(self):
        for bad in ("restarts=x", "restarts=-1", "seconds=0", "seconds=abc", "seconds=nan"):
            resp = self.d.request("POST", "/_double/crash-loop?unit=a.service&" + bad)
            self.assertEqual(resp.status, 400, bad)

    def test_a_starting_fleetd_answers_503_until_it_is_up(self):
        self.d.control("starting?seconds=0.5")
        resp = self.d.request("GET", "/fleet/v1/units")
        self.assertEqual(resp.status, 503)
        self.assertIsNone(resp.header("Server"))
        self.assertTrue(eventually(lambda: self.d.request("GET", "/fleet/v1/units").status == 200,
                                   timeout=5))

    def test_requests_are_counted_per_method_and_path(self):
        self.d.control("reset-requests")
        self.d.request("GET", "/fleet/v1/units")
        self.d.request("GET", "/fleet/v1/units")
        self.d.request("GET", "/fleet/v1/machines")
        counts = self.d.control("requests", "GET")
        self.assertEqual(counts["total"], 3)
        self.assertEqual(counts["by"]["GET /fleet/v1/units"], 2)


class Transport(unittest.TestCase):

    def test_paging_with_a_small_token_limit(self):
        with Double("--token-limit", "2") as d:
            for i in range(5):
                d.put_unit("p%d.service" % i, [option("Service", "ExecStart", "/bin/true")])
            first = d.get_json("/fleet/v1/units")
            self.assertEqual(len(first["units"]), 2)
            token = first["nextPageToken"]
            names = [u["name"] for u in first["units"]]
            while token:
                page = d.get_json("/fleet/v1/units?nextPageToken=" + token)
                names += [u["name"] for u in page.get("units", [])]
                token = page.get("nextPageToken")
            self.assertEqual(names, ["p%d.service" % i for i in range(5)])
            bad = d.request("GET", "/fleet/v1/units?nextPageToken=ZAACAA==")
            self.assertEqual(bad.json()["error"]["message"], "token limit must be 2")

    def test_a_unix_socket_serves_the_same_api(self):
        with tempfile.TemporaryDirectory() as tmp:
            with Double(unix=os.path.join(tmp, "fleet.sock")) as d:
                self.assertEqual(len(d.get_json("/fleet/v1/machines")["machines"]), 2)
                resp = d.request("GET", "/fleet/v1/state/nope.service")
                self.assertEqual(resp.status, 0)

    def test_generated_machines(self):
        with Double("--machines", "5") as d:
            machines = d.get_json("/fleet/v1/machines")["machines"]
            self.assertEqual(len(machines), 5)
            self.assertEqual(len({m["id"] for m in machines}), 5)


if __name__ == "__main__":
    unittest.main()
