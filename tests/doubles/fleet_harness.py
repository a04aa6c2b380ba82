"""Shared by the fleet double's tests and bench/fleet.py: start fleet_double.py on a free
127.0.0.1 port (or a unix socket) and talk plain HTTP to it (http.client, so nothing of herald's
own client is involved)."""

import http.client
import json
import os
import socket
import time

from double_common import ChildDouble, eventually  # noqa: F401 (eventually: for the tests)

DOUBLE = os.path.join(os.path.dirname(os.path.abspath(__file__)), "fleet_double.py")


class Response:
    """One HTTP answer: status, headers in order, raw body (None: no answer at all)."""

    def __init__(self, status, headers, body, elapsed):
        self.status = status
        self.headers = headers  # [(name, value)] as received
        self.body = body
        self.elapsed = elapsed

    def header(self, name):
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    def json(self):
        return json.loads(self.body.decode("utf-8"))

    def __repr__(self):
        return "<%s %r>" % (self.status, (self.body or b"")[:200])


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path, timeout):
        super().__init__("localhost", timeout=timeout)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(self.timeout)
        self.sock.connect(self.path)


class Double(ChildDouble):
    """The fleet double as a child process; stop() or a with-block ends it."""

    def __init__(self, *args, unix=None):
        super().__init__()
        self.args = list(args)
        self.unix = unix
        self.port = 0
        self.start()

    def start(self):
        where = ["--unix", self.unix] if self.unix else ["--port", str(self.port)]
        line = self.launch(DOUBLE, ["--quiet"] + where + self.args, "fleet double")
        if not self.unix:
            self.port = int(line.rsplit(":", 1)[1])

    @property
    def endpoint(self):
        """What herald's --endpoint takes."""
        return "unix://" + self.unix if self.unix else "http://127.0.0.1:%d" % self.port

    def connection(self, timeout=30):
        if self.unix:
            return UnixConnection(self.unix, timeout)
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(self, method, path, body=None, headers=None, timeout=30):
        """One request on a fresh connection; a connection closed without an answer gives a
        Response with status 0."""
        conn = self.connection(timeout)
        if isinstance(body, (dict, list)):
            body = json.dumps(body)
            headers = dict(headers or {}, **{"Content-Type": "application/json"})
        if isinstance(body, str):
            body = body.encode()
        start = time.monotonic()
        try:
            conn.putrequest(method, path, skip_accept_encoding=True)
            for name, value in (headers or {}).items():
                conn.putheader(name, value)
            if body is not None:
                conn.putheader("Content-Length", str(len(body)))
            conn.endheaders(body)
            try:
                resp = conn.getresponse()
            except (http.client.RemoteDisconnected, ConnectionResetError):
                return Response(0, [], None, time.monotonic() - start)
            data = resp.read()
            return Response(resp.status, resp.getheaders(), data, time.monotonic() - start)
        finally:
            conn.close()

    def get_json(self, path):
        resp = self.request("GET", path)
        if resp.status != 200:
            raise AssertionError("GET %s -> %r" % (path, resp))
        return resp.json()

    def put_unit(self, name, options=None, desired=None, expect=(201, 204)):
        body = {}
        if options is not None:
            body["options"] = options
        if desired is not None:
            body["desiredState"] = desired
        resp = self.request("PUT", "/fleet/v1/units/" + name, body)
        if resp.status not in expect:
            raise AssertionError("PUT %s -> %r" % (name, resp))
        return resp

    def control(self, path, method="POST"):
        resp = self.request(method, "/_double/" + path)
        if resp.status != 200:
            raise AssertionError("control %s -> %r" % (path, resp))
        return resp.json()

    def settle(self, timeout=20):
        """Waits until no unit or agent has a change pending."""
        if not eventually(lambda: self.control("settled", "GET"), timeout=timeout, step=0.02):
            raise AssertionError("the fleet double did not settle within %ss" % timeout)


def option(section, name, value):
    return {"section": section, "name": name, "value": value}


def service(description, *extra):
    """A minimal unit: Description, an ExecStart that sleeps, and `extra` options."""
    return [option("Unit", "Description", description),
            option("Service", "ExecStart", "/bin/sh -c 'while true; do sleep 1; done'")] + list(extra)
