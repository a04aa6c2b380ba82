"""What the test doubles (consul_double.py, fleet_double.py) and their tests share: reading a
request body, running a double as a child process until it says where it listens, polling."""

import select
import subprocess
import sys
import tempfile
import time


def read_body(handler):
    """The body of the request a BaseHTTPRequestHandler is serving: chunked or Content-Length."""
    if handler.headers.get("Transfer-Encoding", "").lower() == "chunked":
        chunks = []
        while True:
            size = int(handler.rfile.readline().split(b";")[0].strip() or b"0", 16)
            if size == 0:
                while handler.rfile.readline() not in (b"\r\n", b"\n", b""):
                    pass
                return b"".join(chunks)
            chunks.append(handler.rfile.read(size))
            handler.rfile.readline()
    length = int(handler.headers.get("Content-Length") or 0)
    return handler.rfile.read(length) if length else b""


def json_type(value):
    """The JSON type of a decoded value, for messages comparing documents."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return {str: "string", list: "array", dict: "object"}[type(value)]


def eventually(predicate, timeout=10.0, step=0.02):
    """Polls `predicate` until true or `timeout` seconds pass; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value or time.monotonic() >= deadline:
            return value
        time.sleep(step)


class ChildDouble:
    """A double script as a child process. launch() starts it and returns its first line,
    "listening ADDRESS", once printed; stop() ends it; errors() is its stderr so far."""

    def __init__(self):
        self.proc = None
        self.stderr = None

    def launch(self, script, args, what):
        self.stderr = tempfile.TemporaryFile()  # read back by errors() when a start fails
        self.proc = subprocess.Popen([sys.executable, script] + list(args),
                                     stdout=subprocess.PIPE, stderr=self.stderr)
        ready, _, _ = select.select([self.proc.stdout], [], [], 30)
        line = self.proc.stdout.readline().decode() if ready else ""
        if not line.startswith("listening "):
            why = self.errors()
            self.stop()
            raise RuntimeError("%s did not start (%r): %s" % (what, line, why))
        return line.strip()

    def stop(self):
        if self.proc is None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)
        self.proc.stdout.close()
        self.proc = None
        self.stderr.close()
        self.stderr = None

    def errors(self):
        if self.stderr is None:
            return ""
        self.stderr.seek(0)
        return self.stderr.read().decode(errors="replace")

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()
