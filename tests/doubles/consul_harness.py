"""Shared by the Consul double's tests: start consul_double.py on a free 127.0.0.1 port and
talk plain HTTP to it (http.client, so nothing of herald's own client is involved)."""

import http.client
import json
import os
import time

from double_common import ChildDouble, eventually  # noqa: F401 (eventually: for the tests)

DOUBLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "consul_double.py")


class Response:
    """One HTTP answer: status, headers (case-insensitive lookup) and raw body."""

    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers
        self.body = body
        self.elapsed = elapsed

    def header(self, name):
        return self.headers.get(name)

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def index(self):
        return int(self.headers["X-Consul-Index"])

    def __repr__(self):
        return "<%d %r>" % (self.status, self.body[:200])


class Double(ChildDouble):
    """The double as a child process; stop() or a with-block ends it."""

    def __init__(self, *args, port=0):
        super().__init__()
        self.args = list(args)
        self.port = port
        self.start()

    def start(self):
        line = self.launch(DOUBLE, ["--port", str(self.port), "--quiet"] + self.args,
                           "consul double")
        if not line.startswith("listening 127.0.0.1:"):
            self.stop()
            raise RuntimeError("consul double did not start: %r" % line)
        self.port = int(line.rsplit(":", 1)[1])

    def restart(self):
        """Stops and starts again on the same port: all state is lost, the index starts low."""
        self.stop()
        self.start()

    def request(self, method, path, body=None, headers=None, timeout=30):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
        if isinstance(body, str):
            body = body.encode()
        start = time.monotonic()
        try:
            conn.request(method, path, body=body, headers=headers or {})
            resp = conn.getresponse()
            data = resp.read()
            return Response(resp.status, resp.headers, data, time.monotonic() - start)
        finally:
            conn.close()

    def get_json(self, path, **kw):
        resp = self.request("GET", path, **kw)
        if resp.status != 200:
            raise AssertionError("GET %s -> %r" % (path, resp))
        return resp.json()

    def put(self, path, body=None, **kw):
        resp = self.request("PUT", path, body, **kw)
        if resp.status != 200:
            raise AssertionError("PUT %s -> %r" % (path, resp))
        return resp


def ttl_service(sid, name="web", port=32768, ttl="15s", dcsa=None, address="10.0.0.11", **extra):
    """A registration body like herald's: one TTL check `service:<sid>`."""
    check = {"CheckID": "service:" + sid, "TTL": ttl}
    if dcsa:
        check["DeregisterCriticalServiceAfter"] = dcsa
    body = {"ID": sid, "Name": name, "Tags": ["herald", "v1"], "Address": address, "Port": port,
            "Meta": {"herald_instance": sid.split("@")[-1]}, "Check": check}
    body.update(extra)
    return body
