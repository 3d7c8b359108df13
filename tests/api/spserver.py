"""Start and stop the real `scenepacker` binary for black-box tests.

A Server owns one process on a free loopback port with its own data directory. stop() sends
SIGTERM and asserts a clean exit (code 0) and, for sanitizer builds, a clean stderr.
Used by tests/api (pytest fixtures) and tests/e2e.
"""
import os
import resource
import signal
import socket
import subprocess
import tempfile
import time

import requests

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SANITIZER_MARKERS = ("ERROR: AddressSanitizer", "runtime error:", "ERROR: LeakSanitizer",
                     "WARNING: ThreadSanitizer", "AddressSanitizer:DEADLYSIGNAL")
ADMIN_USER = "admin"
ADMIN_PASSWORD = "Admin-pass-0123456789"


def binary_path():
    """The binary under test: $SP_BINARY, else build/scenepacker of this checkout."""
    b = os.environ.get("SP_BINARY") or os.path.join(REPO, "build", "scenepacker")
    if not os.access(b, os.X_OK):
        raise RuntimeError(f"scenepacker binary not found or not executable: {b} "
                           "(build it first, or set SP_BINARY)")
    return b


def raise_fd_limit(want=8192):
    """Tests open thousands of sockets; Debian's default soft limit is 1024."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    target = want if hard == resource.RLIM_INFINITY else min(want, hard)
    if soft < target:
        resource.setrlimit(resource.RLIMIT_NOFILE, (target, hard))


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def base_env(extra=None):
    env = dict(os.environ)
    env.setdefault("ASAN_OPTIONS", "detect_leaks=1:abort_on_error=1:halt_on_error=1")
    env.setdefault("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1")
    # Settings of the developer's shell must not leak into the server under test.
    for k in list(env):
        if k.startswith("SP_") and k != "SP_BINARY":
            del env[k]
    env["SP_ADMIN_PASSWORD"] = ADMIN_PASSWORD
    env["SP_LOG_LEVEL"] = "warn"
    if extra:
        env.update(extra)
    return env


def sanitizer_report(text):
    """The first sanitizer finding in `text`, or None."""
    for line in text.splitlines():
        if any(m in line for m in SANITIZER_MARKERS):
            return line
    return None


class Server:
    """One `scenepacker serve` process with its own data directory."""

    def __init__(self, data_dir=None, env=None, args=None, name="server"):
        self.binary = binary_path()
        self._tmp = None
        if data_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix=f"sp-{name}-")
            data_dir = os.path.join(self._tmp.name, "data")
            os.makedirs(data_dir)
        self.data_dir = data_dir
        self.name = name
        self.extra_env = dict(env or {})
        self.extra_args = list(args or [])
        self.proc = None
        self.port = None
        self._logtmp = None
        if self._tmp is None:
            self._logtmp = tempfile.TemporaryDirectory(prefix=f"sp-{name}-log-")
        logdir = self._tmp.name if self._tmp else self._logtmp.name
        self.stdout_path = os.path.join(logdir, f"{name}.stdout")
        self.stderr_path = os.path.join(logdir, f"{name}.stderr")

    @property
    def base(self):
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_path(self):
        return os.path.join(self.data_dir, "scenepacker.db")

    def env(self):
        return base_env(self.extra_env)

    def cli(self, *args, input=None, check=True, timeout=120):
        """Run `scenepacker ARGS --data DIR`; returns CompletedProcess (text)."""
        cmd = [self.binary, *args, "--data", self.data_dir]
        p = subprocess.run(cmd, input=input, capture_output=True, text=True, env=self.env(),
                           timeout=timeout, cwd=REPO)
        rep = sanitizer_report(p.stderr)
        assert rep is None, f"{' '.join(cmd)}: sanitizer report: {rep}\n{p.stderr}"
        if check:
            assert p.returncode == 0, (f"{' '.join(cmd)} exited {p.returncode}\n"
                                       f"stdout: {p.stdout}\nstderr: {p.stderr}")
        return p

    def add_user(self, username, role, password):
        return self.cli("user", "add", username, "--role", role, "--password-stdin",
                        input=password + "\n")

    def start(self, timeout=90):
        raise_fd_limit()
        last_err = ""
        for _attempt in range(3):
            self.port = free_port()
            cmd = [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}",
                   "--data", self.data_dir, *self.extra_args]
            self._out = open(self.stdout_path, "ab")
            self._err = open(self.stderr_path, "ab")
            self.proc = subprocess.Popen(cmd, stdout=self._out, stderr=self._err,
                                         stdin=subprocess.DEVNULL, env=self.env(), cwd=REPO)
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                if self.proc.poll() is not None:
                    break
                try:
                    r = requests.get(self.base + "/api/health", timeout=5)
                    if r.status_code == 200:
                        return self
                except requests.RequestException:
                    pass
                time.sleep(0.1)
            if self.proc.poll() is None:
                self.proc.kill()
                self.proc.wait()
                self._close_logs()
                raise AssertionError(f"{self.name}: /api/health did not answer 200 within "
                                     f"{timeout}s\n{self.stderr()[-4000:]}")
            self._close_logs()
            last_err = self.stderr()
            if "in use" not in last_err.lower():
                break
        raise AssertionError(f"{self.name}: server exited with {self.proc.returncode} at start"
                             f"\n{last_err[-4000:]}")

    def _close_logs(self):
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f and not f.closed:
                f.close()

    def stderr(self):
        try:
            with open(self.stderr_path, "r", errors="replace") as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def stop(self, timeout=60):
        """SIGTERM; assert exit code 0 and no sanitizer report. Idempotent."""
        if self.proc is None:
            return
        proc, self.proc = self.proc, None
        try:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(timeout=timeout)
                except subprocess.TimeoutExpired:
                    proc.kill()
                    proc.wait()
                    raise AssertionError(f"{self.name}: did not exit within {timeout}s of "
                                         f"SIGTERM\n{self.stderr()[-4000:]}")
        finally:
            self._close_logs()
        err = self.stderr()
        rep = sanitizer_report(err)
        assert rep is None, f"{self.name}: sanitizer report: {rep}\n{err[-8000:]}"
        assert proc.returncode == 0, (f"{self.name}: exit code {proc.returncode} after SIGTERM"
                                      f"\n{err[-4000:]}")

    def cleanup(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        self.proc = None
        self._close_logs()
        for t in (self._tmp, self._logtmp):
            if t:
                t.cleanup()
        self._tmp = self._logtmp = None
