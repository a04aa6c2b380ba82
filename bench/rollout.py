#!/usr/bin/env python3
"""A rolling image change under steady load: `herald cluster up` against the hand-made way.

Three instances of an app (containers on the local Docker engine, registered in a real etcd by
herald's registrator) behind a real router whose config `herald render --watch` keeps in step:
  nginx:   bundled nginx-host.tmpl with retries to another upstream turned off
           (`proxy_next_upstream off`: a request sent to a stopped instance is a 502 the load
           sees, as it would be for a POST);
  haproxy: bundled haproxy.tmpl (health-checked servers), master-worker mode, reloaded with
           SIGUSR2; herald's render also gets its stats socket (--haproxy-socket).
wrk keeps 20 keep-alive connections busy while the app's image changes from v1 to v2:
  herald:  `herald cluster up` (new instance routable before an old one is withdrawn, drained,
           stopped) with render --wait 2s:4s (nginx: one reload per step; haproxy: servers added
           and removed through the runtime API, no reload);
  by hand: what the shell did: for each old instance, `docker run` the new one, wait until it is
           registered, `docker stop` the old one; render reloads on every change (confd's watch).
Prints, per router and way: requests, non-2xx, socket errors (a reload closes busy keep-alive
connections), reloads and the rollout time, then the failed requests of each way.
Everything runs on 127.0.0.1 and is removed at the end. The Docker daemon is DOCKER_HOST's
(default /var/run/docker.sock; scripts/docker-up starts one).
Usage: bench/rollout.py [--herald PATH] [--runs N] [--routers nginx,haproxy]
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
PID = os.getpid()
SERVE = ('mkdir -p /www && echo "$VERSION" > /www/index.html && echo ok > /www/health && '
         'httpd -f -p 8080 -h /www & trap "kill $!; exit 0" TERM; wait')


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def docker(*args, check=True):
    r = subprocess.run(["docker", *args], capture_output=True, text=True, timeout=120)
    if check and r.returncode != 0:
        raise SystemExit(f"rollout.py: docker {' '.join(args)}: {r.stderr.strip()}")
    return r.stdout.strip()


def ensure_images():
    """herald-bench/versioned:v1 and :v2: a busybox rootfs answering its version at / on 8080."""
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
        for version in ("v1", "v2"):
            tag = f"herald-bench/versioned:{version}"
            if subprocess.run(["docker", "image", "inspect", tag],
                              capture_output=True).returncode == 0:
                continue
            docker("import", "--change", "ENV PATH=/bin", "--change", f"ENV VERSION={version}",
                   "--change", "CMD " + json.dumps(["sh", "-c", SERVE]), tarball, tag)
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


def wait_until(what, predicate, timeout):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise SystemExit(f"rollout.py: timed out waiting for {what}")


def get(port, host):
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
        conn.request("GET", "/", headers={"Host": host})
        r = conn.getresponse()
        return r.read().decode().strip() if r.status == 200 else ""
    except OSError:
        return ""


class World:
    def __init__(self, herald, work):
        self.herald = herald
        self.work = work
        self.procs = []
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
        self.start([herald, "--registry", self.registry, "announce", "--docker-events",
                    "--prefix", "/services/web", "--node", "bench", "--ttl", "30s"],
                   "registrator.log")
        # cluster up refuses to start anything until the registrator has announced itself.
        wait_until("the registrator", lambda: bool(self.etcdctl(
            "get", "--prefix", "/herald/registrators/", "--keys-only")), 15)
        self.nginx_port = free_port()
        self.nginx_dir = os.path.join(work, "nginx")
        os.makedirs(os.path.join(self.nginx_dir, "conf.d"))
        n = self.nginx_dir
        with open(os.path.join(n, "nginx.conf"), "w") as f:
            f.write(f"""daemon off;
pid {n}/nginx.pid;
error_log {n}/error.log;
worker_processes 1;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {n}/body; proxy_temp_path {n}/proxy; fastcgi_temp_path {n}/fastcgi;
    uwsgi_temp_path {n}/uwsgi; scgi_temp_path {n}/scgi;
    include {n}/conf.d/*.conf;
}}
""")
        with open(os.path.join(ROOT, "templates/nginx-host.tmpl")) as f:
            tmpl = f.read()
        retry = "proxy_next_upstream error timeout http_502 http_503 http_504;"
        if retry not in tmpl:
            raise SystemExit("rollout.py: templates/nginx-host.tmpl no longer has its retry line")
        self.template = os.path.join(work, "nginx-no-retry.tmpl")
        with open(self.template, "w") as f:
            f.write(tmpl.replace(retry, "proxy_next_upstream off;"))
        self.start(["nginx", "-p", n + "/", "-c", f"{n}/nginx.conf"], "nginx.out")
        wait_until("nginx", lambda: os.path.exists(f"{n}/nginx.pid"), 10)
        self.render = None
        self.router = "nginx"
        self.haproxy = None

    def start_haproxy(self):
        """haproxy in master-worker mode on the bundled haproxy.tmpl, rendered once."""
        h = os.path.join(self.work, "haproxy")
        os.makedirs(h)
        self.haproxy_port = free_port()
        self.haproxy_socket = os.path.join(h, "admin.sock")
        self.haproxy_cfg = os.path.join(h, "haproxy.cfg")
        self.haproxy_pid = os.path.join(h, "haproxy.pid")
        self.haproxy_reloads = os.path.join(h, "reloads.log")
        self.haproxy_reload = os.path.join(h, "reload")
        with open(self.haproxy_reload, "w") as f:
            f.write(f"#!/bin/sh\necho reload >> {self.haproxy_reloads}\n"
                    f"exec kill -USR2 \"$(cat {self.haproxy_pid})\"\n")
        os.chmod(self.haproxy_reload, 0o700)
        r = subprocess.run(self.render_argv("haproxy", reload=False), capture_output=True, text=True,
                           env={**os.environ, **self.render_env("haproxy")})
        if r.returncode != 0:
            raise SystemExit(f"rollout.py: rendering haproxy.cfg failed: {r.stderr.strip()}")
        self.haproxy = self.start(["haproxy", "-W", "-db", "-f", self.haproxy_cfg, "-p",
                                   self.haproxy_pid], "haproxy.out")
        wait_until("haproxy", lambda: os.path.exists(self.haproxy_socket), 10)

    def start(self, argv, log, env=None):
        p = Proc(argv, os.path.join(self.work, log), env)
        self.procs.append(p)
        return p

    def etcdctl(self, *args):
        r = subprocess.run(["etcdctl", "--endpoints", f"127.0.0.1:{self.etcd_port}", *args],
                           capture_output=True, text=True, env={**os.environ, "ETCDCTL_API": "3"})
        return r.stdout if r.returncode == 0 else None

    def registered(self, app):
        out = self.etcdctl("get", "--prefix", f"/services/web/{app}/", "--keys-only") or ""
        return [line for line in out.splitlines() if line]

    def render_argv(self, router, reload=True):
        if router == "nginx":
            n = self.nginx_dir
            return [self.herald, "--registry", self.registry, "render", "--template",
                    self.template, "--dest", f"{n}/conf.d/apps.conf", "--keys", "/services/web",
                    "--reload-cmd", f"nginx -p {n}/ -c {n}/nginx.conf -s reload"]
        argv = [self.herald, "--registry", self.registry, "render", "--template",
                os.path.join(ROOT, "templates/haproxy.tmpl"), "--dest", self.haproxy_cfg,
                "--keys", "/services/web", "--check-cmd", "haproxy -c -q -f {{.src}}"]
        return argv + (["--reload-cmd", self.haproxy_reload] if reload else [])

    def render_env(self, router):
        if router == "nginx":
            return {"HERALD_NGINX_LISTEN": f"127.0.0.1:{self.nginx_port}",
                    "HERALD_DOMAIN": "bench.test"}
        return {"HERALD_HAPROXY_BIND": f"127.0.0.1:{self.haproxy_port}",
                "HERALD_HAPROXY_SOCKET": self.haproxy_socket, "HERALD_HEALTH_PATH": "/health",
                "HERALD_DOMAIN": "bench.test"}

    def start_render(self, router, wait, runtime_api=False):
        """render --watch for `router`; `wait` None reloads on every change (confd's watch)."""
        if self.render:
            self.render.stop()
        self.router = router
        argv = self.render_argv(router) + ["--watch"]
        if wait:
            argv += ["--wait", wait]
        if runtime_api:
            argv += ["--haproxy-socket", self.haproxy_socket]
        self.render = self.start(argv, f"render-{len(self.procs)}.log", self.render_env(router))

    def port(self):
        return self.nginx_port if self.router == "nginx" else self.haproxy_port

    def reloads(self):
        if self.router == "nginx":
            return self.render.text().count(": installed ")
        if not os.path.exists(self.haproxy_reloads):
            return 0
        with open(self.haproxy_reloads) as f:
            return len(f.read().splitlines())

    def stop(self):
        for p in reversed(self.procs):
            p.stop()


def wrk(port, host, seconds, log):
    return subprocess.Popen(["wrk", "-t2", "-c20", f"-d{seconds}s", "-H", f"Host: {host}",
                             f"http://127.0.0.1:{port}/"], stdout=open(log, "w"),
                            stderr=subprocess.STDOUT)


def parse_wrk(log):
    with open(log) as f:
        text = f.read()
    out = {"requests": 0, "non2xx": 0, "socket": 0}
    m = re.search(r"(\d+) requests in", text)
    if m:
        out["requests"] = int(m.group(1))
    m = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    if m:
        out["non2xx"] = int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", text)
    if m:
        out["socket"] = sum(int(x) for x in m.groups())
    return out


def cluster_file(world, app, image):
    path = os.path.join(world.work, f"{app}.yaml")
    with open(path, "w") as f:
        f.write(f"""registry:
  url: {world.registry}
scheduler:
  kind: docker
  host_ip: 127.0.0.1
apps:
  - name: {app}
    image: {image}
    port: 8080
    instances: 3
    update:
      max_surge: 1
      max_unavailable: 0
      min_ready: 0s
      drain: 5s
""")
    return path


def remove_app(app):
    ids = docker("ps", "-aq", "--filter", f"label=herald.bench={PID}-{app}", check=False)
    ids += "\n" + docker("ps", "-aq", "--filter", f"label=herald.app={app}", check=False)
    for cid in set(ids.split()):
        docker("rm", "-f", "-v", cid, check=False)


def serves(world, app, version):
    host = f"{app}.bench.test"
    return lambda: all(get(world.port(), host) == version for _ in range(6))


def run_herald(world, router, n):
    app = f"hb{PID % 10000}{router[0]}{n}"
    world.start_render(router, "2s:4s", runtime_api=router == "haproxy")
    path = cluster_file(world, app, "herald-bench/versioned:v1")
    up = [world.herald, "cluster", "up", "-f", path, app, "--timeout", "60s"]
    r = subprocess.run(up, capture_output=True, text=True)
    if r.returncode != 0:
        raise SystemExit(f"rollout.py: cluster up failed: {r.stderr.strip()}")
    wait_until(f"{app} v1 through {router}", serves(world, app, "v1"), 30)
    time.sleep(4)  # the install's burst is over
    before = world.reloads()
    cluster_file(world, app, "herald-bench/versioned:v2")
    log = os.path.join(world.work, f"wrk-{app}.txt")
    load = wrk(world.port(), f"{app}.bench.test", 35, log)
    time.sleep(2)
    t0 = time.time()
    r = subprocess.run(up, capture_output=True, text=True)
    rollout = time.time() - t0
    load.wait(60)
    if r.returncode != 0:
        raise SystemExit(f"rollout.py: cluster up failed: {r.stderr.strip()}")
    result = parse_wrk(log)
    result.update(reloads=world.reloads() - before, rollout=rollout)
    wait_until(f"{app} v2 through {router}", serves(world, app, "v2"), 20)
    subprocess.run([world.herald, "cluster", "down", "-f", path, app, "--drain", "0s"],
                   capture_output=True)
    return result


def run_by_hand(world, router, n):
    app = f"hh{PID % 10000}{router[0]}{n}"
    world.start_render(router, None)  # confd's watch: a render, and a reload, per change

    def run_one(version):
        return docker("run", "-d", "-p", "127.0.0.1::8080", "--label", f"SERVICE_NAME={app}",
                      "--label", f"herald.bench={PID}-{app}",
                      f"herald-bench/versioned:{version}")

    old = [run_one("v1") for _ in range(3)]
    wait_until(f"{app} registered", lambda: len(world.registered(app)) == 3, 20)
    wait_until(f"{app} v1 through {router}", serves(world, app, "v1"), 30)
    time.sleep(4)
    before = world.reloads()
    log = os.path.join(world.work, f"wrk-{app}.txt")
    load = wrk(world.port(), f"{app}.bench.test", 35, log)
    time.sleep(2)
    t0 = time.time()
    for cid in old:
        new = run_one("v2")
        wait_until(f"{new[:12]} registered", lambda: len(world.registered(app)) == 4, 30)
        docker("stop", "-t", "10", cid)
        docker("rm", cid)
        wait_until("the old one deregistered", lambda: len(world.registered(app)) == 3, 30)
    rollout = time.time() - t0
    load.wait(60)
    result = parse_wrk(log)
    result.update(reloads=world.reloads() - before, rollout=rollout)
    remove_app(app)
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--herald", default=os.path.join(ROOT, "build/demo/apps/herald/herald"))
    ap.add_argument("--runs", type=int, default=1)
    ap.add_argument("--routers", default="nginx,haproxy")
    args = ap.parse_args()
    routers = [r for r in args.routers.split(",") if r]
    if not routers or any(r not in ("nginx", "haproxy") for r in routers):
        raise SystemExit("rollout.py: --routers takes nginx, haproxy or both, comma-separated")
    for tool in ("etcd", "etcdctl", "nginx", "wrk", "docker", *routers):
        if not shutil.which(tool):
            raise SystemExit(f"rollout.py: {tool} is not installed (scripts/setup)")
    if not os.access(args.herald, os.X_OK):
        raise SystemExit(f"rollout.py: no herald at {args.herald} (scripts/demo builds it)")
    if subprocess.run(["docker", "version"], capture_output=True).returncode != 0:
        raise SystemExit("rollout.py: no Docker engine answers (scripts/docker-up starts one)")
    ensure_images()
    work = tempfile.mkdtemp(prefix="herald-bench-rollout-")
    world = None
    apps = []
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    try:
        world = World(args.herald, work)
        if "haproxy" in routers:
            world.start_haproxy()
        rows = []
        for router in routers:
            for n in range(args.runs):
                apps += [f"hb{PID % 10000}{router[0]}{n}", f"hh{PID % 10000}{router[0]}{n}"]
                rows.append((router, "herald cluster up", run_herald(world, router, n)))
                rows.append((router, "by hand (run, stop)", run_by_hand(world, router, n)))
        print("rolling 3 instances v1 -> v2, wrk -t2 -c20, 35 s "
              "(nginx: proxy_next_upstream off; haproxy: retries 2, redispatch)")
        print(f"{'ROUTER':<9}{'WAY':<22}{'REQUESTS':>10}{'NON-2XX':>9}{'SOCKET ERR':>12}"
              f"{'RELOADS':>9}{'ROLLOUT':>9}")
        for router, name, r in rows:
            print(f"{router:<9}{name:<22}{r['requests']:>10}{r['non2xx']:>9}{r['socket']:>12}"
                  f"{r['reloads']:>9}{r['rollout']:>8.1f}s")
        for router in routers:
            failed = {way: sum(r["non2xx"] + r["socket"] for rt, name, r in rows
                               if rt == router and name.startswith(way))
                      for way in ("herald", "by hand")}
            print(f"{router}: failed requests (non-2xx + socket errors): herald "
                  f"{failed['herald']}, by hand {failed['by hand']}")
        print("socket errors are the router's own reloads closing busy keep-alive connections")
    finally:
        for app in apps:
            remove_app(app)
        if world:
            world.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
