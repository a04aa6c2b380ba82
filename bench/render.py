#!/usr/bin/env python3
"""herald render against confd's recorded figures: one-shot render time and memory, watch latency.

Starts its own etcd on free 127.0.0.1 ports in a temporary directory (removed at the end), loads
N apps x 3 instances at /services/web/appI/appI@J = 10.x.y.z:3000 (the data of
bench/anchors.md) through the v3 gateway in large transactions, and measures:
  1. one-shot `herald render --template T --dest D --keys /services/web` for N = 100, 1000, 10000:
     whole-process wall time (median of several runs, dest removed before each so every run
     renders and installs) and peak RSS (getrusage of the child);
  2. `herald render --watch` at N = 1000: the time from a key's put until dest shows the new
     value, p50/p95/p99/max over 200 changes (dest polled with a stat check every 0.2 ms). The
     clock starts before the put, so it includes etcd's own cost of the put (its WAL fsync, on
     the same disk that herald fsyncs dest to); the breakdown printed below it splits each change
     into the put until etcd acknowledged it and the rest until dest showed it (herald's share,
     plus the watch event's trip, which starts when etcd applies the put).
     --etcd-tmpfs puts etcd's data dir on /dev/shm, so etcd's fsync leaves the clock; the run
     says so in its output. dest stays on disk either way: its fsync is herald's own cost.
confd itself cannot be installed here: its columns are the anchors recorded on this kind of
machine (bench/anchors.md), not measured by this run.
Usage: bench/render.py [--herald PATH] [--template FILE] [--quick] [--etcd-tmpfs]
"""
import argparse
import base64
import http.client
import json
import re
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PREFIX = "/services/web"

# bench/anchors.md: confd 0.17.0-dev, etcdv3 backend, -onetime; N -> (wall s, peak MiB).
CONFD_ONESHOT = {1000: (0.33, 27.6), 10000: (25.9, 47.3)}
# confd -watch, change one key until the file shows it, N = 1000: p50, p95, max in ms.
CONFD_WATCH = {"confd 0.17 (etcd v3)": (291.0, 363.0, 480.0),
               "confd 0.16 (etcd v2)": (289.0, 382.0, 517.0)}
TARGET_SPEEDUP = {1000: 5.0, 10000: 100.0}
TARGET_WATCH_P99_MS = 20.0


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64(text):
    return base64.b64encode(text.encode()).decode()


class Etcd:
    """A throwaway single-member etcd; keys are written through its v3 JSON gateway."""

    def __init__(self, workdir, data_parent=None):
        self.port = free_port()
        self.data_parent = data_parent
        self.data_dir = (tempfile.mkdtemp(prefix="herald-bench-etcd-", dir=data_parent)
                         if data_parent else os.path.join(workdir, "etcd"))
        peer = free_port()
        client = f"http://127.0.0.1:{self.port}"
        peer_url = f"http://127.0.0.1:{peer}"
        self.proc = subprocess.Popen(
            ["etcd", "--name", "bench", "--data-dir", self.data_dir,
             "--log-level", "error", "--logger", "zap", "--max-txn-ops", "2000",
             "--quota-backend-bytes", str(4 << 30),
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
             "--initial-cluster", f"bench={peer_url}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = client
        self.conn = None
        deadline = time.time() + 20
        while True:
            if self.proc.poll() is not None:
                raise SystemExit("bench: etcd exited at start")
            try:
                self.call("/v3/maintenance/status", {})
                break
            except OSError:
                self.conn = None
                if time.time() > deadline:
                    raise SystemExit("bench: etcd did not answer within 20 s")
                time.sleep(0.05)

    def call(self, path, body):
        """POSTs to the gateway on one kept-alive connection; returns the decoded reply."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        self.conn.request("POST", path, body=json.dumps(body),
                          headers={"Content-Type": "application/json"})
        reply = self.conn.getresponse()
        data = reply.read()
        if reply.status != 200:
            raise SystemExit(f"bench: etcd {path} answered {reply.status}: {data[:200]!r}")
        return json.loads(data)

    def put(self, key, value):
        self.call("/v3/kv/put", {"key": b64(key), "value": b64(value)})

    def put_many(self, pairs, batch=2000):
        for start in range(0, len(pairs), batch):
            ops = [{"requestPut": {"key": b64(k), "value": b64(v)}}
                   for k, v in pairs[start:start + batch]]
            self.call("/v3/kv/txn", {"success": ops})

    def range_seconds(self, prefix, page=5000):
        """Time etcd's JSON gateway takes to serve every key under prefix in pages of `page`,
        measured from here: what no client of the gateway can go below (herald's list() reads
        over etcd's gRPC API instead, and falls back to the gateway only without it)."""
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        body = {"key": b64(prefix), "range_end": b64(end), "limit": str(page)}
        start = time.perf_counter()
        while True:
            reply = self.call("/v3/kv/range", body)
            kvs = reply.get("kvs", [])
            body["revision"] = reply["header"]["revision"]
            if not reply.get("more") or not kvs:
                return time.perf_counter() - start
            body["key"] = b64(base64.b64decode(kvs[-1]["key"]).decode() + "\0")

    def delete_prefix(self, prefix):
        end = prefix[:-1] + chr(ord(prefix[-1]) + 1)
        self.call("/v3/kv/deleterange", {"key": b64(prefix), "range_end": b64(end)})

    def stop(self):
        if self.conn is not None:
            self.conn.close()
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        if self.data_parent:  # outside the work dir, which the caller removes
            shutil.rmtree(self.data_dir, ignore_errors=True)


def address(app, instance):
    n = app * 3 + instance
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}:3000"


def load_apps(etcd, n):
    etcd.delete_prefix(PREFIX + "/")
    pairs = [(f"{PREFIX}/app{i}/app{i}@{j}", address(i, j)) for i in range(n) for j in range(3)]
    start = time.perf_counter()
    etcd.put_many(pairs)
    return time.perf_counter() - start


def run_measured(argv):
    """Runs argv to completion; returns (wall seconds, cpu seconds, max RSS KiB)."""
    # A child's ru_maxrss includes the Python process it was forked from before exec, so the peak
    # RSS is taken by GNU time (Debian package time), whose own size is far below herald's.
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss_file:
        wrapped = ["/usr/bin/time", "-f", "%M", "-o", rss_file.name] + list(argv)
        start = time.perf_counter()
        proc = subprocess.Popen(wrapped, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - start
        code = os.waitstatus_to_exitcode(status)
        err = proc.stderr.read().decode()
        proc.stderr.close()
        if code != 0:
            raise SystemExit(f"bench: command failed ({code}): {' '.join(argv)}\n{err}")
        rss_kib = int(rss_file.read().split()[-1])
    return wall, usage.ru_utime + usage.ru_stime, rss_kib


def check_render(path, n):
    with open(path) as f:
        text = f.read()
    upstreams = len(re.findall(r"^\s*upstream ", text, re.M))
    servers = text.count("server 10.")
    if upstreams != n or servers != 3 * n:
        raise SystemExit(f"bench: {path} has {upstreams} upstreams and {servers} servers, "
                         f"expected {n} and {3 * n}: the template or data is not the bench's")


def percentile(sorted_values, p):
    """Nearest-rank percentile of a sorted list."""
    rank = max(1, min(len(sorted_values), int(-(-p * len(sorted_values) // 100))))
    return sorted_values[rank - 1]


def floor_seconds(etcd, work, runs):
    """Median wall of a C program making one etcd put with Debian's libcurl (bench/curl_floor.c):
    the anchors measured 20 ms for it, so its figure here tells how loaded this machine is."""
    if shutil.which("cc") is None:
        return None
    exe = os.path.join(work, "curl_floor")
    built = subprocess.run(["cc", "-O2", "-o", exe, os.path.join(ROOT, "bench/curl_floor.c"),
                            "-lcurl"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if built.returncode != 0:
        return None
    put = json.dumps({"key": b64("/bench/floor"), "value": b64("x")})
    return statistics.median(run_measured([exe, etcd.url, put])[0] for _ in range(runs))


def one_shot(args, etcd, herald, template, work, sizes, runs):
    print("\n1. One-shot render, whole process (fetch, render, install), "
          f"nginx-host template, N apps x 3 instances")
    dest = os.path.join(work, "oneshot.conf")
    argv = herald + ["render", "--template", template, "--dest", dest, "--keys", PREFIX]
    results = {}
    for n in sizes:
        loaded = load_apps(etcd, n)
        served = statistics.median(etcd.range_seconds(PREFIX) for _ in range(3))
        samples = []
        for _ in range(runs[n]):
            if os.path.exists(dest):
                os.unlink(dest)
            samples.append(run_measured(argv))
            check_render(dest, n)
        wall = statistics.median(s[0] for s in samples)
        cpu = statistics.median(s[1] for s in samples)
        rss = max(s[2] for s in samples) / 1024
        results[n] = (wall, cpu, rss, served)
        print(f"   N={n:<6} ({3 * n} keys loaded in {loaded:.2f} s): median of {runs[n]} runs: "
              f"wall {wall * 1000:.1f} ms, CPU {cpu * 1000:.1f} ms, peak RSS {rss:.1f} MiB; "
              f"etcd's JSON gateway alone serves these keys to the bench in {served * 1000:.1f} ms "
              f"(herald reads them over gRPC)")
    return results


def watch(args, etcd, herald, template, work, n, changes):
    print(f"\n2. Watch mode at N={n}: put one key, time until dest shows it ({changes} changes)")
    load_apps(etcd, n)
    dest = os.path.join(work, "watch.conf")
    if os.path.exists(dest):
        os.unlink(dest)
    log = open(os.path.join(work, "watch.log"), "wb")
    proc = subprocess.Popen(herald + ["render", "--template", template, "--dest", dest, "--keys",
                                      PREFIX, "--watch"],
                            stdout=subprocess.DEVNULL, stderr=log)
    latencies = []
    put_acks = []  # put to etcd's answer: etcd's own cost (its WAL fsync), herald not involved
    missed = 0
    try:
        deadline = time.time() + 30
        while not os.path.exists(dest):
            if proc.poll() is not None or time.time() > deadline:
                raise SystemExit("bench: herald render --watch did not write dest; see its log:\n"
                                 + open(os.path.join(work, "watch.log")).read())
            time.sleep(0.01)
        time.sleep(0.2)  # let the first install finish and the watch start
        check_render(dest, n)
        for i in range(changes):
            app = (i * 7919) % n
            value = f"10.254.{i >> 8}.{i & 255}:{4000 + i % 1000}"
            needle = f"server {value}".encode()  # ports 4000-4999 occur nowhere else
            before = os.stat(dest)
            seen = (before.st_ino, before.st_mtime_ns, before.st_size)
            start = time.perf_counter()
            etcd.put(f"{PREFIX}/app{app}/app{app}@0", value)
            acked = time.perf_counter()
            limit = start + 5.0
            found = False
            while time.perf_counter() < limit:  # bounded: 5 s per change
                try:
                    st = os.stat(dest)
                except FileNotFoundError:
                    continue
                now = (st.st_ino, st.st_mtime_ns, st.st_size)
                if now != seen:
                    seen = now
                    with open(dest, "rb") as f:
                        if needle in f.read():
                            latencies.append(time.perf_counter() - start)
                            put_acks.append(acked - start)
                            found = True
                            break
                time.sleep(0.0002)
            if not found:
                missed += 1
            time.sleep(0.005)  # changes one at a time, not a burst
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
    if not latencies:
        raise SystemExit("bench: no change reached dest")
    ms = sorted(x * 1000 for x in latencies)
    result = {"p50": percentile(ms, 50), "p95": percentile(ms, 95), "p99": percentile(ms, 99),
              "max": ms[-1], "missed": missed, "count": len(ms)}
    print(f"   {len(ms)} changes seen, {missed} not seen within 5 s: p50 {result['p50']:.1f} ms, "
          f"p95 {result['p95']:.1f} ms, p99 {result['p99']:.1f} ms, max {result['max']:.1f} ms")
    acks = sorted(x * 1000 for x in put_acks)
    after = sorted((t - a) * 1000 for t, a in zip(latencies, put_acks))
    for name, values in (("the put until etcd acknowledged it (etcd's WAL fsync, not herald)",
                          acks),
                         ("etcd's acknowledgement until dest showed it (herald's share)", after)):
        print(f"     of which {name}:\n       p50 {percentile(values, 50):.1f} ms, "
              f"p95 {percentile(values, 95):.1f} ms, p99 {percentile(values, 99):.1f} ms, "
              f"max {values[-1]:.1f} ms")
    result["ack_p99"] = percentile(acks, 99)
    result["after_p99"] = percentile(after, 99)
    return result


def verdict(ok):
    return "met" if ok else "MISSED"


def report(oneshot, watched, watch_n, floor):
    if floor is not None:
        print(f"\n   machine load: the libcurl floor (bench/curl_floor.c, one put) takes "
              f"{floor * 1000:.1f} ms here against 20 ms in the anchors' run (x{floor / 0.020:.1f})")
    print("\n3. herald against confd (confd columns: recorded anchors from "
          "bench/anchors.md,\n   confd is not installable here and was not run)")
    print(f"   {'N apps':>8} {'herald wall':>12} {'confd wall':>11} {'speedup':>9} "
          f"{'target':>8} {'herald RSS':>11} {'confd RSS':>10}")
    ok_all = True
    for n, (wall, _cpu, rss, _served) in oneshot.items():
        if n in CONFD_ONESHOT:
            cwall, crss = CONFD_ONESHOT[n]
            speed = cwall / wall
            target = TARGET_SPEEDUP[n]
            ok = speed >= target
            ok_all = ok_all and ok
            print(f"   {n:>8} {wall * 1000:>9.1f} ms {cwall:>9.2f} s {speed:>8.1f}x "
                  f"{'>=' + format(target, 'g') + 'x':>8} {rss:>7.1f} MiB {crss:>6.1f} MiB"
                  f"  {verdict(ok)}")
        else:
            print(f"   {n:>8} {wall * 1000:>9.1f} ms {'-':>11} {'-':>9} {'-':>8} "
                  f"{rss:>7.1f} MiB {'-':>10}")
    if floor is not None:
        load = floor / 0.020
        for n, (wall, _cpu, _rss, served) in oneshot.items():
            if n in CONFD_ONESHOT:
                print(f"   N={n}: scaled by the load factor x{load:.1f} (an estimate, not a "
                      f"measurement): herald {wall / load * 1000:.0f} ms, "
                      f"{CONFD_ONESHOT[n][0] / (wall / load):.1f}x confd; the JSON gateway's "
                      f"serving time alone was {served / wall * 100:.0f}% of herald's wall")
    sizes = sorted(oneshot)
    for small, big in zip(sizes, sizes[1:]):
        growth = oneshot[big][0] / oneshot[small][0]
        print(f"   growth N={small} -> N={big} ({big // small}x the keys): wall x{growth:.1f}, "
              f"CPU x{oneshot[big][1] / max(oneshot[small][1], 1e-9):.1f} "
              f"(linear or better: <= x{big // small}; confd 1000 -> 10000: "
              f"x{CONFD_ONESHOT[10000][0] / CONFD_ONESHOT[1000][0]:.0f})")
    if watched:
        print(f"\n   watch latency at N={watch_n}   p50       p95       p99       max")
        print(f"   {'herald':24} {watched['p50']:6.1f} ms {watched['p95']:6.1f} ms "
              f"{watched['p99']:6.1f} ms {watched['max']:6.1f} ms")
        for name, (p50, p95, mx) in CONFD_WATCH.items():
            print(f"   {name:24} {p50:6.1f} ms {p95:6.1f} ms {'-':>9} {mx:6.1f} ms   "
                  f"herald p50 {p50 / watched['p50']:.0f}x, p95 {p95 / watched['p95']:.0f}x "
                  "faster")
        ok = watched["p99"] < TARGET_WATCH_P99_MS and watched["missed"] == 0
        ok_all = ok_all and ok
        print(f"   target p99 < {TARGET_WATCH_P99_MS:g} ms with every change seen: {verdict(ok)}")
    print(f"\n   all targets: {verdict(ok_all)}")
    return ok_all


def default_herald():
    for build in ("bench-render", "bench"):
        path = os.path.join(ROOT, "build", build, "apps/herald/herald")
        if os.access(path, os.X_OK):
            return path
    return os.path.join(ROOT, "build/bench/apps/herald/herald")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--herald", default=default_herald(),
                        help="herald binary (a Release build)")
    parser.add_argument("--template", default=os.path.join(ROOT, "bench/nginx-host.tmpl"),
                        help="nginx-host template (default: the one the confd anchors used)")
    parser.add_argument("--quick", action="store_true",
                        help="fewer runs and changes, N up to 1000 (a smoke run, not the figures)")
    parser.add_argument("--runs", type=int, help="one-shot runs per N (default 9, quick 3)")
    parser.add_argument("--changes", type=int, help="watch changes (default 200, quick 50)")
    parser.add_argument("--etcd-tmpfs", action="store_true",
                        help="etcd's data dir on /dev/shm: takes etcd's WAL fsync out of the "
                             "watch clock (said in the output; dest stays on disk)")
    args = parser.parse_args()
    for tool in ("etcd",):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: '{tool}' not found; run ./scripts/setup")
    if not os.access(args.herald, os.X_OK):
        raise SystemExit(f"bench: no herald binary at {args.herald}; build it with "
                         "cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release "
                         "-DHERALD_BUILD_TESTS=OFF && cmake --build build/bench --target herald")

    if args.quick:
        sizes = [100, 1000]
        runs = {100: 3, 1000: 3}
        changes = args.changes or 50
    else:
        sizes = [100, 1000, 10000]
        runs = {100: 9, 1000: 9, 10000: 5}
        changes = args.changes or 200
    if args.runs:
        runs = {n: args.runs for n in sizes}

    print(f"herald: {args.herald}\ntemplate: {os.path.relpath(args.template, ROOT)}")
    print("confd figures are the recorded anchors of bench/anchors.md (confd is not "
          "installable here); compare ratios, not absolute numbers")
    work = tempfile.mkdtemp(prefix="herald-bench-render-")
    etcd = None
    try:
        if args.etcd_tmpfs:
            print("NOTE: etcd's data dir is on tmpfs (/dev/shm) for this run (--etcd-tmpfs): "
                  "etcd's own fsync of each put is NOT in these figures; dest is on disk as "
                  "usual. Run without --etcd-tmpfs for what users get.")
        etcd = Etcd(work, "/dev/shm" if args.etcd_tmpfs else None)
        herald = [args.herald, "--registry", f"etcd://127.0.0.1:{etcd.port}"]
        floor = floor_seconds(etcd, work, 9 if not args.quick else 3)
        oneshot = one_shot(args, etcd, herald, args.template, work, sizes, runs)
        watched = watch(args, etcd, herald, args.template, work, 1000, changes)
        ok = report(oneshot, watched, 1000, floor)
    finally:
        if etcd is not None:
            etcd.stop()
        shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
