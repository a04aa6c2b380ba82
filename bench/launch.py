#!/usr/bin/env python3
"""The on-demand launcher: its own cost on a first request, and its refusals on one core.

(1) Launch cost. A path-routed cluster on the local Docker engine: a real etcd, herald's
registrator, nginx kept in step by `herald render --watch` from the bundled nginx-path.tmpl, and
`herald launch serve` announced under /services/launchers, with a template app "{name}" (a busybox
httpd answering its name at /NAME/) allowed by "lb*". For a fresh name, the time from the first
request for /NAME/ through nginx until nginx answers 200 from the app (polled every 20 ms as an
API client: the launcher answers 503 while the app starts), against the time the container alone
takes: `docker run` of the same image with a published port until that port answers 200,
measured in the same run. The difference is what the launcher path adds: the policy, the
scheduler's create and start, the registrator's announcement, render and nginx's reload. The
render runs with `--wait 20ms:500ms`, so its debounce does not dominate (a router unit of `herald
unit gen router` gathers for 2s:4s, which a user then waits on top); it is printed with the
figures. Target: a difference of at most 200 ms (median of
--runs, each with a fresh app name). The app has no health check: it is announced once it runs.

(2) Refusals on one core. A name no allow pattern matches gets nginx's plain 404 from the
launcher; wrk (one thread, pinned to the other core) against the launcher directly, pinned with
`taskset -c 0`, compared with nginx answering the same 404 itself (`return 404;`,
worker_processes 1, also pinned to core 0). Prints requests/s of each and the ratio.

Everything runs on 127.0.0.1 on free ports and is removed at the end, also on failure or Ctrl-C.
The Docker daemon is DOCKER_HOST's (default /var/run/docker.sock; scripts/docker-up starts one).
Usage: bench/launch.py [--herald PATH] [--runs N] [--seconds S]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PID = os.getpid()
IMAGE = "herald-bench/named:1"
SERVE = ('mkdir -p /www/$APP_NAME && echo $APP_NAME > /www/$APP_NAME/index.html && '
         'echo ok > /www/health && httpd -f -p 8080 -h /www & trap "kill $!; exit 0" TERM; wait')
RENDER_WAIT = "20ms:500ms"
TARGET_MS = 200
# Every key below one root, as the launcher's integration test lays them out (render --prefix).
ROOT_PREFIX = "/bench"
REFUSED = "nope"  # a DNS label no allow pattern ("lb*") matches


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def fail(message):
    raise SystemExit(f"launch.py: {message}")


def docker(*args, check=True):
    r = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        fail(f"docker {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout.strip()


def ensure_image():
    """IMAGE: a busybox rootfs answering $APP_NAME at /$APP_NAME/ and ok at /health on 8080."""
    if subprocess.run(["docker", "image", "inspect", IMAGE], capture_output=True).returncode == 0:
        return
    busybox = shutil.which("busybox") or "/bin/busybox"
    work = tempfile.mkdtemp(prefix="herald-bench-image-")
    try:
        root = os.path.join(work, "rootfs")
        os.makedirs(os.path.join(root, "bin"))
        os.makedirs(os.path.join(root, "tmp"))
        shutil.copy(busybox, os.path.join(root, "bin/busybox"))
        for tool in ("sh", "httpd", "mkdir", "echo", "kill"):
            os.symlink("busybox", os.path.join(root, "bin", tool))
        tarball = os.path.join(work, "rootfs.tar")
        subprocess.run(["tar", "-C", root, "-cf", tarball, "."], check=True)
        docker("import", "--change", "ENV PATH=/bin", "--change",
               "CMD " + json.dumps(["sh", "-c", SERVE]), tarball, IMAGE)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Proc:
    """A background process, stopped (TERM, then KILL) by stop()."""

    def __init__(self, argv, log, env=None):
        self.log = log
        self.proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=open(log, "w"),
                                     env={**os.environ, **(env or {})})

    def text(self):
        with open(self.log) as f:
            return f.read()

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_until(what, predicate, timeout, log=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.05)
    tail = ""
    if log:
        tail = "\n" + "\n".join(log.text().splitlines()[-15:])
    fail(f"timed out waiting for {what}{tail}")


def get(port, path, accept="application/json"):
    """(status, body) of GET http://127.0.0.1:PORT/PATH; (0, "") when it cannot connect."""
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        conn.request("GET", path, headers={"Accept": accept})
        r = conn.getresponse()
        body = r.read().decode(errors="replace")
        conn.close()
        return r.status, body
    except OSError:
        return 0, ""


def until_answers(port, name, timeout):
    """Seconds until GET /NAME/ on PORT answers 200 with NAME, polled every 20 ms from now."""
    t0 = time.monotonic()
    deadline = t0 + timeout
    while time.monotonic() < deadline:
        status, body = get(port, f"/{name}/")
        if status == 200 and body.strip() == name:
            return time.monotonic() - t0
        time.sleep(0.02)
    return None


class World:
    def __init__(self, herald, work):
        self.herald = herald
        self.work = work
        self.procs = []

    def up(self):
        """etcd, the registrator, nginx + render, the launcher; stop() ends what started."""
        herald, work = self.herald, self.work
        self.etcd_port = free_port()
        peer = free_port()
        client = f"http://127.0.0.1:{self.etcd_port}"
        self.registry = f"etcd://127.0.0.1:{self.etcd_port}"
        self.start(["etcd", "--name", "bench", "--data-dir", os.path.join(work, "etcd"),
                    "--log-level", "error", "--listen-client-urls", client,
                    "--advertise-client-urls", client, "--listen-peer-urls",
                    f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls",
                    f"http://127.0.0.1:{peer}", "--initial-cluster",
                    f"bench=http://127.0.0.1:{peer}"], "etcd.log")
        wait_until("etcd", lambda: self.etcdctl("endpoint", "health") is not None, 20)
        registrator = self.start([herald, "--registry", self.registry, "announce",
                                  "--docker-events", "--prefix", f"{ROOT_PREFIX}/services/web", "--node",
                                  "bench", "--ttl", "30s"], "registrator.log")
        # The launcher refuses to start anything until the registrator has announced itself.
        wait_until("the registrator", lambda: bool(self.etcdctl(
            "get", "--prefix", "/herald/registrators/", "--keys-only")), 15, registrator)
        self.cluster = os.path.join(work, "cluster.yaml")
        with open(self.cluster, "w") as f:
            f.write(f"""registry: {{url: "{self.registry}", prefix: {ROOT_PREFIX}/services/web}}
scheduler: {{kind: docker, host_ip: 127.0.0.1}}
apps:
  - name: "{{name}}"
    image: {IMAGE}
    port: 8080
    routing: path
    env: {{APP_NAME: "{{name}}"}}
launch:
  allow: ["lb*"]
  max_apps: 0
""")
        # The launcher first, announced before render starts, as a unit's After= would order it.
        self.launcher_port = free_port()
        self.launcher = self.start(
            [herald, "--registry", self.registry, "launch", "serve", "-f", self.cluster,
             "--listen", f"127.0.0.1:{self.launcher_port}", "--announce-prefix",
             f"{ROOT_PREFIX}/services/launchers", "--node", "n1", "--rate", "0",
             "--client-rate", "0", "--timeout", "60s"], "launcher.log")
        wait_until("the launcher's announcement", lambda: bool(self.etcdctl(
            "get", "--prefix", f"{ROOT_PREFIX}/services/launchers/", "--keys-only")), 15,
            self.launcher)
        # nginx routing by path, kept in step by render from the bundled template.
        self.nginx_port = free_port()
        self.nginx_dir = self.nginx("router", self.nginx_port,
                                    f"include {work}/router/conf.d/*.conf;", pinned=False)
        n = self.nginx_dir
        self.render = self.start(
            [herald, "--registry", self.registry, "render", "--template",
             os.path.join(ROOT, "templates/nginx-path.tmpl"), "--dest", f"{n}/conf.d/apps.conf",
             "--prefix", ROOT_PREFIX, "--keys", "/services/web", "--keys", "/services/launchers",
             "--reload-cmd", f"nginx -p {n}/ -c {n}/nginx.conf -s reload",
             "--watch", "--wait", RENDER_WAIT], "render.log",
            {"HERALD_NGINX_LISTEN": f"127.0.0.1:{self.nginx_port}"})
        # nginx sends what no app claims to the launcher once render installed its announcement.
        wait_until("nginx routing to the launcher",
                   lambda: get(self.nginx_port, "/healthz") == (200, "ok\n"), 20, self.render)

    def nginx(self, name, port, http_body, pinned):
        """An nginx of its own on 127.0.0.1:PORT (worker_processes 1); returns its directory."""
        n = os.path.join(self.work, name)
        os.makedirs(os.path.join(n, "conf.d"))
        with open(os.path.join(n, "nginx.conf"), "w") as f:
            f.write(f"""daemon off;
pid {n}/nginx.pid;
error_log {n}/error.log;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    server_tokens off;  # the 404 page says "nginx", as the launcher's copy of it does
    client_body_temp_path {n}/body; proxy_temp_path {n}/proxy; fastcgi_temp_path {n}/fastcgi;
    uwsgi_temp_path {n}/uwsgi; scgi_temp_path {n}/scgi;
    {http_body}
}}
""")
        argv = ["nginx", "-p", n + "/", "-c", f"{n}/nginx.conf"]
        p = self.start((["taskset", "-c", "0"] if pinned else []) + argv, f"{name}.out")
        wait_until(f"nginx ({name})", lambda: os.path.exists(f"{n}/nginx.pid"), 10, p)
        return n

    def start(self, argv, log, env=None):
        p = Proc(argv, os.path.join(self.work, log), env)
        self.procs.append(p)
        return p

    def etcdctl(self, *args):
        r = subprocess.run(["etcdctl", "--endpoints", f"127.0.0.1:{self.etcd_port}", *args],
                           capture_output=True, text=True, env={**os.environ, "ETCDCTL_API": "3"})
        return r.stdout if r.returncode == 0 else None

    def starts(self):
        """(count, sum) of the launcher's herald_launch_start_duration_seconds, or None."""
        status, text = get(self.launcher_port, "/metrics", "text/plain")
        found = {}
        for what in ("count", "sum"):
            m = re.search(rf"^herald_launch_start_duration_seconds_{what}\s+(\S+)", text, re.M)
            if status != 200 or not m:
                return None
            found[what] = float(m.group(1))
        return found["count"], found["sum"]

    def start_seconds(self, before):
        """How long the launcher's start took by its own count (scheduler start until the app
        is routable), once the start after `before` (starts()) is counted; None if never."""
        if before is None:
            return None
        deadline = time.time() + 10
        while time.time() < deadline:
            now = self.starts()
            if now and now[0] > before[0]:
                return now[1] - before[1]
            time.sleep(0.05)
        return None

    def stop(self):
        for p in reversed(self.procs):
            p.stop()


def remove_containers():
    ids = docker("ps", "-aq", "--filter", f"label=herald.bench={PID}", check=False).split()
    for app in docker("ps", "-a", "--format", "{{.Label \"herald.app\"}}", check=False).split():
        if app.startswith(f"lb{PID}-"):
            ids += docker("ps", "-aq", "--filter", f"label=herald.app={app}", check=False).split()
    for cid in set(ids):
        docker("rm", "-f", "-v", cid, check=False)


def container_alone(name):
    """Seconds from `docker run` until the container's published port answers 200."""
    port = free_port()
    t0 = time.monotonic()
    # herald.ignore: the registrator leaves it out, so nothing reloads the router meanwhile.
    cid = docker("run", "-d", "-p", f"127.0.0.1:{port}:8080", "-e", f"APP_NAME={name}",
                 "--label", f"herald.bench={PID}", "--label", "herald.ignore=1", IMAGE)
    waited = until_answers(port, name, 30)
    if waited is None:
        fail(f"container {cid[:12]} did not answer on 127.0.0.1:{port}")
    elapsed = time.monotonic() - t0
    docker("rm", "-f", "-v", cid, check=False)
    return elapsed


def launch_cost(world, runs):
    rows = []
    for n in range(runs):
        alone = container_alone(f"lb{PID}-c{n}")
        name = f"lb{PID}-{n}"
        before = world.starts()
        took = until_answers(world.nginx_port, name, 60)
        if took is None:
            tail = "\n".join(world.launcher.text().splitlines()[-15:])
            fail(f"/{name}/ did not answer through nginx within 60 s; launcher:\n{tail}")
        start = world.start_seconds(before)
        rows.append((name, took, alone, start))
        time.sleep(1.5)  # the render's burst is over before the next run
    return rows


def wrk(port, path, seconds):
    """Requests/s of wrk (one thread on core 1, 32 connections) against 127.0.0.1:PORT/PATH."""
    argv = ["taskset", "-c", "1", "wrk", "-t1", "-c32", f"-d{seconds}s",
            f"http://127.0.0.1:{port}{path}"]
    r = subprocess.run(argv, capture_output=True, text=True, timeout=seconds + 30)
    m = re.search(r"Requests/sec:\s+([\d.]+)", r.stdout)
    if r.returncode != 0 or not m:
        fail(f"wrk failed: {r.stdout}{r.stderr}")
    errors = re.search(r"Socket errors: (.*)", r.stdout)
    return float(m.group(1)), errors.group(1) if errors else "none"


def refusals(world, herald, seconds):
    # A launcher of its own on core 0, announced where the router does not look.
    port = free_port()
    launcher = world.start(
        ["taskset", "-c", "0", herald, "--registry", world.registry, "--log-level", "warn",
         "launch", "serve", "-f", world.cluster, "--listen", f"127.0.0.1:{port}", "--node",
         "bench-pinned", "--announce-prefix", f"{ROOT_PREFIX}/unrouted/launchers"],
        "launcher-pinned.log")
    wait_until("the pinned launcher", lambda: get(port, "/healthz")[0] == 200, 15, launcher)
    nginx_port = free_port()
    world.nginx("nginx404", nginx_port,
                f"server {{ listen 127.0.0.1:{nginx_port}; location / {{ return 404; }} }}",
                pinned=True)
    path = f"/{REFUSED}/"
    a, b = get(port, path, "text/html"), get(nginx_port, path, "text/html")
    if a[0] != 404 or b[0] != 404:
        fail(f"expected 404 from both, got launcher {a[0]}, nginx {b[0]}")
    if a[1] != b[1]:
        print("note: the launcher's 404 body differs from nginx's", file=sys.stderr)
    out = {}
    for who, p in (("launcher", port), ("nginx", nginx_port)):
        wrk(p, path, 1)  # warm-up
        out[who] = wrk(p, path, seconds)
    launcher.stop()
    return out


def ms(seconds):
    return f"{seconds * 1000:7.0f} ms"


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = os.path.join(ROOT, "build/demo/apps/herald/herald")
    if not os.access(default, os.X_OK):
        default = os.path.join(ROOT, "build/test/apps/herald/herald")
    ap.add_argument("--herald", default=default)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--seconds", type=int, default=10, help="wrk's duration per server")
    args = ap.parse_args()
    if args.runs < 1 or args.seconds < 1:
        fail("--runs and --seconds take a positive number")
    for tool in ("etcd", "etcdctl", "nginx", "wrk", "docker", "taskset"):
        if not shutil.which(tool):
            fail(f"{tool} is not installed (scripts/setup)")
    if not os.access(args.herald, os.X_OK):
        fail(f"no herald at {args.herald} (scripts/demo builds build/demo)")
    if os.cpu_count() and os.cpu_count() < 2:
        fail("needs two cores (the server on core 0, wrk on core 1)")
    if subprocess.run(["docker", "version"], capture_output=True).returncode != 0:
        fail("no Docker engine answers (scripts/docker-up starts one)")
    ensure_image()
    work = tempfile.mkdtemp(prefix="herald-bench-launch-")
    world = None
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        world = World(args.herald, work)
        world.up()
        rows = launch_cost(world, args.runs)
        print(f"herald: {args.herald}")
        print(f"(1) first request to 200 through nginx, against the container alone "
              f"(render --wait {RENDER_WAIT}: part of what a user sees)")
        print(f"{'APP':<16}{'THROUGH NGINX':>15}{'CONTAINER':>12}{'LAUNCHER':>12}"
              f"{'START->ROUTABLE':>17}")
        for name, took, alone, start in rows:
            shown = ms(start) if start is not None else "      ?"
            print(f"{name:<16}{ms(took):>15}{ms(alone):>12}{ms(took - alone):>12}{shown:>17}")
        took = statistics.median(r[1] for r in rows)
        alone = statistics.median(r[2] for r in rows)
        cost = statistics.median(r[1] - r[2] for r in rows)
        verdict = "met" if cost * 1000 <= TARGET_MS else "NOT met"
        print(f"{'median':<16}{ms(took):>15}{ms(alone):>12}{ms(cost):>12}")
        print(f"launcher's own cost (median of {args.runs}): {cost * 1000:.0f} ms; "
              f"target <= {TARGET_MS} ms: {verdict}")
        print("START->ROUTABLE: the launcher's own start duration (scheduler start until "
              "registered), from its /metrics")
        result = refusals(world, args.herald, args.seconds)
        (lr, le), (nr, ne) = result["launcher"], result["nginx"]
        print(f"(2) refusals on one core (taskset -c 0), wrk -t1 -c32 -d{args.seconds}s on "
              f"core 1, GET /{REFUSED}/ -> 404")
        print(f"launcher: {lr:10.0f} req/s  (socket errors: {le})")
        print(f"nginx:    {nr:10.0f} req/s  (socket errors: {ne})")
        print(f"ratio launcher/nginx: {lr / nr:.2f}")
    finally:
        remove_containers()
        if world:
            world.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
