#!/usr/bin/env python3
"""herald unit start against fleetctl's way of starting units, measured side by side in one run.

Starts 30 instances web@1..30 and their 30 sidekicks web-discovery@1..30 (MachineOf) from
submitted templates, through the fleet double (tests/doubles/fleet_double.py: fleet's API,
engine and agents on 30 fake machines), until systemd reports every unit active/running:

  herald    `herald unit start web@{1..30} web-discovery@{1..30}`: one list of the units, the
            PUTs 8 at a time (template options and desired state in one request), then one
            look at /state per poll for all units;
  fleetctl  the same lifecycle as fleetctl drives it, request for request as its captures show
            (tests/fixtures/fleet-api/fleetctl-02-*): per unit, one after another, GET the
            instance (404), GET the template, PUT the instance with the template's options, GET
            it twice, PUT desiredState launched; then, as fleetctl's goroutines do, poll each
            unit's GET every 0.25 s until fleet says launched, GET /machines, and poll GET
            /state/NAME every 0.25 s until systemd says active/running.

Both run against the same double, fresh for each run, with the same timings; --latency adds a
network round trip to every answer (an ssh tunnel from a laptop: 20-40 ms). Prints wall time,
requests sent, the ratio, and herald's own CPU per unit.

Usage: bench/fleet.py [--herald PATH] [--runs N] [--latency SECONDS]
"""
import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "doubles"))
sys.dont_write_bytecode = True
from fleet_harness import Double, option  # noqa: E402

INSTANCES = 30
POLL = 0.25  # fleetctl's
TEMPLATE = [option("Unit", "Description", "web %i"),
            option("Service", "ExecStart", "/bin/sh -c 'while true; do sleep 1; done'"),
            option("X-Fleet", "Conflicts", "web@*.service")]
SIDEKICK = [option("Unit", "Description", "web %i sidekick"),
            option("Unit", "BindsTo", "web@%i.service"),
            option("Service", "ExecStart", "/bin/sh -c 'while true; do sleep 1; done'"),
            option("X-Fleet", "MachineOf", "web@%i.service")]


def units():
    return (["web@%d.service" % i for i in range(1, INSTANCES + 1)] +
            ["web-discovery@%d.service" % i for i in range(1, INSTANCES + 1)])


def fresh_double(args):
    double = Double("--machines", str(INSTANCES), "--engine-interval", str(args.engine),
                    "--agent-delay", str(args.agent), "--start-delay", str(args.start),
                    "--latency", str(args.latency))
    double.put_unit("web@.service", TEMPLATE, "inactive")
    double.put_unit("web-discovery@.service", SIDEKICK, "inactive")
    double.control("reset-requests")
    return double


def all_running(double):
    states = double.get_json("/fleet/v1/state").get("states", [])
    running = {s["name"] for s in states
               if (s["systemdActiveState"], s["systemdSubState"]) == ("active", "running")}
    return all(u in running for u in units())


def run_herald(args, double):
    argv = [args.herald, "unit", "start", "--endpoint", double.endpoint, "--timeout", "5m"]
    argv += units()
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                          env=dict(os.environ, HERALD_LOG_FORMAT="text"))
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if proc.returncode != 0:
        raise SystemExit("herald unit start failed (%d): %s" % (proc.returncode,
                                                               proc.stderr.decode()[-2000:]))
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def run_fleetctl_way(double):
    """fleetctl start web@1..30 web-discovery@1..30, request for request."""
    start = time.perf_counter()
    path = "/fleet/v1/units/"
    for name in units():  # lazyCreateUnits: one unit after another
        assert double.request("GET", path + name).status == 404
        template = name.split("@")[0] + "@.service"
        tmpl = double.get_json(path + template)
        resp = double.request("PUT", path + name, {"name": name, "options": tmpl["options"]})
        assert resp.status == 201, resp
        double.request("GET", path + name)
    for name in units():  # setTargetStateOfUnits: one after another
        double.request("GET", path + name)
        resp = double.request("PUT", path + name, {"desiredState": "launched", "name": name})
        assert resp.status == 204, resp

    def wait(name):  # one goroutine per unit, polling at 0.25 s
        while double.get_json(path + name).get("currentState") != "launched":
            time.sleep(POLL)
        double.get_json("/fleet/v1/machines")
        while True:
            resp = double.request("GET", "/fleet/v1/state/" + name)
            if resp.status == 200 and resp.json()["systemdSubState"] == "running":
                return
            time.sleep(POLL)

    threads = [threading.Thread(target=wait, args=(name,)) for name in units()]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return time.perf_counter() - start


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--herald", default=os.path.join(ROOT, "build/bench/apps/herald/herald"))
    p.add_argument("--runs", type=int, default=3)
    p.add_argument("--latency", type=float, default=0.0,
                   help="seconds of network round trip added to each answer")
    p.add_argument("--engine", type=float, default=0.2, help="engine interval of the double")
    p.add_argument("--agent", type=float, default=0.1, help="agent step of the double")
    p.add_argument("--start", type=float, default=0.3, help="systemd start time in the double")
    args = p.parse_args()
    if not os.access(args.herald, os.X_OK):
        raise SystemExit("no herald binary at %s (build it, or pass --herald)" % args.herald)

    results = {"herald": [], "fleetctl": [], "cpu": [], "herald_requests": [],
               "fleetctl_requests": []}
    for _ in range(args.runs):
        with fresh_double(args) as double:
            wall, cpu = run_herald(args, double)
            assert all_running(double), "herald returned before every unit ran"
            results["herald"].append(wall)
            results["cpu"].append(cpu)
            results["herald_requests"].append(double.control("requests", "GET")["total"])
        with fresh_double(args) as double:
            results["fleetctl"].append(run_fleetctl_way(double))
            assert all_running(double)
            results["fleetctl_requests"].append(double.control("requests", "GET")["total"])

    n = len(units())
    herald = statistics.median(results["herald"])
    fleetctl = statistics.median(results["fleetctl"])
    cpu = statistics.median(results["cpu"])
    print("start %d units (%d instances + %d sidekicks) through the fleet double, "
          "latency %.0f ms, median of %d runs" % (n, INSTANCES, INSTANCES, args.latency * 1000,
                                                   args.runs))
    print("  %-34s %8.2f s  %6d requests" % ("fleetctl's sequence", fleetctl,
                                              statistics.median(results["fleetctl_requests"])))
    print("  %-34s %8.2f s  %6d requests" % ("herald unit start", herald,
                                              statistics.median(results["herald_requests"])))
    print("  ratio (fleetctl / herald)          %8.1fx" % (fleetctl / herald))
    print("  herald CPU                         %8.1f ms in all, %.2f ms per unit"
          % (cpu * 1000, cpu * 1000 / n))
    print(json.dumps({"units": n, "latency_s": args.latency, "herald_s": herald,
                      "fleetctl_s": fleetctl, "ratio": fleetctl / herald,
                      "herald_cpu_ms_per_unit": cpu * 1000 / n}))


if __name__ == "__main__":
    main()
