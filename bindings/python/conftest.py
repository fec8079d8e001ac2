# Fixtures of the Python binding tests: a live motcua-server (the binary named by
# MOTCUA_SERVER_BIN, which `cargo xtask test` builds) on a free loopback port with its own
# SQLite database, stoppable and restartable on the same port; an officer acting over
# plain HTTP; app-side implementations of the foreign traits (token store, listener,
# transport).
import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

import pytest

import motcua_ffi as m

OFFICER_PHONE = "0987654321"
OFFICER_PASSWORD = "canbo12345"
BRANCH = "H26.01"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Server:
    """One motcua-server process over one database; `stop()` and `start()` keep both."""

    def __init__(self, binary: str, workdir: Path):
        self.binary = binary
        self.workdir = workdir
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.env = dict(
            os.environ,
            MOTCUA_ADDR=f"127.0.0.1:{self.port}",
            DATABASE_URL=f"sqlite://{workdir}/s.db",
            MOTCUA_BLOB_DIR=str(workdir / "blobs"),
            MOTCUA_LOG_FORMAT="pretty",
            MOTCUA_AUTH_RATE_PER_MIN="100000",
            MOTCUA_DOSSIERS_PER_MINUTE="1000",
            MOTCUA_SMS_DIR=str(workdir / "sms"),
            RUST_LOG="warn",
        )
        self.process = None
        self.log = open(workdir / "server.log", "ab")

    def start(self) -> None:
        self.process = subprocess.Popen([self.binary], env=self.env, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"motcua-server exited: see {self.workdir / 'server.log'}")
            try:
                with urllib.request.urlopen(f"{self.base_url}/healthz", timeout=1) as r:
                    if r.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("motcua-server did not become healthy in 30 s")

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None

    def add_officer(self) -> None:
        subprocess.run(
            [self.binary, "user", "add", "--role", "officer", "--branch", BRANCH, "--phone", OFFICER_PHONE,
             "--name", "Cán bộ"],
            env=self.env, check=True, capture_output=True, input=(OFFICER_PASSWORD + "\n").encode(),
        )

    def last_sms(self, phone: str) -> str:
        """The last SMS the server's development sink wrote for `phone` (canonical form)."""
        return (self.workdir / "sms" / f"{phone}.txt").read_text(encoding="utf-8")

    def code_for(self, phone: str) -> str:
        """The six-digit verification code in the last SMS to `phone`."""
        codes = [w for w in re.split(r"\D+", self.last_sms(phone)) if len(w) == 6]
        assert codes, self.last_sms(phone)
        return codes[0]

    def call(self, method: str, path: str, token=None, body=None):
        """One raw JSON call; returns (status, decoded body)."""
        data = None if body is None else json.dumps(body).encode()
        request = urllib.request.Request(f"{self.base_url}{path}", data=data, method=method)
        if body is not None:
            request.add_header("Content-Type", "application/json")
        if token is not None:
            request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def upload(self, token: str, name: str, data: bytes):
        """A whole file uploaded as `token` (`POST /api/v1/attachments`); returns (status, body)."""
        query = urllib.parse.urlencode({"name": name})
        request = urllib.request.Request(f"{self.base_url}/api/v1/attachments?{query}", data=data, method="POST")
        request.add_header("Content-Type", "application/octet-stream")
        request.add_header("Authorization", f"Bearer {token}")
        try:
            with urllib.request.urlopen(request, timeout=10) as r:
                return r.status, json.loads(r.read() or b"null")
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read() or b"null")

    def officer_token(self) -> str:
        status, body = self.call("POST", "/api/v1/auth/login", body={"login": OFFICER_PHONE, "password": OFFICER_PASSWORD})
        assert status == 200, body
        return body["access_token"]


@pytest.fixture
def server(tmp_path):
    binary = os.environ.get("MOTCUA_SERVER_BIN")
    if not binary:
        raise RuntimeError("MOTCUA_SERVER_BIN is not set: run these tests with `cargo xtask test`")
    s = Server(binary, tmp_path)
    s.start()
    s.add_officer()
    yield s
    s.stop()


class MemoryTokens(m.TokenStore):
    """The app's token storage (a platform keystore on a phone)."""

    def __init__(self):
        self.tokens = None
        self.saves = 0

    def load(self):
        return self.tokens

    def save(self, tokens):
        self.saves += 1
        self.tokens = tokens

    def clear(self):
        self.tokens = None


class Recorder(m.EventListener):
    """Keeps every event; called on the client's threads."""

    def __init__(self):
        self.lock = threading.Lock()
        self.outbox_events = []
        self.changes = []
        self.signed_out = 0

    def on_outbox_event(self, event):
        with self.lock:
            self.outbox_events.append(event)

    def on_dossier_status_changed(self, change):
        with self.lock:
            self.changes.append(change)

    def on_signed_out(self):
        with self.lock:
            self.signed_out += 1


class UrllibTransport(m.Transport):
    """The app's own HTTP stack, with a log and an optional injected answer per path."""

    def __init__(self):
        self.log = []
        self.inject = {}

    def send(self, request):
        path = request.url.split("://", 1)[1].split("/", 1)[1]
        self.log.append((request.method, "/" + path))
        for fragment, status in list(self.inject.items()):
            if fragment in path and request.method == "POST":
                del self.inject[fragment]
                body = json.dumps({"error": {"code": "forbidden", "message": "injected"}}).encode()
                return m.HttpResponse(status=status, headers=[m.HttpHeader(name="content-type", value="application/json")], body=body)
        http = urllib.request.Request(request.url, data=request.body or None, method=request.method)
        for h in request.headers:
            http.add_header(h.name, h.value)
        try:
            with urllib.request.urlopen(http, timeout=10) as r:
                status, headers, body = r.status, r.getheaders(), r.read()
        except urllib.error.HTTPError as e:
            status, headers, body = e.code, list(e.headers.items()), e.read()
        except OSError:
            raise m.MotcuaError.Network(user_message="offline")
        return m.HttpResponse(status=status, headers=[m.HttpHeader(name=k, value=v) for k, v in headers], body=body)


def config(base_url: str, data_dir: Path) -> m.ClientConfig:
    return m.ClientConfig(base_url=base_url, data_dir=str(data_dir), language="vi", upload_chunk_size=16 * 1024,
                          request_timeout_ms=5000)
