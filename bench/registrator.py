#!/usr/bin/env python3
"""herald's registrator mode (`herald announce --docker-events`) against a real Docker engine.

Measures, on a real etcd on 127.0.0.1 (started here, removed at the end) and the Docker daemon at
DOCKER_HOST (default /var/run/docker.sock):
  1. for each of N containers (default 100, created beforehand with `-p 127.0.0.1::8080` and
     SERVICE_NAME), started one at a time through the Engine API: the time from sending
     `POST /containers/{id}/start` until etcd's watch stream delivers the container's key, and the
     part of it after Docker answered the start (herald's own reaction); p50/p99/max of both;
  2. the registrator's steady RSS: idle, and with all N containers registered while their TTLs
     are refreshed.
Usage: bench/registrator.py [--herald PATH] [--containers N]
"""
import argparse
import base64
import http.client
import json
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
IMAGE = "herald-test/busybox:latest"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


class UnixHTTPConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=60)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path)


class Docker:
    """The Engine API over the unix socket (no CLI start-up in the timed path)."""

    def __init__(self):
        host = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
        if not host.startswith("unix://"):
            raise SystemExit(f"registrator.py: DOCKER_HOST must be a unix:// socket, not {host}")
        self.path = host[len("unix://"):]
        self.conn = UnixHTTPConnection(self.path)

    def call(self, method, path, body=None):
        headers = {"Content-Type": "application/json"} if body is not None else {}
        self.conn.request(method, path, body=None if body is None else json.dumps(body),
                          headers=headers)
        reply = self.conn.getresponse()
        data = reply.read()
        if reply.status >= 300:
            raise SystemExit(f"docker {method} {path}: HTTP {reply.status}: {data.decode()}")
        return json.loads(data) if data else None


def ensure_image(docker_cli):
    if subprocess.run([docker_cli, "image", "inspect", IMAGE], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode == 0:
        return
    busybox = shutil.which("busybox") or "/bin/busybox"
    work = tempfile.mkdtemp(prefix="herald-bench-image-")
    try:
        os.makedirs(os.path.join(work, "rootfs/bin"))
        shutil.copy(busybox, os.path.join(work, "rootfs/bin/busybox"))
        for tool in ("sh", "sleep", "httpd", "echo"):
            os.symlink("busybox", os.path.join(work, "rootfs/bin", tool))
        tarball = os.path.join(work, "rootfs.tar")
        subprocess.run(["tar", "-C", os.path.join(work, "rootfs"), "-cf", tarball, "."], check=True)
        subprocess.run([docker_cli, "import", "--change", "ENV PATH=/bin", tarball, IMAGE],
                       check=True, stdout=subprocess.DEVNULL)
    finally:
        shutil.rmtree(work, ignore_errors=True)


class Etcd:
    def __init__(self, workdir):
        self.port = free_port()
        peer = free_port()
        client = f"http://127.0.0.1:{self.port}"
        peer_url = f"http://127.0.0.1:{peer}"
        self.proc = subprocess.Popen(
            ["etcd", "--name", "bench", "--data-dir", os.path.join(workdir, "etcd"),
             "--log-level", "error", "--logger", "zap",
             "--listen-client-urls", client, "--advertise-client-urls", client,
             "--listen-peer-urls", peer_url, "--initial-advertise-peer-urls", peer_url,
             "--initial-cluster", f"bench={peer_url}"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.time() + 20
        while time.time() < deadline:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                conn.request("GET", "/health")
                if conn.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.05)
        else:
            raise SystemExit("registrator.py: etcd did not start")

    def stop(self):
        self.proc.terminate()
        self.proc.wait(10)


class KeyWatch(threading.Thread):
    """An etcd v3 watch on a prefix; records when each key's first put arrives."""

    def __init__(self, port, prefix):
        super().__init__(daemon=True)
        self.port = port
        self.prefix = prefix
        self.first_put = {}
        self.cond = threading.Condition()
        self.ready = threading.Event()

    def run(self):
        end = self.prefix[:-1] + chr(ord(self.prefix[-1]) + 1)
        body = json.dumps({"create_request": {
            "key": base64.b64encode(self.prefix.encode()).decode(),
            "range_end": base64.b64encode(end.encode()).decode()}})
        conn = http.client.HTTPConnection("127.0.0.1", self.port)
        conn.request("POST", "/v3/watch", body=body)
        reply = conn.getresponse()
        self.ready.set()
        buf = b""
        while True:
            chunk = reply.read1(65536)
            if not chunk:
                return
            buf += chunk
            while b"\n" in buf:
                line, buf = buf.split(b"\n", 1)
                now = time.perf_counter()
                try:
                    result = json.loads(line).get("result", {})
                except ValueError:
                    continue
                for event in result.get("events", []):
                    if event.get("type", "PUT") != "PUT":
                        continue
                    key = base64.b64decode(event["kv"]["key"]).decode()
                    with self.cond:
                        self.first_put.setdefault(key, now)
                        self.cond.notify_all()

    def wait_for(self, key, timeout):
        deadline = time.perf_counter() + timeout
        with self.cond:
            while key not in self.first_put:
                left = deadline - time.perf_counter()
                if left <= 0:
                    return None
                self.cond.wait(left)
            return self.first_put[key]


def percentile(values, p):
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[index]


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--herald",
                        default=os.path.join(ROOT, "build/bench/apps/herald/herald"))
    parser.add_argument("--containers", type=int, default=100)
    args = parser.parse_args()
    herald = os.path.abspath(args.herald)
    docker_cli = shutil.which("docker")
    for need, what in ((os.access(herald, os.X_OK), f"herald binary {herald} (--herald)"),
                       (docker_cli, "the docker CLI"), (shutil.which("etcd"), "etcd")):
        if not need:
            raise SystemExit(f"registrator.py: missing {what}")
    if subprocess.run([docker_cli, "info"], stdout=subprocess.DEVNULL,
                      stderr=subprocess.DEVNULL).returncode != 0:
        raise SystemExit("registrator.py: no Docker daemon answers (start one: scripts/docker-up)")
    ensure_image(docker_cli)

    work = tempfile.mkdtemp(prefix="herald-bench-")
    etcd = Etcd(work)
    docker = Docker()
    node = f"bench{os.getpid()}"
    service = f"bench{os.getpid()}"
    prefix = "/bench"
    ids = []
    registrator = None
    try:
        for i in range(args.containers):
            created = docker.call("POST", f"/containers/create?name=herald-bench-{os.getpid()}-{i}", {
                "Image": IMAGE, "Cmd": ["sleep", "600"], "Env": [f"SERVICE_NAME={service}"],
                "Labels": {"herald.bench": "1"},
                "ExposedPorts": {"8080/tcp": {}},
                "HostConfig": {"PortBindings": {"8080/tcp": [{"HostIp": "127.0.0.1",
                                                              "HostPort": ""}]}}})
            ids.append((created["Id"], f"herald-bench-{os.getpid()}-{i}"))

        watch = KeyWatch(etcd.port, prefix + "/")
        watch.start()
        watch.ready.wait(10)
        env = dict(os.environ, HERALD_LOG_LEVEL="warn", NOTIFY_SOCKET="", JOURNAL_STREAM="")
        registrator = subprocess.Popen(
            [herald, "--registry", f"etcd://127.0.0.1:{etcd.port}", "announce", "--docker-events",
             "--prefix", prefix, "--node", node, "--ttl", "30s"],
            env=env, stderr=open(os.path.join(work, "herald.log"), "w"))
        time.sleep(1.0)
        if registrator.poll() is not None:
            raise SystemExit("registrator.py: herald exited: " +
                             open(os.path.join(work, "herald.log")).read())
        idle_rss = rss_kib(registrator.pid)

        total, own = [], []
        for cid, name in ids:
            key = f"{prefix}/{service}/{service}@{node}:{name}:8080"
            sent = time.perf_counter()
            docker.call("POST", f"/containers/{cid}/start")
            answered = time.perf_counter()
            seen = watch.wait_for(key, 10)
            if seen is None:
                raise SystemExit(f"registrator.py: {key} did not appear within 10 s")
            total.append(seen - sent)
            own.append(max(0.0, seen - answered))

        samples = []
        for _ in range(10):
            time.sleep(0.5)
            samples.append(rss_kib(registrator.pid))
        n = len(total)
        print(f"herald registrator mode, {n} containers started one at a time "
              f"(Docker {subprocess.run([docker_cli, 'version', '--format', '{{.Server.Version}}'], capture_output=True, text=True).stdout.strip()}):")
        for label, values in (("docker start -> key in etcd", total),
                              ("start answered -> key in etcd", own)):
            print(f"  {label:32s} p50 {percentile(values, 50) * 1000:6.1f} ms   "
                  f"p99 {percentile(values, 99) * 1000:6.1f} ms   max {max(values) * 1000:6.1f} ms"
                  f"   mean {statistics.mean(values) * 1000:6.1f} ms")
        print(f"  registrator RSS: idle {idle_rss / 1024:.1f} MiB, with {n} registrations "
              f"{statistics.median(samples) / 1024:.1f} MiB (median of {len(samples)} samples "
              f"over 5 s, max {max(samples) / 1024:.1f} MiB)")
    finally:
        if registrator is not None:
            registrator.send_signal(signal.SIGTERM)
            try:
                registrator.wait(30)
            except subprocess.TimeoutExpired:
                registrator.kill()
        for cid, _ in ids:
            try:
                docker.call("DELETE", f"/containers/{cid}?force=true")
            except SystemExit as e:
                print(e, file=sys.stderr)
        etcd.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
