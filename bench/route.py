#!/usr/bin/env python3
"""herald route ls against etcdctl get --prefix of the same keys, measured side by side.

Starts its own etcd on free 127.0.0.1 ports (removed at the end), loads N instances (default
10000: N/10 apps x 10 instances at /services/web/appI/appI@J = "10.x.y.z:3000") in batched v3
transactions, then times, median of several runs each:
  herald route ls            (read, parse every value, sort, align a table)
  herald route ls -o json    (read, parse, sort, build and print the JSON document)
  etcdctl get --prefix /services/web            (read and print keys and values)
  etcdctl get --prefix /services/web -w json    (read and print etcd's JSON)
and prints the ratios. The target: herald no slower than etcdctl while also parsing and
formatting.

--leases K binds the keys to K leases (round robin), so `route ls` also asks each lease its TTL
left (one request per lease); 0 (default) stores plain keys, as `etcdctl get` reads them.

Usage: bench/route.py [--herald PATH] [--instances N] [--runs N] [--leases K]
"""
import argparse
import base64
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TXN_OPS = 128  # etcd's default --max-txn-ops


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def b64(text):
    return base64.b64encode(text.encode()).decode()


class Etcd:
    """A throwaway etcd on loopback, its data in `workdir`."""

    def __init__(self, workdir):
        self.port = free_port()
        peer = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        peer_url = f"http://127.0.0.1:{peer}"
        self.log = open(os.path.join(workdir, "etcd.log"), "wb")
        self.proc = subprocess.Popen(
            ["etcd", "--name", "bench", "--data-dir", os.path.join(workdir, "etcd"),
             "--enable-v2=true", "--log-level", "error", "--logger", "zap",
             "--listen-client-urls", self.url, "--advertise-client-urls", self.url,
             "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
             "--initial-cluster", f"bench={peer_url}"],
            stdout=self.log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 20
        while True:
            try:
                with urllib.request.urlopen(self.url + "/health", timeout=1) as r:
                    if json.load(r).get("health") == "true":
                        return
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"etcd did not start; see {self.log.name}")
            time.sleep(0.1)

    def post(self, path, body):
        req = urllib.request.Request(self.url + path, data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30) as r:
            return json.load(r)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()


def load(etcd, instances, leases):
    """Puts `instances` keys in transactions of TXN_OPS puts; returns the seconds it took."""
    start = time.perf_counter()
    lease_ids = [int(etcd.post("/v3/lease/grant", {"TTL": 3600})["ID"]) for _ in range(leases)]
    apps = max(1, instances // 10)
    puts = []
    for n in range(instances):
        app, inst = n % apps, n // apps
        key = f"/services/web/app{app}/app{app}@{inst}"
        value = f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}:3000"
        put = {"key": b64(key), "value": b64(value)}
        if lease_ids:
            put["lease"] = lease_ids[n % len(lease_ids)]
        puts.append({"request_put": put})
    for i in range(0, len(puts), TXN_OPS):
        etcd.post("/v3/kv/txn", {"success": puts[i:i + TXN_OPS]})
    return time.perf_counter() - start


def run_timed(argv, env):
    """Runs argv with stdout into a pipe that is read to the end (as a terminal or a script
    would); returns (wall seconds, CPU seconds, bytes written)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    code = os.waitstatus_to_exitcode(status)
    proc.stdout.close()
    proc.stderr.close()
    if code != 0:
        raise SystemExit(f"benchmark command failed ({code}): {' '.join(argv)}\n{err.decode()}")
    return wall, usage.ru_utime + usage.ru_stime, len(out)


def measure(name, argv, env, runs):
    run_timed(argv, env)  # warm the page cache and etcd
    walls, cpus = [], []
    size = 0
    for _ in range(runs):
        wall, cpu, size = run_timed(argv, env)
        walls.append(wall)
        cpus.append(cpu)
    return {"name": name, "wall": statistics.median(walls), "cpu": statistics.median(cpus),
            "min": min(walls), "bytes": size}


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--herald", default=os.path.join(ROOT, "build/bench-route/apps/herald/herald"),
                        help="the herald binary (default: the Release build in build/bench-route)")
    parser.add_argument("--instances", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=9)
    parser.add_argument("--leases", type=int, default=0)
    args = parser.parse_args()

    for tool in ("etcd", "etcdctl"):
        if not shutil.which(tool):
            raise SystemExit(f"{tool} not found; install the Debian package etcd-server/etcd-client")
    if not os.access(args.herald, os.X_OK):
        raise SystemExit(f"{args.herald} is not an executable; build it or pass --herald")

    with tempfile.TemporaryDirectory(prefix="herald-bench-route-") as workdir:
        etcd = Etcd(workdir)
        try:
            took = load(etcd, args.instances, args.leases)
            endpoint = f"127.0.0.1:{etcd.port}"
            env = {k: v for k, v in os.environ.items()
                   if not k.startswith(("HERALD_", "ETCDCTL_", "CONSUL_"))}
            env_ctl = dict(env, ETCDCTL_API="3")
            herald = [args.herald, "--registry", f"etcd://{endpoint}", "route", "ls"]
            etcdctl = ["etcdctl", "--endpoints", etcd.url, "get", "--prefix", "/services/web"]

            # The listing must really hold every instance before it is worth timing.
            rows = subprocess.run(herald + ["--no-legend"], env=env, check=True,
                                  capture_output=True, text=True).stdout.count("\n")
            if rows != args.instances:
                raise SystemExit(f"herald route ls listed {rows} rows, expected {args.instances}")

            results = [
                measure("herald route ls", herald, env, args.runs),
                measure("herald route ls -o json", herald + ["-o", "json"], env, args.runs),
                measure("etcdctl get --prefix", etcdctl, env_ctl, args.runs),
                measure("etcdctl get --prefix -w json", etcdctl + ["-w", "json"], env_ctl,
                        args.runs),
            ]
        finally:
            etcd.stop()

    print(f"{args.instances} instances under /services/web ({max(1, args.instances // 10)} apps), "
          f"{args.leases} leases; loaded in {took:.2f} s; median of {args.runs} runs\n")
    print(f"{'command':<32}{'wall ms':>10}{'min ms':>10}{'CPU ms':>10}{'output KiB':>12}")
    for r in results:
        print(f"{r['name']:<32}{r['wall'] * 1000:>10.1f}{r['min'] * 1000:>10.1f}"
              f"{r['cpu'] * 1000:>10.1f}{r['bytes'] / 1024:>12.0f}")
    by = {r["name"]: r for r in results}
    print()
    for mine, theirs in (("herald route ls", "etcdctl get --prefix"),
                         ("herald route ls -o json", "etcdctl get --prefix -w json"),
                         ("herald route ls -o json", "etcdctl get --prefix")):
        ratio = by[mine]["wall"] / by[theirs]["wall"]
        verdict = "ok: no slower" if ratio <= 1.0 else "SLOWER"
        print(f"{mine} / {theirs}: wall x{ratio:.2f} "
              f"(CPU x{by[mine]['cpu'] / by[theirs]['cpu']:.2f})  {verdict}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
