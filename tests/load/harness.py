"""Machinery shared by scripts/load-test and tests/load/smoke.

Seeds a fresh data directory, runs `scenepacker serve`, samples its CPU and memory from /proc,
scrapes /metrics, runs Locust (headless, a scenario shape, raw samples) or wrk, and starts a
throw-away nginx for the capacity comparison. Only the Python standard library.
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
LOAD_DIR = REPO / "tests" / "load"
PYTHON = "/usr/bin/python3"
LOAD_USER = "testuser"        # the plan's locustfile logs in with these
LOAD_PASSWORD = "password"
CLK_TCK = os.sysconf("SC_CLK_TCK")
PAGE = os.sysconf("SC_PAGE_SIZE")


def cpu_count():
    try:
        return len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def log(msg):
    print(msg, flush=True)


# --- HTTP ------------------------------------------------------------------------------------
def http(method, url, body=None, headers=None, timeout=10.0):
    """(status, headers dict, body bytes); status 0 when the connection failed."""
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = json.dumps(body).encode()
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, headers=hdrs, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            return resp.status, dict(resp.headers), resp.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers or {}), e.read() or b""
    except (urllib.error.URLError, OSError):
        return 0, {}, b""


def login(base, username=LOAD_USER, password=LOAD_PASSWORD):
    """Access token, or raises RuntimeError with the server's answer."""
    status, _h, body = http("POST", base + "/api/auth/login",
                            {"username": username, "password": password})
    if status != 200:
        raise RuntimeError(f"login as {username} failed: HTTP {status} {body[:200]!r}")
    try:
        return json.loads(body)["access_token"]
    except (ValueError, KeyError) as e:
        raise RuntimeError(f"login answer has no access_token: {body[:200]!r}") from e


# --- the server under test ---------------------------------------------------------------------
def binary_version(binary):
    try:
        out = subprocess.run([binary, "version"], capture_output=True, text=True, timeout=10)
        return (out.stdout or out.stderr).strip().splitlines()[0] if (out.stdout or out.stderr) else "?"
    except (OSError, subprocess.SubprocessError, IndexError):
        return "?"


def seed(binary, data_dir, releases, log_path, env=None):
    """Runs `scenepacker seed`; returns seconds taken. Raises RuntimeError on failure."""
    cmd = [str(binary), "seed", "--releases", str(releases), "--user",
           f"{LOAD_USER}:{LOAD_PASSWORD}", "--data", str(data_dir)]
    t0 = time.time()
    with open(log_path, "ab") as out:
        out.write(("$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        rc = subprocess.run(cmd, stdout=out, stderr=subprocess.STDOUT, env=env).returncode
    if rc != 0:
        raise RuntimeError(f"seed failed (exit {rc}), see {log_path}")
    return time.time() - t0


class Server:
    """`scenepacker serve` on a loopback port with its output in a log file."""

    def __init__(self, binary, data_dir, port, log_path, env):
        self.binary = str(binary)
        self.data_dir = str(data_dir)
        self.port = port
        self.base = f"http://127.0.0.1:{port}"
        self.log_path = log_path
        self.env = env
        self.proc = None
        self.exit_code = None
        self.peak_rss = 0

    def start(self, timeout=120):
        cmd = [self.binary, "serve", "--listen", f"127.0.0.1:{self.port}", "--data", self.data_dir]
        self._log = open(self.log_path, "ab")
        self._log.write(("$ " + " ".join(cmd) + "\n").encode())
        self._log.flush()
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, env=self.env,
                                     start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"server exited with {self.proc.returncode} at start, see {self.log_path}")
            status, _h, _b = http("GET", self.base + "/api/health", timeout=2)
            if status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError(f"server not ready after {timeout}s, see {self.log_path}")

    @property
    def pid(self):
        return self.proc.pid if self.proc else None

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def read_peak_rss(self):
        """VmHWM (peak resident set) in bytes while the process lives; remembered."""
        if self.alive():
            try:
                with open(f"/proc/{self.pid}/status") as f:
                    for line in f:
                        if line.startswith("VmHWM:"):
                            self.peak_rss = max(self.peak_rss, int(line.split()[1]) * 1024)
            except OSError:
                pass
        return self.peak_rss

    def stop(self, timeout=30):
        """SIGTERM, wait for the graceful drain; SIGKILL after `timeout`. Returns the exit code
        (negative = killed by that signal), or None when it was not running."""
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.read_peak_rss()
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.exit_code = self.proc.returncode
        self._log.close()
        return self.exit_code


SANITIZER_PATTERNS = re.compile(r"ERROR: (AddressSanitizer|LeakSanitizer|ThreadSanitizer)|runtime error:|"
                                r"SUMMARY: (Address|Leak|UndefinedBehavior)Sanitizer")


def sanitizer_reports(log_path, limit=20):
    out = []
    try:
        with open(log_path, "r", errors="replace") as f:
            for line in f:
                if SANITIZER_PATTERNS.search(line):
                    out.append(line.rstrip())
                    if len(out) >= limit:
                        break
    except OSError:
        pass
    return out


def tail_lines(path, n=200):
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            return f.read().decode(errors="replace").splitlines()[-n:]
    except OSError:
        return []


# --- /proc sampling ------------------------------------------------------------------------------
def _proc_cpu_ticks(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return int(fields[11]) + int(fields[12])  # utime + stime (fields 14, 15)
    except (OSError, IndexError, ValueError):
        return None


def _proc_rss(pid):
    try:
        with open(f"/proc/{pid}/statm") as f:
            return int(f.read().split()[1]) * PAGE
    except (OSError, IndexError, ValueError):
        return None


def memory_total_and_used():
    """(total, used) bytes of the memory the server can use: the cgroup limit when there is
    one, else the host's RAM (used = total - MemAvailable)."""
    info = {}
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                k, v = line.split(":", 1)
                info[k] = int(v.split()[0]) * 1024
    except OSError:
        return 0, 0
    total = info.get("MemTotal", 0)
    used = total - info.get("MemAvailable", 0)
    try:
        limit = Path("/sys/fs/cgroup/memory.max").read_text().strip()
        current = int(Path("/sys/fs/cgroup/memory.current").read_text().strip())
        if limit != "max" and 0 < int(limit) < total:
            return int(limit), current
    except (OSError, ValueError):
        pass
    return total, used


def _host_cpu():
    with open("/proc/stat") as f:
        parts = [int(x) for x in f.readline().split()[1:]]
    idle = parts[3] + (parts[4] if len(parts) > 4 else 0)
    return sum(parts), idle


class Monitor(threading.Thread):
    """Every `interval` s: server CPU% (100 = all cores busy) and RSS, load generator CPU%
    (100 = one core; all its processes together), host CPU% and memory use. Rows go to a CSV file and to `self.last`."""

    HEADER = "t,server_cpu_pct,server_rss_bytes,loadgen_cpu_pct,host_cpu_pct,mem_used_pct\n"

    def __init__(self, server_pid, csv_path, interval=1.0):
        super().__init__(daemon=True)
        self.server_pid = server_pid
        self.loadgen_pids = []  # Locust: one process, or a master and its workers
        self.interval = interval
        self.csv_path = csv_path
        self.ncpu = cpu_count()
        self.stop_event = threading.Event()
        self.last = {}

    def run(self):
        with open(self.csv_path, "w") as out:
            out.write(self.HEADER)
            prev_t = time.time()
            prev_srv = _proc_cpu_ticks(self.server_pid)
            prev_gen, prev_gen_pid = None, None
            prev_host = _host_cpu()
            while not self.stop_event.wait(self.interval):
                now = time.time()
                dt = max(1e-3, now - prev_t)
                srv = _proc_cpu_ticks(self.server_pid)
                srv_pct = ""
                if srv is not None and prev_srv is not None:
                    srv_pct = f"{100.0 * (srv - prev_srv) / CLK_TCK / dt / self.ncpu:.1f}"
                rss = _proc_rss(self.server_pid)
                gen_pct = ""
                pids = tuple(self.loadgen_pids)
                ticks = [t for t in (_proc_cpu_ticks(x) for x in pids) if t is not None]
                gen = sum(ticks) if ticks else None
                if gen is not None and prev_gen is not None and prev_gen_pid == pids:
                    gen_pct = f"{100.0 * (gen - prev_gen) / CLK_TCK / dt:.1f}"
                host = _host_cpu()
                dtot = host[0] - prev_host[0]
                host_pct = f"{100.0 * (1 - (host[1] - prev_host[1]) / dtot):.1f}" if dtot > 0 else ""
                total, used = memory_total_and_used()
                mem_pct = f"{100.0 * used / total:.1f}" if total else ""
                out.write(f"{now:.3f},{srv_pct},{rss if rss is not None else ''},{gen_pct},{host_pct},{mem_pct}\n")
                out.flush()
                self.last = {"server_cpu": srv_pct, "rss": rss, "loadgen_cpu": gen_pct, "mem": mem_pct}
                prev_t, prev_srv, prev_host = now, srv, host
                prev_gen, prev_gen_pid = gen, pids

    def stop(self):
        self.stop_event.set()
        self.join(timeout=5)


# --- /metrics ----------------------------------------------------------------------------------
_SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)')
_LABEL = re.compile(r'([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"')


def parse_prometheus(text):
    """[(name, {label: value}, float)] of a Prometheus text exposition."""
    out = []
    for line in text.splitlines():
        if not line or line.startswith("#"):
            continue
        m = _SAMPLE.match(line)
        if not m:
            continue
        try:
            value = float(m.group(3))
        except ValueError:
            continue
        labels = {k: v.replace('\\"', '"').replace("\\\\", "\\") for k, v in _LABEL.findall(m.group(2) or "")}
        out.append((m.group(1), labels, value))
    return out


class Scraper(threading.Thread):
    """GET /metrics every `interval` s. Each scrape is appended to a JSON-lines file with the
    totals the report needs (DB queries, cache lookups and hits, HTTP requests); scrapes made
    with full=True (the runner's first and last) also keep the latency histograms.
    `summary()` gives the latest DB query rate and cache hit rate for the progress lines."""

    FULL = ("http_request_duration_seconds_bucket", "http_requests_total", "db_queries_total",
            "cache_requests_total")

    def __init__(self, base, token_fn, jsonl_path, interval=5.0):
        super().__init__(daemon=True)
        self.base = base
        self.token_fn = token_fn
        self.token = None
        self.jsonl_path = jsonl_path
        self.interval = interval
        self.stop_event = threading.Event()
        self.available = None  # unknown until the first scrape
        self.history = []      # (t, db_queries, cache_hits, cache_total)
        self.lock = threading.Lock()

    def scrape_once(self, full=False):
        headers = {}
        if self.token is None:
            try:
                self.token = self.token_fn()
            except RuntimeError:
                self.token = ""
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        t = time.time()
        status, _h, body = http("GET", self.base + "/metrics", headers=headers, timeout=5)
        if status == 401:
            self.token = None
        if status != 200:
            if self.available is None and status == 404:
                self.available = False
            return None
        samples = parse_prometheus(body.decode(errors="replace"))
        names = {n for n, _l, _v in samples}
        if not names & {"db_queries_total", "cache_requests_total", "http_requests_total"}:
            self.available = False
            return None
        self.available = True
        sums = {
            "db_queries_total": sum(v for n, _l, v in samples if n == "db_queries_total")
            if "db_queries_total" in names else None,
            "cache_hit": sum(v for n, lab, v in samples if n == "cache_requests_total" and lab.get("result") == "hit")
            if "cache_requests_total" in names else None,
            "cache_total": sum(v for n, _l, v in samples if n == "cache_requests_total")
            if "cache_requests_total" in names else None,
            "http_requests_total": sum(v for n, _l, v in samples if n == "http_requests_total")
            if "http_requests_total" in names else None,
            "in_flight": sum(v for n, _l, v in samples if n == "http_requests_in_flight"),
        }
        # what the server's memory is made of (servers without these gauges leave them out)
        for key, name, state in (("db_memory", "db_memory_bytes", None),
                                 ("heap_in_use", "process_heap_bytes", "in_use"),
                                 ("heap_free", "process_heap_bytes", "free"),
                                 ("cache_bytes", "cache_bytes", None)):
            vals = [v for n, lab, v in samples if n == name and (state is None or lab.get("state") == state)]
            if vals:
                sums[key] = sum(vals)
        with self.lock:
            self.history.append((t, sums["db_queries_total"], sums["cache_hit"], sums["cache_total"]))
        rec = {"t": t, "sum": sums}
        if full:
            rec["samples"] = [x for x in samples if x[0] in self.FULL]
        with open(self.jsonl_path, "a") as out:
            out.write(json.dumps(rec) + "\n")
        return sums

    def run(self):
        while not self.stop_event.wait(self.interval):
            self.scrape_once()

    def summary(self):
        """(db queries/s, cache hit %) over the last two scrapes, None where unknown."""
        with self.lock:
            if len(self.history) < 2:
                return None, None
            (t0, d0, h0, c0), (t1, d1, h1, c1) = self.history[-2], self.history[-1]
        dt = max(1e-3, t1 - t0)
        qps = (d1 - d0) / dt if d0 is not None and d1 is not None else None
        hit = 100.0 * (h1 - h0) / (c1 - c0) if c0 is not None and c1 is not None and c1 > c0 else None
        return qps, hit

    def stop(self):
        self.stop_event.set()
        self.join(timeout=10)


def extract_server_requests(log_path, out_path):
    """From the server's JSON log, one line per request: completion time (epoch s), 1 for login
    else 0, duration in ms; gzip-compressed. Returns the number of requests."""
    import gzip

    from report import access_log_requests  # the report reads the same lines
    n = 0
    try:
        with open(log_path, "r", errors="replace") as f, gzip.open(out_path, "wt") as out:
            for ts, is_login, ms in access_log_requests(f):
                out.write(f"{ts:.3f},{1 if is_login else 0},{ms:.3f}\n")
                n += 1
    except OSError:
        return 0
    return n


# --- Locust ----------------------------------------------------------------------------------------
class SamplesTail:
    """Follows the samples file(s) written by the locustfile for the progress lines: `path`, and
    `path.<pid>` written by the workers of a distributed run."""

    def __init__(self, path):
        self.path = Path(path)
        self.offsets = {}
        self.partials = {}
        self.total = 0
        self.failures = 0
        self.exceptions = 0
        self.recent = []  # (t_end, ms, ok)

    def poll(self):
        for path in [self.path, *sorted(self.path.parent.glob(self.path.name + ".*"))]:
            self._poll_file(path)

    def _poll_file(self, path):
        key = str(path)
        try:
            with open(path, "r", errors="replace") as f:
                f.seek(self.offsets.get(key, 0))
                chunk = f.read()
                self.offsets[key] = f.tell()
        except OSError:
            return
        if not chunk:
            return
        lines = (self.partials.get(key, "") + chunk).split("\n")
        self.partials[key] = lines.pop()
        for line in lines:
            parts = line.split(",")
            if len(parts) < 7:
                continue
            if parts[1] == "EXCEPTION":
                self.exceptions += 1
                continue
            try:
                t, ms, ok = float(parts[0]), float(parts[3]), parts[4] == "1"
            except ValueError:
                continue
            self.total += 1
            if not ok:
                self.failures += 1
            self.recent.append((t, ms, ok))

    def window(self, seconds):
        """(requests/s, p95 ms, failures) over the last `seconds`."""
        now = time.time()
        self.recent = [r for r in self.recent if r[0] >= now - max(seconds, 10)]
        win = [r for r in self.recent if r[0] >= now - seconds]
        if not win:
            return 0.0, None, 0
        ms = sorted(r[1] for r in win)
        p95 = ms[min(len(ms) - 1, int(0.95 * len(ms)))]
        return len(win) / seconds, p95, sum(1 for r in win if not r[2])


def users_now(users_path):
    try:
        lines = tail_lines(users_path, 1)
        return int(lines[-1].split(",")[1]) if lines else 0
    except (ValueError, IndexError):
        return 0


def merge_samples(path):
    """Appends the workers' samples files (`path.<pid>`) to `path` in time order and removes them."""
    path = Path(path)
    parts = sorted(path.parent.glob(path.name + ".*"))
    if not parts:
        return
    rows = []
    for part in parts:
        with open(part, "r", errors="replace") as f:
            for line in f:
                if not line.endswith("\n"):
                    continue
                try:
                    rows.append((float(line.split(",", 1)[0]), line))
                except ValueError:
                    continue
    rows.sort(key=lambda r: r[0])
    with open(path, "a", encoding="utf-8") as out:
        out.writelines(line for _t, line in rows)
    for part in parts:
        part.unlink()


def run_locust(run_dir, base, scenario, duration_s, users, spawn_rate, monitor, scraper,
               progress_every=5.0, extra_env=None, label="", workers=0):
    """Runs Locust headless with the scenario shape; prints a progress line every few seconds.
    workers > 0: distributed, a master plus that many worker processes (one per core spreads
    the load generator's Python over the cores instead of one GIL). Returns (exit code,
    interrupted?)."""
    env = dict(os.environ)
    env.update({
        "SP_LOAD_SCENARIO": scenario,
        "SP_LOAD_DURATION": str(int(duration_s)),
        "SP_LOAD_SAMPLES": str(run_dir / "samples.csv"),
        "SP_LOAD_USERS_LOG": str(run_dir / "users.csv"),
        "PYTHONUNBUFFERED": "1",
    })
    if users is not None:
        env["SP_LOAD_USERS"] = str(users)
    if spawn_rate is not None:
        env["SP_LOAD_SPAWN_RATE"] = str(spawn_rate)
    env.update(extra_env or {})
    cmd = [PYTHON, "-m", "locust", "-f", str(LOAD_DIR / "locustfile.py"), "--headless",
           "--host", base, "--csv", str(run_dir / "locust"), "--csv-full-history",
           "--only-summary", "--loglevel", "INFO", "--exit-code-on-error", "1"]
    worker_cmd = None
    if workers > 0:
        port = free_port()
        cmd += ["--master", "--master-bind-host", "127.0.0.1", "--master-bind-port", str(port),
                "--expect-workers", str(workers)]
        worker_cmd = [PYTHON, "-m", "locust", "-f", str(LOAD_DIR / "locustfile.py"), "--worker",
                      "--master-host", "127.0.0.1", "--master-port", str(port), "--loglevel", "WARNING"]
    worker_procs = []
    with open(run_dir / "locust.log", "ab") as out:
        out.write(("$ " + " ".join(cmd) + "\n").encode())
        out.flush()
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT, env=env, cwd=str(REPO),
                                start_new_session=True)
        if worker_cmd:
            out.write(("$ " + " ".join(worker_cmd) + f"   (x{workers})\n").encode())
            out.flush()
            for _ in range(workers):
                worker_procs.append(subprocess.Popen(worker_cmd, stdout=out, stderr=subprocess.STDOUT,
                                                     env=env, cwd=str(REPO), start_new_session=True))
    monitor.loadgen_pids = [proc.pid] + [w.pid for w in worker_procs]
    tail = SamplesTail(run_dir / "samples.csv")
    t0 = time.time()
    next_line = t0 + progress_every
    interrupted = False
    deadline = t0 + duration_s + 120  # the shape ends the run; this only guards against a hang
    try:
        while proc.poll() is None:
            time.sleep(0.5)
            if time.time() > deadline:
                log("Locust did not stop at the end of its shape: stopping it")
                proc.send_signal(signal.SIGINT)
                deadline = float("inf")
            if time.time() >= next_line:
                next_line += progress_every
                tail.poll()
                print_progress(label, t0, duration_s, tail, users_now(run_dir / "users.csv"),
                               monitor, scraper, progress_every)
    except KeyboardInterrupt:
        interrupted = True
        log("interrupted: stopping Locust (the report covers the run so far)")
        proc.send_signal(signal.SIGINT)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
    proc.wait()
    for w in worker_procs:  # the master tells its workers to quit; make sure they have
        try:
            w.wait(timeout=30)
        except subprocess.TimeoutExpired:
            w.kill()
            w.wait()
    merge_samples(run_dir / "samples.csv")
    return proc.returncode, interrupted


def print_progress(label, t0, duration_s, tail, users, monitor, scraper, window):
    rps, p95, fails = tail.window(window)
    elapsed = time.time() - t0
    m = monitor.last
    parts = [f"[{label}{int(elapsed):>5}s/{int(duration_s)}s]", f"users {users:>4}", f"rps {rps:7.1f}",
             f"p95 {p95:6.1f} ms" if p95 is not None else "p95      - ms",
             f"failed {tail.failures}" + (f" (+{fails} now)" if fails else ""),
             f"cpu {m.get('server_cpu') or '-'}%",
             f"rss {int(m['rss']) // (1 << 20) if m.get('rss') else '-'} MB"]
    if tail.exceptions:
        parts.append(f"exceptions {tail.exceptions}")
    if scraper is not None and scraper.available:
        qps, hit = scraper.summary()
        if qps is not None:
            parts.append(f"db {qps:.0f} q/s")
        if hit is not None:
            parts.append(f"cache hit {hit:.0f}%")
    log("  ".join(parts))


# --- wrk and nginx (capacity) ------------------------------------------------------------------------
def run_wrk(url, script, token, duration_s, connections, threads, out_path):
    """Runs wrk; returns the parsed WRK_JSON summary (plus 'rps') or raises RuntimeError."""
    cmd = ["wrk", "-t", str(threads), "-c", str(connections), "-d", f"{int(duration_s)}s",
           "--latency", "--timeout", "10s", "-s", str(script), url]
    env = dict(os.environ, SP_TOKEN=token or "")
    res = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=duration_s + 120)
    with open(out_path, "a") as out:
        out.write("$ " + " ".join(cmd) + "\n" + res.stdout + res.stderr + "\n")
    for line in res.stdout.splitlines():
        if line.startswith("WRK_JSON "):
            data = json.loads(line[len("WRK_JSON "):])
            data["rps"] = data["requests"] / max(1e-6, data["duration_us"] / 1e6)
            return data
    raise RuntimeError(f"wrk gave no summary (exit {res.returncode}): {res.stderr.strip()[:300]}")


class Nginx:
    """nginx serving given files at given paths on a free loopback port, from a temp prefix."""

    def __init__(self, prefix, files, headers=None):
        self.prefix = Path(prefix)
        self.files = files            # {url path: bytes}
        self.headers = headers or {}  # extra response headers, to match the API's
        self.port = free_port()
        self.proc = None

    @staticmethod
    def _quote(value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'

    def start(self):
        www = self.prefix / "www"
        www.mkdir(parents=True, exist_ok=True)
        for sub in ("logs", "tmp"):
            (self.prefix / sub).mkdir(exist_ok=True)
        locations = []
        for i, (path, body) in enumerate(self.files.items()):
            f = www / f"body{i}.json"
            f.write_bytes(body)
            locations.append(f"    location = {path} {{ alias {f}; }}")
        add = "\n".join(f"    add_header {k} {self._quote(v)} always;" for k, v in self.headers.items())
        conf = f"""worker_processes {cpu_count()};
daemon off;
pid {self.prefix}/nginx.pid;
error_log {self.prefix}/logs/error.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  default_type application/json;
  sendfile on;
  tcp_nodelay on;
  keepalive_timeout 60s;
  keepalive_requests 1000000;
  client_body_temp_path {self.prefix}/tmp/body;
  proxy_temp_path {self.prefix}/tmp/proxy;
  fastcgi_temp_path {self.prefix}/tmp/fastcgi;
  uwsgi_temp_path {self.prefix}/tmp/uwsgi;
  scgi_temp_path {self.prefix}/tmp/scgi;
  server {{
    listen 127.0.0.1:{self.port};
{add}
{chr(10).join(locations)}
  }}
}}
"""
        conf_path = self.prefix / "nginx.conf"
        conf_path.write_text(conf)
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        self.log = open(self.prefix / "logs" / "stderr.log", "ab")
        self.proc = subprocess.Popen([nginx, "-p", str(self.prefix), "-e", str(self.prefix / "logs" / "error.log"),
                                      "-c", str(conf_path)], stdout=self.log, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        deadline = time.time() + 15
        first = next(iter(self.files))
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"nginx exited with {self.proc.returncode}; see {self.prefix}/logs")
            status, _h, _b = http("GET", f"http://127.0.0.1:{self.port}{first}", timeout=2)
            if status == 200:
                return
            time.sleep(0.2)
        raise RuntimeError("nginx did not answer within 15s")

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if self.proc:
            self.log.close()


def nginx_version():
    try:
        res = subprocess.run(["nginx", "-v"], capture_output=True, text=True, timeout=5)
        return (res.stderr or res.stdout).strip().split("/")[-1]
    except (OSError, subprocess.SubprocessError):
        return "?"


def locust_version():
    try:
        out = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "python3-locust"],
                             capture_output=True, text=True, timeout=5).stdout.strip()
        return out or "?"
    except (OSError, subprocess.SubprocessError):
        return "?"


def host_description():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    total, _used = memory_total_and_used()
    return {"cpu_model": model, "cores": cpu_count(), "memory_bytes": total,
            "kernel": os.uname().release, "python": sys.version.split()[0]}


def git_commit():
    try:
        res = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"],
                             capture_output=True, text=True, timeout=5)
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return res.stdout.strip() + ("+local changes" if dirty else "") if res.returncode == 0 else "?"
    except (OSError, subprocess.SubprocessError):
        return "?"
