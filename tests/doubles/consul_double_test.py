#!/usr/bin/env python3
"""Behaviour tests of the Consul double: what herald's client relies on beyond the recorded
fixtures (blocking queries, TTL expiry and reaping, ACLs, KV CAS, index reset on restart)."""

import http.client
import itertools
import json
import os
import sys
import threading
import time
import unittest

sys.dont_write_bytecode = True  # keep the source tree clean when ctest runs us
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from consul_harness import Double, eventually, ttl_service  # noqa: E402

FAST_REAPER = ["--deregister-min", "0", "--reaper-interval", "0.1"]
NAMES = itertools.count(1)  # distinct service names and keys for tests sharing a double


def later(delay, action):
    """Runs `action` after `delay` seconds on another thread; join() it afterwards."""
    def run():
        time.sleep(delay)
        action()

    t = threading.Thread(target=run)
    t.start()
    return t


class BlockingQueries(unittest.TestCase):
    """One double for the class; each test watches its own keys and service."""

    @classmethod
    def setUpClass(cls):
        cls.d = Double()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_a_blocking_query_lasts_the_whole_wait_when_nothing_changes(self):
        self.d.put("/v1/kv/idle/key", "v1")
        first = self.d.request("GET", "/v1/kv/idle/key")
        resp = self.d.request("GET", "/v1/kv/idle/key?index=%d&wait=1s" % first.index())
        self.assertEqual(resp.status, 200)
        self.assertGreaterEqual(resp.elapsed, 1.0)
        self.assertLess(resp.elapsed, 1.0 + 1.0 / 16 + 0.5)  # wait + Consul's jitter + slack
        self.assertEqual(resp.index(), first.index())
        self.assertEqual(resp.json(), first.json())

    def test_a_blocking_query_returns_early_when_the_watched_key_changes(self):
        self.d.put("/v1/kv/early/key", "v1")
        first = self.d.request("GET", "/v1/kv/early/key")
        writer = later(0.3, lambda: self.d.put("/v1/kv/early/key", "v2"))
        resp = self.d.request("GET", "/v1/kv/early/key?index=%d&wait=20s" % first.index())
        writer.join()
        self.assertEqual(resp.status, 200)
        self.assertGreaterEqual(resp.elapsed, 0.25)
        self.assertLess(resp.elapsed, 5.0)
        self.assertGreater(resp.index(), first.index())
        self.assertEqual(self.d.request("GET", "/v1/kv/early/key?raw").body, b"v2")

    def test_a_missing_key_can_be_watched_until_it_appears(self):
        missing = self.d.request("GET", "/v1/kv/app/later")
        self.assertEqual(missing.status, 404)
        writer = later(0.3, lambda: self.d.put("/v1/kv/app/later", "here"))
        resp = self.d.request("GET", "/v1/kv/app/later?index=%d&wait=20s" % missing.index())
        writer.join()
        self.assertEqual(resp.status, 200)
        self.assertLess(resp.elapsed, 5.0)

    def test_a_prefix_watch_ignores_writes_outside_the_prefix(self):
        self.d.put("/v1/kv/services/web/a", "1")
        first = self.d.request("GET", "/v1/kv/services/?recurse")
        writer = later(0.2, lambda: self.d.put("/v1/kv/other/key", "x"))
        resp = self.d.request("GET", "/v1/kv/services/?recurse&index=%d&wait=1s" % first.index())
        writer.join()
        self.assertGreaterEqual(resp.elapsed, 1.0)
        self.assertEqual(resp.index(), first.index())

    def test_a_health_watch_wakes_on_a_status_change_but_not_on_a_repeated_pass(self):
        self.d.put("/v1/agent/service/register", ttl_service("web@1", ttl="30s"))
        self.d.put("/v1/agent/check/pass/service:web@1?note=ok")
        first = self.d.request("GET", "/v1/health/service/web?passing")
        self.assertEqual(len(first.json()), 1)
        path = "/v1/health/service/web?passing&index=%d&wait=1s" % first.index()

        repeat = later(0.2, lambda: self.d.put("/v1/agent/check/pass/service:web@1?note=ok"))
        resp = self.d.request("GET", path)
        repeat.join()
        self.assertGreaterEqual(resp.elapsed, 1.0, "an unchanged pass must not wake watchers")
        self.assertEqual(resp.index(), first.index())

        fail = later(0.2, lambda: self.d.put("/v1/agent/check/fail/service:web@1?note=down"))
        resp = self.d.request("GET", path.replace("wait=1s", "wait=20s"))
        fail.join()
        self.assertLess(resp.elapsed, 5.0)
        self.assertGreater(resp.index(), first.index())
        self.assertEqual(resp.json(), [], "?passing drops the now critical instance")

    def test_a_health_watch_ignores_other_services_and_kv(self):
        self.d.put("/v1/agent/service/register", ttl_service("api@1", name="api"))
        first = self.d.request("GET", "/v1/health/service/api")

        def elsewhere():
            self.d.put("/v1/agent/service/register", ttl_service("db@1", name="db"))
            self.d.put("/v1/kv/unrelated", "x")

        writer = later(0.2, elsewhere)
        resp = self.d.request("GET", "/v1/health/service/api?index=%d&wait=1s" % first.index())
        writer.join()
        self.assertGreaterEqual(resp.elapsed, 1.0)
        self.assertEqual(resp.index(), first.index())

    def test_the_index_is_never_zero(self):
        with Double() as d:  # an empty KV store has table index 0
            resp = d.request("GET", "/v1/kv/?keys")
            self.assertEqual((resp.status, resp.json(), resp.index()), (200, [], 1))


class TtlAndReaping(unittest.TestCase):
    def test_a_ttl_check_goes_critical_after_its_ttl_with_consuls_output(self):
        with Double() as d:
            d.put("/v1/agent/service/register", ttl_service("web@1", ttl="600ms"))
            d.put("/v1/agent/check/pass/service:web@1?note=herald%3A%20ok")
            passed = time.monotonic()
            status = lambda: d.get_json("/v1/agent/checks")["service:web@1"]["Status"]  # noqa
            self.assertEqual(status(), "passing")
            self.assertTrue(eventually(lambda: status() == "critical", timeout=5))
            self.assertGreaterEqual(time.monotonic() - passed, 0.6)
            entry = d.get_json("/v1/health/service/web")[0]
            self.assertEqual(entry["Checks"][1]["Output"],
                             "TTL expired (last output before timeout follows): herald: ok")
            self.assertEqual(d.get_json("/v1/health/service/web?passing"), [])
            self.assertIn("web@1", d.get_json("/v1/agent/services"), "critical is not removed")

    def test_a_ttl_check_that_never_passed_expires_without_previous_output(self):
        with Double() as d:
            d.put("/v1/agent/service/register", ttl_service("web@1", ttl="200ms"))
            output = lambda: d.get_json("/v1/agent/checks")["service:web@1"]["Output"]  # noqa
            self.assertEqual(output(), "")
            self.assertTrue(eventually(lambda: output() == "TTL expired", timeout=5))

    def test_a_service_critical_longer_than_deregister_critical_service_after_is_reaped(self):
        with Double(*FAST_REAPER) as d:
            d.put("/v1/agent/service/register",
                  ttl_service("web@1", ttl="300ms", dcsa="700ms"))
            d.put("/v1/agent/check/pass/service:web@1?note=ok")
            start = time.monotonic()
            catalog = d.request("GET", "/v1/catalog/service/web")
            self.assertEqual(len(catalog.json()), 1)
            gone = eventually(lambda: "web@1" not in d.get_json("/v1/agent/services"), 10)
            elapsed = time.monotonic() - start
            self.assertTrue(gone)
            self.assertGreaterEqual(elapsed, 1.0)  # 0.3s TTL + 0.7s critical
            self.assertLess(elapsed, 4.0)
            self.assertNotIn("service:web@1", d.get_json("/v1/agent/checks"))
            self.assertEqual(d.get_json("/v1/health/service/web"), [])
            after = d.request("GET", "/v1/catalog/service/web")
            self.assertEqual(after.json(), [])
            self.assertGreater(after.index(), catalog.index())

    def test_deregister_critical_service_after_is_raised_to_the_minimum(self):
        with Double("--deregister-min", "2", "--reaper-interval", "0.1") as d:
            d.put("/v1/agent/service/register", ttl_service("web@1", ttl="100ms", dcsa="200ms"))
            start = time.monotonic()
            time.sleep(1.2)
            self.assertIn("web@1", d.get_json("/v1/agent/services"))
            self.assertTrue(eventually(lambda: "web@1" not in d.get_json("/v1/agent/services"),
                                       10))
            self.assertGreaterEqual(time.monotonic() - start, 2.0)

    def test_a_service_kept_passing_is_not_reaped(self):
        with Double(*FAST_REAPER) as d:
            d.put("/v1/agent/service/register", ttl_service("web@1", ttl="400ms", dcsa="300ms"))
            deadline = time.monotonic() + 1.5
            while time.monotonic() < deadline:
                d.put("/v1/agent/check/pass/service:web@1")
                time.sleep(0.1)
            self.assertIn("web@1", d.get_json("/v1/agent/services"))


class Registration(unittest.TestCase):
    """One double for the class; each test registers its own service name, self.n."""

    @classmethod
    def setUpClass(cls):
        cls.d = Double()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def setUp(self):
        self.n = "svc%d" % next(NAMES)

    def register(self, instance, query="", **kw):
        body = ttl_service("%s@%d" % (self.n, instance), name=self.n, **kw)
        self.d.put("/v1/agent/service/register" + query, body)

    def check(self, instance=1):
        return self.d.get_json("/v1/agent/checks").get("service:%s@%d" % (self.n, instance))

    def ids(self, path):
        rows = self.d.get_json(path % self.n)
        return [r["Service"]["ID"] if "Service" in r else r["ServiceID"] for r in rows]

    def test_a_new_ttl_check_starts_critical_and_re_registering_keeps_its_state(self):
        self.register(1)
        self.assertEqual(self.check()["Status"], "critical")
        self.d.put("/v1/agent/check/pass/service:%s@1?note=fine" % self.n)
        before = self.d.request("GET", "/v1/health/service/" + self.n)
        self.register(1)
        self.assertEqual((self.check()["Status"], self.check()["Output"]), ("passing", "fine"))
        after = self.d.request("GET", "/v1/health/service/" + self.n)
        self.assertEqual(after.index(), before.index(), "an identical registration is no change")

    def test_a_changed_registration_moves_the_index(self):
        self.register(1)
        before = self.d.request("GET", "/v1/catalog/service/" + self.n)
        self.register(1, Tags=["herald", "v2"])
        after = self.d.request("GET", "/v1/catalog/service/" + self.n)
        self.assertGreater(after.index(), before.index())
        self.assertEqual(after.json()[0]["ServiceTags"], ["herald", "v2"])
        self.assertEqual(after.json()[0]["CreateIndex"], before.json()[0]["CreateIndex"])

    def test_replace_existing_checks_removes_checks_left_out(self):
        extra = "extra-" + self.n
        self.register(1, Checks=[{"CheckID": extra, "TTL": "10s"}])
        self.assertIn(extra, self.d.get_json("/v1/agent/checks"))
        self.register(1)
        self.assertIn(extra, self.d.get_json("/v1/agent/checks"), "without the flag it stays")
        self.register(1, "?replace-existing-checks")
        self.assertNotIn(extra, self.d.get_json("/v1/agent/checks"))
        self.assertIsNotNone(self.check())

    def test_lower_and_snake_case_fields_are_accepted_like_consul_does(self):
        self.d.put("/v1/agent/service/register",
                   {"id": self.n + "@1", "name": self.n, "port": 8080, "address": "127.0.0.1",
                    "check": {"ttl": "10s", "deregister_critical_service_after": "1m",
                              "status": "passing"}})
        svc = self.d.get_json("/v1/agent/services")[self.n + "@1"]
        self.assertEqual((svc["Service"], svc["Port"], svc["Address"]),
                         (self.n, 8080, "127.0.0.1"))
        self.assertEqual(self.check()["Status"], "passing")

    def test_a_wrongly_typed_field_is_a_decode_error(self):
        resp = self.d.request("PUT", "/v1/agent/service/register",
                              {"Name": self.n, "Port": "8080"})
        self.assertEqual(resp.status, 400)
        self.assertTrue(resp.body.startswith(b"Request decode failed: "))

    def test_deregister_removes_the_service_everywhere(self):
        self.register(1)
        self.register(2, port=32769)
        self.d.put("/v1/agent/service/deregister/%s@1" % self.n)
        self.assertNotIn(self.n + "@1", self.d.get_json("/v1/agent/services"))
        self.assertIsNone(self.check(1))
        self.assertEqual(self.ids("/v1/health/service/%s"), [self.n + "@2"])
        again = self.d.request("PUT", "/v1/agent/service/deregister/%s@1" % self.n)
        self.assertEqual(again.status, 404)

    def test_the_tag_filter_needs_every_tag(self):
        self.register(1, Tags=["a", "b"])
        self.register(2, Tags=["a"])
        both = [self.n + "@1", self.n + "@2"]
        self.assertEqual(self.ids("/v1/catalog/service/%s?tag=a"), both)
        self.assertEqual(self.ids("/v1/catalog/service/%s?tag=a&tag=B"), both[:1])
        self.assertEqual(self.ids("/v1/health/service/%s?tag=b"), both[:1])

    def test_check_update_sets_status_and_output(self):
        self.register(1)
        self.d.put("/v1/agent/check/update/service:%s@1" % self.n,
                   {"Status": "warning", "Output": "slow"})
        self.assertEqual((self.check()["Status"], self.check()["Output"]), ("warning", "slow"))


class Acl(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.d = Double("--acl-token", "s3cret", "--acl-read-token", "reader")

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def test_a_request_without_a_token_is_denied(self):
        resp = self.d.request("GET", "/v1/kv/app?recurse")
        self.assertEqual(resp.status, 403)
        self.assertTrue(resp.body.startswith(b"Permission denied"))
        self.assertEqual(resp.header("X-Consul-Default-Acl-Policy"), "deny")

    def test_an_unknown_token_is_acl_not_found(self):
        resp = self.d.request("PUT", "/v1/kv/app", "x", {"X-Consul-Token": "guess"})
        self.assertEqual((resp.status, resp.body), (403, b"ACL not found"))

    def test_the_token_is_accepted_from_header_query_and_bearer(self):
        self.assertEqual(self.d.request("PUT", "/v1/kv/app", "x",
                                        {"X-Consul-Token": "s3cret"}).json(), True)
        self.assertEqual(self.d.request("GET", "/v1/kv/app?token=s3cret").status, 200)
        self.assertEqual(self.d.request("GET", "/v1/kv/app", None,
                                        {"Authorization": "Bearer s3cret"}).status, 200)

    def test_a_read_token_reads_but_cannot_write(self):
        reader = {"X-Consul-Token": "reader"}
        self.assertEqual(self.d.request("GET", "/v1/catalog/services", None, reader).status, 200)
        resp = self.d.request("PUT", "/v1/agent/service/register", ttl_service("web@1"), reader)
        self.assertEqual(resp.status, 403)
        self.assertIn(b"lacks permission 'service:write' on \"web\"", resp.body)

    def test_status_endpoints_need_no_token(self):
        self.assertEqual(self.d.request("GET", "/v1/status/leader").status, 200)

    def test_the_token_can_come_from_a_file(self):
        path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "consul-double-token-%d" %
                            os.getpid())
        with open(path, "w") as f:
            f.write("from-file\n")
        self.addCleanup(os.remove, path)
        with Double("--acl-token-file", path) as d:
            self.assertEqual(d.request("GET", "/v1/agent/services").status, 403)
            self.assertEqual(d.request("GET", "/v1/agent/services", None,
                                       {"X-Consul-Token": "from-file"}).status, 200)


class Kv(unittest.TestCase):
    """One double for the class; each test works under its own key prefix."""

    @classmethod
    def setUpClass(cls):
        cls.d = Double()

    @classmethod
    def tearDownClass(cls):
        cls.d.stop()

    def setUp(self):
        self.p = "t%d/" % next(NAMES)

    def url(self, key):
        return "/v1/kv/" + self.p + key

    def put(self, key, body="v"):
        return self.d.put(self.url(key), body).json()

    def entry(self, key):
        return self.d.get_json(self.url(key))[0]

    def raw(self, key):
        return self.d.request("GET", self.url(key) + "?raw").body

    def delete(self, key_and_query):
        return self.d.request("DELETE", self.url(key_and_query)).json()

    def test_cas_zero_only_creates(self):
        self.assertIs(self.put("k?cas=0", "a"), True)
        self.assertIs(self.put("k?cas=0", "b"), False)
        self.assertEqual(self.raw("k"), b"a")

    def test_cas_writes_only_at_the_current_modify_index(self):
        self.put("k", "a")
        current = self.entry("k")["ModifyIndex"]
        self.assertIs(self.put("k?cas=%d" % (current + 5), "b"), False)
        self.assertIs(self.put("k?cas=%d" % current, "c"), True)
        after = self.entry("k")
        self.assertGreater(after["ModifyIndex"], current)
        self.assertEqual(after["Value"], "Yw==")

    def test_delete_with_cas(self):
        self.put("k")
        current = self.entry("k")["ModifyIndex"]
        self.assertIs(self.delete("k?cas=%d" % (current - 1)), False)
        self.assertIs(self.delete("k?cas=%d" % current), True)
        self.assertEqual(self.d.request("GET", self.url("k")).status, 404)

    def test_a_recursive_delete_removes_only_the_prefix(self):
        for key in ("a/1", "a/2", "ab"):
            self.put(key)
        self.assertIs(self.delete("a/?recurse"), True)
        self.assertEqual(self.d.get_json(self.url("") + "?keys"), [self.p + "ab"])

    def test_a_rewrite_of_the_same_value_moves_the_modify_index(self):
        self.put("k", "same")
        first = self.entry("k")
        self.put("k", "same")
        second = self.entry("k")
        self.assertGreater(second["ModifyIndex"], first["ModifyIndex"])
        self.assertEqual(second["CreateIndex"], first["CreateIndex"])

    def test_flags_keep_all_64_bits_and_empty_values_are_null(self):
        self.put("k?flags=18446744073709551615", "")
        e = self.entry("k")
        self.assertEqual((e["Flags"], e["Value"]), (2 ** 64 - 1, None))
        self.put("k", "x")
        self.assertEqual(self.entry("k")["Flags"], 0, "every write sets the flags")

    def test_recurse_is_sorted_and_keys_cut_at_the_separator(self):
        for key in ("b/2", "a", "b/1/x", "c/"):
            self.put(key)
        keys = [e["Key"] for e in self.d.get_json(self.url("") + "?recurse")]
        self.assertEqual(keys, [self.p + k for k in ("a", "b/1/x", "b/2", "c/")])
        cut = self.d.get_json(self.url("") + "?keys&separator=/")
        self.assertEqual(cut, [self.p + k for k in ("a", "b/", "c/")])

    def test_listing_an_empty_prefix_is_404(self):
        self.assertEqual(self.d.request("GET", self.url("nothing/") + "?keys").status, 404)
        self.assertEqual(self.d.request("GET", self.url("nothing/") + "?recurse").status, 404)

    def test_a_lock_is_acquired_and_released_with_a_session(self):
        session = self.d.put("/v1/session/create", {"Name": "t"}).json()["ID"]
        other = self.d.put("/v1/session/create", {}).json()["ID"]
        self.assertIs(self.put("lock?acquire=" + session, "me"), True)
        self.assertIs(self.put("lock?acquire=" + other, "you"), False)
        e = self.entry("lock")
        self.assertEqual((e["Session"], e["LockIndex"]), (session, 1))
        self.assertIs(self.put("lock?release=" + session, "me"), True)
        self.assertNotIn("Session", self.entry("lock"))
        self.d.put("/v1/session/destroy/" + other)
        gone = self.d.request("PUT", self.url("lock?acquire=" + other), "you")
        self.assertEqual((gone.status, gone.body), (500, b'invalid session "%s"' % other.encode()))


class Restart(unittest.TestCase):
    def test_a_restart_forgets_everything_and_the_index_goes_back(self):
        with Double() as d:
            port = d.port
            d.put("/v1/agent/service/register", ttl_service("web@1"))
            for i in range(20):
                d.put("/v1/kv/app/k%d" % i, str(i))
            before = d.request("GET", "/v1/catalog/services")
            kv_before = d.request("GET", "/v1/kv/app/?recurse").index()
            d.restart()
            self.assertEqual(d.port, port)
            after = d.request("GET", "/v1/catalog/services")
            self.assertEqual(after.json(), {"consul": []})
            self.assertLess(after.index(), before.index())
            missing = d.request("GET", "/v1/kv/app/?recurse")
            self.assertEqual(missing.status, 404)
            self.assertLess(missing.index(), kv_before)
            # A client that keeps its old index now blocks for the whole wait even though the
            # data changed: that is why it must reset when the index goes backwards.
            writer = later(0.2, lambda: d.put("/v1/agent/service/register",
                                              ttl_service("web@1")))
            stale = d.request("GET", "/v1/catalog/services?index=%d&wait=1s" % before.index())
            writer.join()
            self.assertGreaterEqual(stale.elapsed, 1.0)
            self.assertIn("web", stale.json())


class HttpBehaviour(unittest.TestCase):
    def test_connections_are_kept_alive(self):
        with Double() as d:
            conn = http.client.HTTPConnection("127.0.0.1", d.port, timeout=10)
            self.addCleanup(conn.close)
            for _ in range(3):
                conn.request("PUT", "/v1/kv/k", body=b"v")
                resp = conn.getresponse()
                self.assertEqual((resp.status, resp.read()), (200, b"true"))

    def test_options_lists_the_allowed_methods(self):
        with Double() as d:
            resp = d.request("OPTIONS", "/v1/kv/k")
            self.assertEqual((resp.status, resp.header("Allow")), (200, "DELETE,GET,OPTIONS,PUT"))

    def test_without_a_leader_reads_fail_unless_stale(self):
        with Double() as d:
            d.put("/_double/leader?present=false")
            self.assertEqual(d.request("GET", "/v1/catalog/services").status, 500)
            stale = d.request("GET", "/v1/catalog/services?stale")
            self.assertEqual((stale.status, stale.header("X-Consul-Knownleader")), (200, "false"))
            self.assertEqual(d.get_json("/v1/status/leader"), "")
            d.put("/_double/leader?present=true")
            self.assertEqual(d.request("GET", "/v1/catalog/services").status, 200)

    def test_a_legacy_agent_answers_like_consul_1_10(self):
        with Double("--legacy-agent") as d:
            resp = d.request("PUT", "/v1/agent/check/pass/service:web@1")
            self.assertEqual((resp.status, resp.body),
                             (500, b'CheckID "service:web@1" does not have associated TTL'))
            self.assertEqual(d.request("PUT", "/v1/agent/service/deregister/web@1").status, 200)

    def test_pretty_output_is_indented(self):
        with Double() as d:
            body = d.request("GET", "/v1/catalog/services?pretty").body.decode()
            self.assertIn('\n    "consul": []', body)
            self.assertEqual(json.loads(body), {"consul": []})


if __name__ == "__main__":
    unittest.main(verbosity=2)
