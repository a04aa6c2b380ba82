#!/usr/bin/env python3
"""herald announce/deregister against what it replaces, measured side by side in one run.

Compares, on a real etcd on 127.0.0.1 (started here, removed at the end):
  1. wall time and CPU of one register and one deregister: herald vs `etcdctl put/del` (v3) and
     `etcdctl set/rm` (v2), and a bare C program making the same single request with libcurl
     (the floor of herald's own stack);
  2. steady memory of a running `herald announce` vs the bash sidekick loop (alone, and plus the
     peak of the etcdctl it forks per heartbeat) and a C program holding one libcurl handle;
  3. CPU per heartbeat of `herald announce` vs one etcdctl run.
Prints medians and ratios. Usage: bench/announce.py [--herald PATH] [--runs N]
"""
import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_measured(argv, env=None):
    """Runs argv to completion; returns (wall seconds, cpu seconds, max RSS KiB)."""
    start = time.perf_counter()
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - start
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        raise SystemExit(f"benchmark command failed ({proc.returncode}): {' '.join(argv)}\n"
                         f"{proc.stderr.read().decode()}")
    proc.stderr.close()
    return wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss


def proc_status(pid):
    fields = {}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            key, _, value = line.partition(":")
            if key in ("VmRSS", "RssAnon", "RssFile", "VmHWM"):
                fields[key] = int(value.split()[0])  # KiB
    return fields


def cpu_ns(pid):
    """CPU time of a process in nanoseconds (schedstat when available, else clock ticks)."""
    try:
        with open(f"/proc/{pid}/schedstat") as f:
            return int(f.read().split()[0])
    except OSError:
        with open(f"/proc/{pid}/stat") as f:
            parts = f.read().rsplit(")", 1)[1].split()
        ticks = int(parts[11]) + int(parts[12])
        return ticks * 1_000_000_000 // os.sysconf("SC_CLK_TCK")


class Etcd:
    def __init__(self, workdir):
        self.port = free_port()
        peer = free_port()
        client = f"http://127.0.0.1:{self.port}"
        peer_url = f"http://127.0.0.1:{peer}"
        self.proc = subprocess.Popen(
            ["etcd", "--name", "bench", "--data-dir", os.path.join(workdir, "etcd"),
             "--enable-v2=true", "--log-level", "error", "--logger", "zap",
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
             "--initial-cluster", f"bench={peer_url}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.url = client
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    break
            except OSError:
                time.sleep(0.05)
        subprocess.run(["etcdctl", "--endpoints", client, "endpoint", "health"],
                       env=dict(os.environ, ETCDCTL_API="3"), check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


def median(values):
    return statistics.median(values)


def fmt_ms(seconds):
    return f"{seconds * 1000:7.1f} ms"


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--herald", default=os.path.join(ROOT, "build/bench/apps/herald/herald"))
    parser.add_argument("--runs", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0,
                        help="how long the steady-state phase runs")
    args = parser.parse_args()
    for tool in ("etcd", "etcdctl", "cc", "bash"):
        if shutil.which(tool) is None:
            raise SystemExit(f"bench: '{tool}' not found; run ./scripts/setup")
    if not os.access(args.herald, os.X_OK):
        raise SystemExit(f"bench: no herald binary at {args.herald}; build it with "
                         "cmake -S . -B build/bench -DCMAKE_BUILD_TYPE=Release && "
                         "cmake --build build/bench --target herald")

    work = tempfile.mkdtemp(prefix="herald-bench-")
    etcd = Etcd(work)
    children = []
    try:
        floor = os.path.join(work, "curl_floor")
        loop = os.path.join(work, "curl_loop")
        subprocess.run(["cc", "-O2", "-o", floor, os.path.join(ROOT, "bench/curl_floor.c"),
                        "-lcurl"], check=True)
        subprocess.run(["cc", "-O2", "-o", loop, os.path.join(ROOT, "bench/curl_loop.c"),
                        "-lcurl"], check=True)
        nothing = os.path.join(work, "nothing")
        with open(nothing + ".c", "w") as f:
            f.write("int main(void){return 0;}\n")
        subprocess.run(["cc", "-O2", "-o", nothing, nothing + ".c"], check=True)

        v3 = dict(os.environ, ETCDCTL_API="3")
        v2 = dict(os.environ, ETCDCTL_API="2")
        ep = ["--endpoints", etcd.url]
        h3 = [args.herald, "--registry", f"etcd://127.0.0.1:{etcd.port}"]
        h2 = [args.herald, "--registry", f"etcd2://127.0.0.1:{etcd.port}"]
        key = "/services/web/bench/bench@1"
        addr = "127.0.0.1:3000"
        put_json = ('{"key":"L3NlcnZpY2VzL3dlYi9iZW5jaC9iZW5jaEAx",'
                    '"value":"MTI3LjAuMC4xOjMwMDA="}')

        # name -> (argv, env); pairs run interleaved so drift and noise hit all alike.
        cases = {
            "herald announce --once (v3)": (h3 + ["announce", "bench@1", "--addr", addr,
                                                   "--once"], None),
            "herald deregister (v3)": (h3 + ["deregister", "bench@1"], None),
            "etcdctl put (v3)": (["etcdctl"] + ep + ["put", key, addr], v3),
            "etcdctl del (v3)": (["etcdctl"] + ep + ["del", key], v3),
            "herald announce --once (v2)": (h2 + ["announce", "bench@1", "--addr", addr,
                                                   "--once"], None),
            "herald deregister (v2)": (h2 + ["deregister", "bench@1"], None),
            "etcdctl set --ttl 60 (v2)": (["etcdctl"] + ep + ["set", key, addr, "--ttl", "60"],
                                          v2),
            "etcdctl rm (v2)": (["etcdctl"] + ep + ["rm", key], v2),
            "libcurl floor: one v3 put in C": ([floor, etcd.url, put_json], None),
            "a C program that does nothing": ([nothing], None),
        }
        results = {name: [] for name in cases}
        for _ in range(args.runs):
            for name, (argv, env) in cases.items():
                results[name].append(run_measured(argv, env))

        # No peak RSS column: a child's ru_maxrss includes the Python process it was forked from
        # before exec, so it would show Python's size for every command.
        print(f"\n1. One-shot commands, median of {args.runs} (wall, CPU)")
        med = {}
        for name, runs in results.items():
            wall = median([r[0] for r in runs])
            cpu = median([r[1] for r in runs])
            rss = max(r[2] for r in runs)
            med[name] = (wall, cpu, rss)
            print(f"   {name:34} {fmt_ms(wall)} {fmt_ms(cpu)}")
        floor_wall = med["libcurl floor: one v3 put in C"][0]
        print("   ratios (wall):")
        for herald_case, other in (("herald announce --once (v3)", "etcdctl put (v3)"),
                                   ("herald deregister (v3)", "etcdctl del (v3)"),
                                   ("herald announce --once (v2)", "etcdctl set --ttl 60 (v2)"),
                                   ("herald deregister (v2)", "etcdctl rm (v2)")):
            h = med[herald_case][0]
            print(f"   {herald_case:34} {h / med[other][0]:5.2f}x {other}, "
                  f"{h / floor_wall:5.2f}x the libcurl floor (target <= 1.20x)")

        # 2 + 3: steady state. herald refreshes every 200 ms here so CPU per heartbeat is
        # measured over many heartbeats; the bash loop forks etcdctl at the same rate.
        interval = 0.2
        sidekick = subprocess.Popen(
            h3 + ["announce", "bench@2", "--addr", addr, "--ttl", "2s", "--refresh", "200ms"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children.append(sidekick)
        bash_loop = subprocess.Popen(
            ["bash", "-c", f"while true; do etcdctl --endpoints {etcd.url} put "
             f"/services/web/bench/bench@3 {addr} >/dev/null; sleep {interval}; done"],
            env=v3, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children.append(bash_loop)
        lease = subprocess.run(["etcdctl"] + ep + ["lease", "grant", "600"], env=v3,
                               capture_output=True, text=True, check=True).stdout.split()[1]
        lease_dec = str(int(lease, 16))
        curl_holder = subprocess.Popen([loop, etcd.url, lease_dec, str(int(interval * 1000))],
                                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        children.append(curl_holder)
        time.sleep(2.0)  # past start-up, first registration and a few heartbeats
        cpu_start = cpu_ns(sidekick.pid)
        t0 = time.perf_counter()
        time.sleep(args.seconds)
        cpu_used = cpu_ns(sidekick.pid) - cpu_start
        elapsed = time.perf_counter() - t0
        heartbeats = elapsed / interval
        mem = {"herald announce": proc_status(sidekick.pid),
               "bash loop (bash itself)": proc_status(bash_loop.pid),
               "C program holding one libcurl handle": proc_status(curl_holder.pid)}
        etcdctl_peak = med["etcdctl put (v3)"][2]

        print("\n2. Steady memory of a running sidekick (KiB: VmRSS, private RssAnon)")
        for name, m in mem.items():
            print(f"   {name:38} VmRSS {m['VmRSS']:6d}  RssAnon {m['RssAnon']:6d}")
        bash_total = mem["bash loop (bash itself)"]["VmRSS"] + etcdctl_peak
        print(f"   {'bash loop + peak of its etcdctl':38} VmRSS {bash_total:6d}")
        h = mem["herald announce"]
        print(f"   herald RssAnon {h['RssAnon'] / 1024:.2f} MiB (target <= 2 MiB); "
              f"VmRSS {h['VmRSS'] / bash_total:.2f}x bash+etcdctl, "
              f"{h['VmRSS'] / mem['bash loop (bash itself)']['VmRSS']:.2f}x bash alone")

        per_beat = cpu_used / 1e9 / heartbeats
        etcdctl_cpu = med["etcdctl put (v3)"][1]
        print(f"\n3. CPU per heartbeat over {heartbeats:.0f} heartbeats")
        print(f"   herald announce: {per_beat * 1e6:8.1f} us per heartbeat")
        print(f"   one etcdctl put: {etcdctl_cpu * 1e6:8.1f} us")
        print(f"   ratio: herald uses 1/{etcdctl_cpu / per_beat:.0f} of an etcdctl run "
              f"(target: at most 1/20)")
    finally:
        for child in children:
            child.send_signal(signal.SIGTERM)
            try:
                child.wait(5)
            except subprocess.TimeoutExpired:
                child.kill()
        etcd.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
