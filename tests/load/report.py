#!/usr/bin/python3
"""Load-test report: reads a run directory written by scripts/load-test, evaluates the plan's
criteria for its scenario, writes report.md, a self-contained report.html (inline SVG charts)
and summary.json. Standard library only.

    /usr/bin/python3 tests/load/report.py reports/<timestamp>-<scenario>   # rebuild a report

Exit status: 0 when every criterion passes, 1 when one fails, 2 on a usage error.

Run directory contents (written by the runner / the locustfile):
    meta.json       scenario, phases, seed, server, host, capacity results
    samples.csv     end time, method, name, ms, ok, status, bytes — one line per request
    users.csv       time, users — every second
    monitor.csv     time, server CPU % (100 = all cores), RSS, load generator CPU %, host CPU %, memory %
    metrics.jsonl   /metrics scrapes (time + samples)
    locust_*.csv    Locust's own statistics (kept as they are)
"""
import csv
import datetime
import html
import json
import math
import sys
from collections import defaultdict
from pathlib import Path

# --- the plan's criteria -------------------------------------------------------------------------
CRITERIA = {
    "normal": {"p95_ms": 200.0, "error_pct": 0.1, "cpu_pct": 80.0, "mem_pct": 80.0},
    "high": {"p95_ms": 500.0, "error_pct": 1.0, "cpu_pct": 90.0, "mem_pct": 90.0},
}
BREAK_P95_MS = 200.0      # max: breaking point = p95 above this...
BREAK_ERROR_PCT = 1.0     # ...or errors above this
TARGET_USERS = 500        # issue 5 product targets, evaluated while >= this many users run
TARGET_P99_MS = 25.0      # every endpoint but login
TARGET_LOGIN_P99_MS = 500.0
TARGET_RSS_MB = 150.0
LOGIN = "POST /api/auth/login"
SPIKE_WINDOW_S = 10       # spike analysis windows (5 s when the recovery phase is under 90 s)
SPIKE_STABLE_S = 30       # recovered = at or under the pre-spike level for this long

PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#ff7f0e", "#9467bd", "#8c564b", "#e377c2",
           "#17becf", "#7f7f7f", "#bcbd22", "#393b79", "#637939", "#843c39", "#7b4173"]


def pct(sorted_values, p):
    """Nearest-rank percentile (p in 0..100) of an already sorted list; None when empty."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(math.ceil(p / 100.0 * len(sorted_values))) - 1))
    return sorted_values[k]


def fmt_ms(v):
    if v is None:
        return "-"
    return f"{v:.1f}" if v < 100 else f"{v:.0f}"


def fmt_pct(v, digits=2):
    return "-" if v is None else f"{v:.{digits}f}%"


def fmt_ratio(r):
    return f"{r * 100:.1f}%" if r < 0.1 else f"{r * 100:.0f}%"


def fmt_mb(b):
    return "-" if b is None else f"{b / (1 << 20):.1f} MB"


def access_log_requests(lines):
    """(completion time in epoch s, is a login, duration ms) for each request line of the
    server's JSON log; other lines and malformed ones are skipped."""
    for line in lines:
        if '"msg":"request"' not in line:
            continue
        try:
            j = json.loads(line)
            ts = datetime.datetime.fromisoformat(j["ts"].replace("Z", "+00:00")).timestamp()
            yield ts, j.get("route") == "/api/auth/login", float(j["duration_ms"])
        except (ValueError, KeyError, TypeError, AttributeError):
            continue


# --- loading ---------------------------------------------------------------------------------------
class Run:
    """Everything measured in one run directory, indexed by second since the start."""

    def __init__(self, run_dir):
        self.dir = Path(run_dir)
        self.meta = json.loads((self.dir / "meta.json").read_text())
        self.t0 = self.meta.get("t0")
        self.sec = defaultdict(lambda: defaultdict(list))   # endpoint -> second -> [ms]
        self.fail_sec = defaultdict(lambda: defaultdict(int))
        self.status = defaultdict(lambda: defaultdict(int))  # endpoint -> status -> count
        self.bytes = defaultdict(int)
        self.exceptions = []
        self.users = []        # (second, users)
        self.monitor = []      # dicts with s (second) and values
        self.scrapes = []      # /metrics scrapes: {"t", "s" (second), "sum": {...}, "samples"?}
        self.end_s = 0.0
        self._load_users()
        self._load_samples()
        self._load_monitor()
        self._load_metrics()
        self.failures = self._load_locust_failures()
        self.tracebacks = self._count_tracebacks()

    def _load_users(self):
        path = self.dir / "users.csv"
        if not path.exists():
            return
        for line in path.read_text().splitlines():
            try:
                t, n = line.split(",")
                t, n = float(t), int(n)
            except ValueError:
                continue
            if self.t0 is None:
                self.t0 = t
            self.users.append((t - self.t0, n))

    def _load_samples(self):
        path = self.dir / "samples.csv"
        if not path.exists():
            return
        with open(path, "r", errors="replace") as f:
            for line in f:
                parts = line.rstrip("\n").split(",")
                if len(parts) < 7:
                    continue
                try:
                    t = float(parts[0])
                except ValueError:
                    continue
                if self.t0 is None:
                    self.t0 = t
                method = parts[1]
                if method == "EXCEPTION":
                    self.exceptions.append((t - self.t0, ",".join(parts[2:-4])))
                    continue
                name = ",".join(parts[2:-4])
                try:
                    ms = float(parts[-4])
                    ok = parts[-3] == "1"
                    status = int(parts[-2])
                    size = int(parts[-1])
                except ValueError:
                    continue
                ep = f"{method} {name}"
                s = int(max(0.0, t - self.t0))
                self.sec[ep][s].append(ms)
                if not ok:
                    self.fail_sec[ep][s] += 1
                self.status[ep][status] += 1
                self.bytes[ep] += size
                self.end_s = max(self.end_s, t - self.t0)

    def _load_monitor(self):
        path = self.dir / "monitor.csv"
        if not path.exists():
            return
        with open(path) as f:
            for row in csv.DictReader(f):
                try:
                    t = float(row["t"])
                except (ValueError, KeyError):
                    continue
                rec = {"s": t - (self.t0 or t)}
                for k in ("server_cpu_pct", "server_rss_bytes", "loadgen_cpu_pct", "host_cpu_pct",
                          "mem_used_pct"):
                    try:
                        rec[k] = float(row[k]) if row.get(k) not in (None, "") else None
                    except ValueError:
                        rec[k] = None
                self.monitor.append(rec)

    def _load_metrics(self):
        path = self.dir / "metrics.jsonl"
        if not path.exists():
            return
        for line in path.read_text().splitlines():
            try:
                rec = json.loads(line)
            except ValueError:
                continue
            if "sum" in rec:
                rec["s"] = rec["t"] - (self.t0 or rec["t"])
                self.scrapes.append(rec)

    def _count_tracebacks(self):
        """Simulated users that died on an exception outside a task (for instance in on_start,
        when a login answer has no token): gevent logs "<Greenlet ...> failed with <Error>" in
        locust.log and Locust fires no event for them."""
        path = self.dir / "locust.log"
        if not path.exists():
            return 0
        with open(path, errors="replace") as f:
            return sum(1 for line in f if "<Greenlet at " in line and "> failed with " in line)

    @property
    def user_exceptions(self):
        """Exceptions in tasks (Locust user_error events) + users that died outside a task."""
        return len(self.exceptions) + self.tracebacks

    def _load_locust_failures(self):
        path = self.dir / "locust_failures.csv"
        out = []
        if path.exists():
            with open(path) as f:
                for row in csv.DictReader(f):
                    out.append((row.get("Method", ""), row.get("Name", ""), row.get("Error", ""),
                                int(row.get("Occurrences", "0") or 0)))
        return out

    # --- queries -------------------------------------------------------------------------------
    @property
    def endpoints(self):
        return sorted(self.sec, key=lambda e: (-sum(len(v) for v in self.sec[e].values()), e))

    def window(self, start=None, end=None, endpoints=None):
        """Stats of requests that completed in [start, end) seconds (None = open)."""
        eps = endpoints if endpoints is not None else list(self.sec)
        s0 = float(start) if start is not None else 0.0
        s1 = float(end) if end is not None else max(self.end_s + 1.0, s0 + 1.0)
        lo, hi = int(math.floor(s0)), int(math.ceil(s1))
        values, fails = [], 0
        for ep in eps:
            per_sec, fail_sec = self.sec.get(ep, {}), self.fail_sec.get(ep, {})
            if start is None and end is None:
                for lst in per_sec.values():
                    values.extend(lst)
                fails += sum(fail_sec.values())
                continue
            for s in range(lo, hi):
                lst = per_sec.get(s)
                if lst:
                    values.extend(lst)
                fails += fail_sec.get(s, 0)
        values.sort()
        span = max(1e-9, s1 - s0) if (start is not None or end is not None) else max(1.0, self.end_s)
        n = len(values)
        return {
            "requests": n, "failures": fails,
            "error_pct": (100.0 * fails / n) if n else 0.0,
            "rps": n / span,
            "p50": pct(values, 50), "p95": pct(values, 95), "p99": pct(values, 99),
            "max": values[-1] if values else None,
            "mean": (sum(values) / n) if n else None,
        }

    def series(self, width, endpoints=None):
        """[(t_mid, stats)] over consecutive windows of `width` seconds."""
        n = max(1, int(math.floor(max(self.end_s, 1) / width)))  # whole windows only
        eps = endpoints if endpoints is not None else list(self.sec)
        buckets = [[] for _ in range(n + 1)]
        fails = [0] * (n + 1)
        for ep in eps:
            for s, lst in self.sec[ep].items():
                buckets[min(n, s // width)].extend(lst)
            for s, c in self.fail_sec[ep].items():
                fails[min(n, s // width)] += c
        out = []
        for i, b in enumerate(buckets[:n]):
            b.sort()
            out.append(((i + 0.5) * width, {"rps": len(b) / width, "fail_rps": fails[i] / width,
                                             "p50": pct(b, 50), "p95": pct(b, 95), "p99": pct(b, 99),
                                             "requests": len(b)}))
        return out

    def users_at(self, s):
        n = 0
        for t, u in self.users:
            if t > s:
                break
            n = u
        return n

    def monitor_window(self, start=None, end=None):
        rows = [r for r in self.monitor if (start is None or r["s"] >= start) and (end is None or r["s"] < end)]

        def vals(k):
            return [r[k] for r in rows if r.get(k) is not None]
        cpu = vals("server_cpu_pct")
        rss = vals("server_rss_bytes")
        gen = vals("loadgen_cpu_pct")
        host = vals("host_cpu_pct")
        mem = vals("mem_used_pct")
        return {
            "cpu_avg": (sum(cpu) / len(cpu)) if cpu else None,
            "cpu_max_60s": rolling_max_avg([(r["s"], r["server_cpu_pct"]) for r in rows
                                            if r.get("server_cpu_pct") is not None], 60),
            "rss_max": max(rss) if rss else None,
            "rss_first": rss[0] if rss else None,
            "rss_last": rss[-1] if rss else None,
            "loadgen_cpu_avg": (sum(gen) / len(gen)) if gen else None,
            "loadgen_cpu_max_60s": rolling_max_avg([(r["s"], r["loadgen_cpu_pct"]) for r in rows
                                                    if r.get("loadgen_cpu_pct") is not None], 60),
            "host_cpu_avg": (sum(host) / len(host)) if host else None,
            "mem_max": max(mem) if mem else None,
        }

    # --- /metrics --------------------------------------------------------------------------------
    @staticmethod
    def _delta(a, b, key):
        va, vb = a["sum"].get(key), b["sum"].get(key)
        return None if va is None or vb is None else vb - va

    def metrics_window(self, start=None, end=None):
        """DB queries/s, queries per request and cache hit rate between the scrapes nearest to
        [start, end]; None when /metrics gave nothing."""
        if len(self.scrapes) < 2:
            return None
        lo = start if start is not None else -1e18
        hi = end if end is not None else 1e18
        inside = [x for x in self.scrapes if lo <= x["s"] <= hi]
        if len(inside) >= 2:
            a, b = inside[0], inside[-1]
        else:  # the scrapes that enclose the window
            a = max((x for x in self.scrapes if x["s"] <= lo), key=lambda x: x["s"], default=self.scrapes[0])
            b = min((x for x in self.scrapes if x["s"] >= hi), key=lambda x: x["s"], default=self.scrapes[-1])
            if b["s"] <= a["s"]:
                return None
        dt = max(1e-3, b["s"] - a["s"])
        dq = self._delta(a, b, "db_queries_total")
        dreq = self._delta(a, b, "http_requests_total")
        dhit = self._delta(a, b, "cache_hit")
        dcache = self._delta(a, b, "cache_total")
        return {
            "db_qps": dq / dt if dq is not None else None,
            "db_per_request": (dq / dreq) if dq is not None and dreq else None,
            "cache_hit_pct": (100.0 * dhit / dcache) if dcache else None,
            "cache_lookups": dcache,
        }

    def metrics_series(self):
        """[(t, db q/s, cache hit %)] between consecutive scrapes."""
        out = []
        for a, b in zip(self.scrapes, self.scrapes[1:]):
            dt = max(1e-3, b["s"] - a["s"])
            dq = self._delta(a, b, "db_queries_total")
            dh = self._delta(a, b, "cache_hit")
            dc = self._delta(a, b, "cache_total")
            out.append(((a["s"] + b["s"]) / 2, dq / dt if dq is not None else None,
                        (100.0 * dh / dc) if dc else None))
        return out

    def server_latency(self):
        """Per (method, route): requests and p50/p95/p99 upper bounds from the server's own
        http_request_duration_seconds histogram, between the first and the last scrape."""
        full = [x for x in self.scrapes if x.get("samples")]
        if len(full) < 2:
            return []
        first, last = full[0]["samples"], full[-1]["samples"]

        def buckets(samples):
            acc = defaultdict(lambda: defaultdict(float))
            for n, lab, v in samples:
                if n != "http_request_duration_seconds_bucket":
                    continue
                key = (lab.get("method", ""), lab.get("route", lab.get("path", "")))
                le = float("inf") if lab.get("le") in ("+Inf", "Inf") else float(lab.get("le", "inf"))
                acc[key][le] += v
            return acc
        a, b = buckets(first), buckets(last)
        out = []
        for key, cum in b.items():
            les = sorted(cum)
            counts = [cum[le] - a.get(key, {}).get(le, 0.0) for le in les]
            total = counts[-1] if counts else 0
            if total <= 0:
                continue

            def q(p):
                need = p / 100.0 * total
                for le, c in zip(les, counts):
                    if c >= need:
                        return le * 1000.0
                return float("inf")
            out.append({"method": key[0], "route": key[1], "requests": int(total),
                        "p50": q(50), "p95": q(95), "p99": q(99)})
        out.sort(key=lambda r: -r["requests"])
        return out


def rolling_max_avg(points, width):
    """Largest average of (t, v) points over any `width`-second span (whole-run average when
    the run is shorter)."""
    if not points:
        return None
    if points[-1][0] - points[0][0] < width:
        return sum(v for _t, v in points) / len(points)
    best, j, acc = None, 0, 0.0
    for i, (t, v) in enumerate(points):
        acc += v
        while points[j][0] <= t - width:
            acc -= points[j][1]
            j += 1
        if t - points[0][0] >= width:
            avg = acc / (i - j + 1)
            best = avg if best is None else max(best, avg)
    return best


# --- criteria ----------------------------------------------------------------------------------------
def criterion(name, threshold, measured, status, detail=""):
    return {"name": name, "threshold": threshold, "measured": measured, "status": status, "detail": detail}


def ok(b):
    return "PASS" if b else "FAIL"


def common_criteria(run, analysis):
    """Criteria for every Locust scenario: server up, RSS target."""
    meta = run.meta
    out = []
    alive = meta.get("server_alive_at_end", True)
    health = meta.get("health_after_status")
    conn_errors = sum(run.status[ep].get(0, 0) for ep in run.status)
    detail = f"server {'running' if alive else 'EXITED (code ' + str(meta.get('server_exit_during_run')) + ')'} at the end" \
             f", /api/health after the run: HTTP {health}; requests that got no answer " \
             f"(connection refused/reset): {conn_errors}"
    out.append(criterion("No crash (server up for the whole run)", "process alive, /api/health 200 after the run",
                         "yes" if alive and health == 200 else "no", ok(alive and health == 200), detail))
    rss = meta.get("peak_rss_bytes") or analysis["resources"]["rss_max"]
    if rss:
        out.append(criterion("Server RSS (issue 5)", f"< {TARGET_RSS_MB:.0f} MB", fmt_mb(rss),
                             ok(rss < TARGET_RSS_MB * (1 << 20)), "peak resident set (VmHWM)"))
    else:
        out.append(criterion("Server RSS (issue 5)", f"< {TARGET_RSS_MB:.0f} MB", "-", "FAIL", "not measured"))
    return out


def plan_criteria(run, analysis, limits):
    out = []
    eps = analysis["endpoints"]
    if eps:
        worst = max(eps, key=lambda e: e["p95"] or 0)
        allp = analysis["total"]["p95"]
        server = [r for r in analysis.get("server_latency") or [] if r["route"] != "/metrics"]
        sworst = max(server, key=lambda r: r["p95"]) if server else None
        out.append(criterion("API response time p95, every endpoint", f"< {limits['p95_ms']:.0f} ms",
                             f"{fmt_ms(worst['p95'])} ms", ok((worst["p95"] or 0) < limits["p95_ms"]),
                             f"worst: {worst['endpoint']}; all requests: {fmt_ms(allp)} ms"
                             + (f"; server-side worst p95 <= {fmt_ms(sworst['p95'])} ms ({sworst['method']} "
                                f"{sworst['route']})" if sworst else "")))
    else:
        out.append(criterion("API response time p95, every endpoint", f"< {limits['p95_ms']:.0f} ms", "-",
                             "FAIL", "no request was recorded"))
    t = analysis["total"]
    nexc = run.user_exceptions
    err = 100.0 * (t["failures"] + nexc) / t["requests"] if t["requests"] else 100.0
    out.append(criterion("Error rate", f"< {limits['error_pct']}%", fmt_pct(err, 3),
                         ok(t["requests"] > 0 and err < limits["error_pct"]),
                         f"{t['failures']} failed requests + {nexc} user exceptions of {t['requests']}"))
    res = analysis["resources"]
    cpu = res["cpu_max_60s"]
    out.append(criterion("Server CPU", f"< {limits['cpu_pct']:.0f}%", fmt_pct(cpu, 1),
                         ok(cpu is not None and cpu < limits["cpu_pct"]),
                         f"highest 60 s average; 100% = all {run.meta.get('host', {}).get('cores', '?')} cores; "
                         f"whole-run average {fmt_pct(res['cpu_avg'], 1)}"))
    mem = res["mem_max"]
    out.append(criterion("Memory", f"< {limits['mem_pct']:.0f}%", fmt_pct(mem, 1),
                         ok(mem is not None and mem < limits["mem_pct"]),
                         f"peak memory in use on the host (server RSS peak {fmt_mb(run.meta.get('peak_rss_bytes') or res['rss_max'])}; "
                         "the load generator runs on the same host)"))
    return out


def target_criteria(run, analysis):
    """Issue 5: at 500 users p99 < 25 ms on every endpoint but login; login p99 < 500 ms."""
    win = analysis.get("target_window")
    if not win:
        peak = max((u for _t, u in run.users), default=0)
        return [criterion(f"p99 at {TARGET_USERS} users, every endpoint but login (issue 5)",
                          f"< {TARGET_P99_MS:.0f} ms", "-", "N/A",
                          f"not evaluated: this run peaked at {peak} users"),
                criterion(f"Login p99 at {TARGET_USERS} users (issue 5)", f"< {TARGET_LOGIN_P99_MS:.0f} ms",
                          "-", "N/A", f"not evaluated: this run peaked at {peak} users")]
    start, end = win
    out = []
    rows = []
    worst = None
    for ep in run.endpoints:
        if ep == LOGIN:
            continue
        st = run.window(start, end, [ep])
        if not st["requests"]:
            continue
        rows.append((ep, st["p99"]))
        if worst is None or st["p99"] > worst[1]:
            worst = (ep, st["p99"])
    if worst is None:
        out.append(criterion(f"p99 at {TARGET_USERS} users, every endpoint but login (issue 5)",
                             f"< {TARGET_P99_MS:.0f} ms", "-", "FAIL", "no request in the window"))
    else:
        over = [f"{ep} {fmt_ms(v)} ms" for ep, v in rows if v >= TARGET_P99_MS]
        out.append(criterion(f"p99 at {TARGET_USERS} users, every endpoint but login (issue 5)",
                             f"< {TARGET_P99_MS:.0f} ms", f"{fmt_ms(worst[1])} ms", ok(not over),
                             (f"over: {'; '.join(over)}" if over else f"worst: {worst[0]}") +
                             f" (window {start:.0f}-{end:.0f} s)"))
    st = run.window(start, end, [LOGIN])
    if st["requests"]:
        out.append(criterion(f"Login p99 at {TARGET_USERS} users (issue 5)", f"< {TARGET_LOGIN_P99_MS:.0f} ms",
                             f"{fmt_ms(st['p99'])} ms", ok(st["p99"] < TARGET_LOGIN_P99_MS),
                             f"{st['requests']} logins in the window"))
    else:
        st = run.window(None, None, [LOGIN])
        out.append(criterion(f"Login p99 at {TARGET_USERS} users (issue 5)", f"< {TARGET_LOGIN_P99_MS:.0f} ms",
                             f"{fmt_ms(st['p99'])} ms" if st["requests"] else "-",
                             ok(bool(st["requests"]) and st["p99"] < TARGET_LOGIN_P99_MS),
                             "no login while at the peak (users log in when they start): whole run used"))
    return out


def ramp_windows(run):
    """[start, end) of every ramp-up in the shape: while users are being added (and logging in)."""
    out, prev = [], 0
    for p in run.meta.get("phases") or []:
        if p["users"] > prev:
            ramp = (p["users"] - prev) / max(0.1, p["spawn_rate"])
            out.append((p["start"], min(p["end"], p["start"] + ramp + 2.0)))
        prev = p["users"]
    return out


def union_stats(run, windows, endpoints):
    """p99 and count over several windows together (percentiles of the union, not of the parts)."""
    values = []
    for a, b in windows:
        lo, hi = int(math.floor(a)), int(math.ceil(b))
        for ep in endpoints:
            per_sec = run.sec.get(ep, {})
            for sec in range(lo, hi):
                values.extend(per_sec.get(sec, ()))
    values.sort()
    return {"requests": len(values), "p99": pct(values, 99), "max": values[-1] if values else None}


def server_side(run, windows):
    """p99 of the server's own durations (from the access log: server_requests.csv.gz written by
    scripts/load-test, or server.log when it was kept whole) for requests completed in any of
    `windows` (seconds from t0): login and the others apart. None without such a record."""
    if run.t0 is None:
        return None
    login, others = [], []

    def add(ts, is_login, ms):
        t = ts - run.t0
        if any(a <= t < b for a, b in windows):
            (login if is_login else others).append(ms)

    compact = run.dir / "server_requests.csv.gz"
    log = run.dir / "server.log"
    if compact.exists():
        import gzip
        with gzip.open(compact, "rt") as f:
            for line in f:
                parts = line.split(",")
                try:
                    add(float(parts[0]), parts[1] == "1", float(parts[2]))
                except (ValueError, IndexError):
                    continue
    elif log.exists():
        with open(log, "r", errors="replace") as f:
            first = f.readline()
            if first.startswith("(last "):
                return None  # a truncated log would give a wrong picture
            f.seek(0)
            for ts, is_login, ms in access_log_requests(f):
                add(ts, is_login, ms)
    else:
        return None
    login.sort()
    others.sort()
    return {"login_p99": pct(login, 99), "others_p99": pct(others, 99),
            "logins": len(login), "others": len(others)}


def server_side_row(name, stats):
    if not stats or not stats["others"]:
        return None
    return criterion(name, "information", f"{fmt_ms(stats['others_p99'])} ms",
                     "INFO", f"every endpoint but login, {stats['others']} requests; login p99 "
                     f"{fmt_ms(stats['login_p99'])} ms over {stats['logins']} (server.log durations: "
                     "from the request's arrival to its answer, without the client's own delays)")


def burst_criteria(run, analysis):
    """Issue 5: through the ramp-up bursts (users spawned at up to 50/s, each logging in at once)
    login p99 < 500 ms, and the other endpoints' p99 stays < 25 ms in those same seconds."""
    if not analysis.get("target_window"):
        return []
    wins = ramp_windows(run)
    rate = max((p["spawn_rate"] for p in run.meta.get("phases") or []), default=0)
    login = union_stats(run, wins, [LOGIN])
    others = union_stats(run, wins, [ep for ep in run.sec if ep != LOGIN])
    where = f"{len(wins)} ramp-ups at {rate:.0f} users/s, {sum(b - a for a, b in wins):.0f} s in all"
    extra = [r for r in (server_side_row("Server side at 500 users (access log)",
                                         server_side(run, [analysis["target_window"]])),
                         server_side_row("Server side during the ramp-up bursts (access log)",
                                         server_side(run, wins))) if r]
    return extra + [
        criterion("Login p99 through the ramp-up bursts (issue 5)", f"< {TARGET_LOGIN_P99_MS:.0f} ms",
                  f"{fmt_ms(login['p99'])} ms" if login["requests"] else "-",
                  ok(bool(login["requests"]) and login["p99"] < TARGET_LOGIN_P99_MS),
                  f"{login['requests']} logins; {where}"),
        criterion("Other endpoints' p99 during the ramp-up bursts (issue 5)", f"< {TARGET_P99_MS:.0f} ms",
                  f"{fmt_ms(others['p99'])} ms" if others["requests"] else "-",
                  ok(bool(others["requests"]) and others["p99"] < TARGET_P99_MS),
                  f"{others['requests']} requests; {where}"),
    ]


def settle_time(phase, prev_users):
    """Seconds at the start of a phase to skip: the ramp plus a little."""
    ramp = abs(phase["users"] - prev_users) / max(0.1, phase["spawn_rate"])
    length = phase["end"] - phase["start"]
    return min(length * 0.5, ramp + min(10.0, 0.1 * length) + 1.0)


def find_target_window(run):
    phases = run.meta.get("phases") or []
    prev = 0
    best = None
    for p in phases:
        if p["users"] >= TARGET_USERS:
            start = p["start"] + settle_time(p, prev)
            end = min(p["end"], run.end_s + 1)
            if end - start > 1 and (best is None or end - start > best[1] - best[0]):
                best = (start, end)
        prev = p["users"]
    if best is None and not phases and run.users:
        # plain run (no shape): the span where the user count was at its peak
        peak = max(u for _t, u in run.users)
        if peak >= TARGET_USERS:
            ts = [t for t, u in run.users if u >= peak]
            best = (ts[0] + 5, ts[-1])
    return best


def max_analysis(run, analysis):
    """Plateau table, breaking point and bottlenecks for the max scenario. A plateau's latency
    excludes logins: users log in once, when they start, so the login burst of each ramp would
    otherwise decide the plateau; logins are shown apart and judged by their own target."""
    phases = run.meta.get("phases") or []
    steps = []
    prev = 0
    for p in phases:
        start = p["start"] + settle_time(p, prev)
        end = min(p["end"], run.end_s + 1)
        prev = p["users"]
        if end - start < 1:
            continue
        st = run.window(start, end, [ep for ep in run.sec if ep != LOGIN])
        login = run.window(start, end, [LOGIN])
        mon = run.monitor_window(start, end)
        met = run.metrics_window(start, end)
        steps.append({"phase": p["name"], "users": p["users"], "start": start, "end": end,
                      "rps": st["rps"] + login["rps"], "p50": st["p50"], "p95": st["p95"], "p99": st["p99"],
                      "login_p95": login["p95"], "logins": login["requests"],
                      "error_pct": st["error_pct"], "requests": st["requests"],
                      "cpu": mon["cpu_avg"], "loadgen_cpu": mon["loadgen_cpu_avg"],
                      "host_cpu": mon["host_cpu_avg"], "rss": mon["rss_max"],
                      "db_qps": met["db_qps"] if met else None,
                      "cache_hit": met["cache_hit_pct"] if met else None})
    breaking = None
    for s in steps:
        if s["requests"] and ((s["p95"] or 0) > BREAK_P95_MS or s["error_pct"] > BREAK_ERROR_PCT):
            breaking = s
            break
    return {"steps": steps, "breaking": breaking, "bottlenecks": bottlenecks(run, analysis, steps, breaking)}


def bottlenecks(run, analysis, steps, breaking):
    """Observations that point at what limits throughput, most important first."""
    notes = []
    cores = run.meta.get("host", {}).get("cores", 1)
    at = breaking or (steps[-1] if steps else None)
    if at:
        where = f"at {at['users']} users"
        if at["cpu"] is not None and at["cpu"] >= 85:
            notes.append(f"Server CPU-bound {where}: {at['cpu']:.0f}% of {cores} cores.")
        if at["loadgen_cpu"] is not None and at["loadgen_cpu"] >= 90:
            notes.append(f"Load generator busy {where} (Locust at {at['loadgen_cpu']:.0f}% of one core, all its processes): "
                         "client-side queueing inflates the measured latencies; run Locust with workers "
                         "or on another machine to load further.")
        if at["host_cpu"] is not None and at["host_cpu"] >= 95:
            notes.append(f"Host CPU saturated {where} ({at['host_cpu']:.0f}%): server and load generator "
                         "compete for the same cores.")
        if len(steps) >= 2 and steps[0]["users"] and at["users"] and steps[0]["rps"]:
            per_user_first = steps[0]["rps"] / steps[0]["users"]
            per_user_at = at["rps"] / at["users"]
            if per_user_at < 0.8 * per_user_first:
                notes.append(f"Throughput stopped scaling with users: {per_user_first:.2f} req/s per user at "
                             f"{steps[0]['users']} users, {per_user_at:.2f} {where}.")
    other = other_cpu(run, analysis["resources"])
    if other is not None and other >= 20:
        notes.append(f"Other processes used about {other:.0f}% of the host CPU during the run: "
                     "the measurements include that interference; rerun on a quiet host.")
    slow = sorted(analysis["endpoints"], key=lambda e: -(e["p99"] or 0))[:3]
    if slow:
        notes.append("Slowest endpoints (p99, whole run): " +
                     "; ".join(f"{e['endpoint']} {fmt_ms(e['p99'])} ms" for e in slow) + ".")
    codes = defaultdict(int)
    for ep in run.status:
        for code, n in run.status[ep].items():
            if code == 0 or code >= 400:
                codes[code] += n
    if codes.get(503):
        notes.append(f"{codes[503]} answers 503 (overload shedding: a worker or KDF pool was full).")
    if codes.get(429):
        notes.append(f"{codes[429]} answers 429 (rate limiting was active).")
    if codes.get(0):
        notes.append(f"{codes[0]} connection errors (refused/reset: connection limit or a crash).")
    five = sum(n for c, n in codes.items() if c >= 500 and c != 503)
    if five:
        notes.append(f"{five} server errors (5xx other than 503): see the server log.")
    met = analysis.get("metrics")
    if met:
        if met.get("db_per_request") is not None:
            notes.append(f"{met['db_per_request']:.2f} database queries per request on average "
                         f"({met['db_qps']:.0f} queries/s).")
        if met.get("cache_hit_pct") is not None and met["cache_hit_pct"] < 50:
            notes.append(f"Low cache hit rate ({met['cache_hit_pct']:.0f}%).")
    res = analysis["resources"]
    if res["rss_first"] and res["rss_last"] and res["rss_last"] > 1.2 * res["rss_first"] and \
            res["rss_last"] - res["rss_first"] > 16 << 20:
        notes.append(f"Server RSS grew from {fmt_mb(res['rss_first'])} to {fmt_mb(res['rss_last'])} "
                     "during the run.")
    return notes


def other_cpu(run, res):
    """Host CPU % not explained by the server and the load generator (None when unknown)."""
    cores = run.meta.get("host", {}).get("cores") or 1
    if run.meta.get("kind") == "capacity":
        return None  # wrk and nginx are not sampled
    if res.get("host_cpu_avg") is None or res.get("cpu_avg") is None:
        return None
    return max(0.0, res["host_cpu_avg"] - res["cpu_avg"] - (res.get("loadgen_cpu_avg") or 0.0) / cores)


def spike_analysis(run):
    """Pre-spike level, spike peak, time to recover, stability after the spike.

    p95 is taken over 10 s windows (5 s for short runs) sliding by 1 s. The pre-spike level is the band the baseline
    already showed: 1.1 x the 90th percentile of the window p95s in the second half of the
    baseline phase, + 1 ms. Recovered at t: the window at t is within the level and so are at
    least 80% of the windows starting in the next 30 s."""
    ph = {p["name"]: p for p in run.meta.get("phases") or []}
    if not all(k in ph for k in ("baseline", "spike", "recovery")):
        return None
    base, spike, rec = ph["baseline"], ph["spike"], ph["recovery"]
    w = SPIKE_WINDOW_S if rec["end"] - rec["start"] >= 90 else 5

    def windows(a, b):
        out, t = [], a
        while t + w <= b + 1e-9:
            st = run.window(t, t + w)
            out.append((t, st["p95"]))
            t += 1.0
        return out
    pre_start = base["start"] + max(settle_time(base, 0), (base["end"] - base["start"]) / 2)
    pre = run.window(pre_start, base["end"])
    pre_windows = sorted(p for _t, p in windows(pre_start, base["end"]) if p is not None)
    if not pre["requests"] or not pre_windows:
        return {"pre_p95": None}
    level = 1.1 * pct(pre_windows, 90) + 1.0
    end = min(rec["end"], run.end_s)
    series = windows(spike["start"], end)
    spike_p95 = max((p for t, p in series if t < rec["start"] and p is not None), default=None)
    after = [(t, p) for t, p in series if t >= rec["start"]]
    stable_s = min(SPIKE_STABLE_S, (rec["end"] - rec["start"]) / 3)

    def within(p):
        return p is not None and p <= level
    recovered_at = None
    for i, (t, p) in enumerate(after):
        if not within(p):
            continue
        if after[-1][0] < t + stable_s - 1:
            break  # not enough run left to call it stable
        ahead = [q for (u, q) in after[i:] if u < t + stable_s]
        if sum(1 for q in ahead if within(q)) >= 0.8 * len(ahead):
            recovered_at = t
            break
    third = rec["start"] + 2 * (rec["end"] - rec["start"]) / 3
    tail = [(t, p) for t, p in after if t >= third]
    stable_share = (sum(1 for _t, p in tail if within(p)) / len(tail)) if tail else None
    tail_stats = run.window(third, rec["end"])
    return {"pre_p95": pre["p95"], "pre_window_p90": pct(pre_windows, 90), "level": level,
            "spike_p95": spike_p95, "recovery_start": rec["start"], "recovered_at": recovered_at,
            "recovery_s": (recovered_at - rec["start"]) if recovered_at is not None else None,
            "stable_share": stable_share, "tail_p95": tail_stats["p95"], "stable_s": stable_s, "window_s": w,
            "series": [(t + w / 2, p) for t, p in series]}


def spike_criteria(run, analysis):
    sa = analysis.get("spike")
    out = []
    t = analysis["total"]
    nexc = run.user_exceptions
    out.append(criterion("Errors (information)", "reported", fmt_pct(100.0 * (t["failures"] + nexc) / t["requests"]
                                                                    if t["requests"] else 0, 3), "INFO",
                         f"{t['failures']} failed requests + {nexc} user exceptions of {t['requests']}"))
    if not sa or sa.get("pre_p95") is None:
        out.append(criterion("System recovers after the spike", "p95 back to the pre-spike level", "-",
                             "FAIL", "no pre-spike measurements"))
        return out
    rec = sa["recovery_s"]
    out.append(criterion("System recovers after the spike",
                         f"p95 back within the pre-spike level (<= {fmt_ms(sa['level'])} ms) for {sa['stable_s']:.0f} s",
                         f"after {rec:.0f} s" if rec is not None else "not recovered",
                         ok(rec is not None),
                         f"pre-spike p95 {fmt_ms(sa['pre_p95'])} ms; p95 during the spike up to "
                         f"{fmt_ms(sa['spike_p95'])} ms ({sa['window_s']} s windows)"))
    share = sa["stable_share"]
    tail_ok = sa["tail_p95"] is not None and sa["tail_p95"] <= sa["level"]
    out.append(criterion("Response time stabilises",
                         "last third of the recovery phase: p95 within the pre-spike level, "
                         "80% of its windows too",
                         f"p95 {fmt_ms(sa['tail_p95'])} ms, {share * 100:.0f}% of windows" if share is not None else "-",
                         ok(share is not None and share >= 0.8 and tail_ok), ""))
    return out


def analyse(run):
    eps = []
    for ep in run.endpoints:
        st = run.window(None, None, [ep])
        st["endpoint"] = ep
        st["avg_bytes"] = (run.bytes[ep] / st["requests"]) if st["requests"] else 0
        st["statuses"] = dict(sorted(run.status[ep].items()))
        eps.append(st)
    analysis = {"endpoints": eps, "total": run.window(), "resources": run.monitor_window(),
                "metrics": run.metrics_window(), "server_latency": run.server_latency()}
    analysis["target_window"] = find_target_window(run)
    scenario = run.meta.get("scenario")
    crit = []
    if scenario in CRITERIA:
        crit += plan_criteria(run, analysis, CRITERIA[scenario])
    elif scenario == "max":
        ma = max_analysis(run, analysis)
        analysis["max"] = ma
        b = ma["breaking"]
        reached = max((s["users"] for s in ma["steps"]), default=0)
        peak = max((p["users"] for p in run.meta.get("phases") or []), default=0)
        if b:
            crit.append(criterion("Breaking point identified", f"p95 > {BREAK_P95_MS:.0f} ms or errors > {BREAK_ERROR_PCT}%",
                                  f"{b['users']} users", "PASS",
                                  f"p95 {fmt_ms(b['p95'])} ms, errors {fmt_pct(b['error_pct'])} at {b['rps']:.0f} req/s"))
        else:
            crit.append(criterion("Breaking point identified", f"p95 > {BREAK_P95_MS:.0f} ms or errors > {BREAK_ERROR_PCT}%",
                                  f"none up to {reached} users", ok(reached >= peak and reached > 0),
                                  "the system held every plateau" if reached >= peak and reached > 0
                                  else f"the run ended before the peak ({peak} users)"))
        crit.append(criterion("Bottlenecks identified", "observations listed", f"{len(ma['bottlenecks'])} listed",
                              ok(bool(ma["bottlenecks"])), " ".join(ma["bottlenecks"][:2])))
        nexc = run.user_exceptions
        t = analysis["total"]
        crit.append(criterion("Error rate (information)", f"breaking above {BREAK_ERROR_PCT}%",
                              fmt_pct(100.0 * (t["failures"] + nexc) / t["requests"] if t["requests"] else 0, 3),
                              "INFO", f"{t['failures']} failed requests + {nexc} user exceptions"))
    elif scenario == "spike":
        analysis["spike"] = spike_analysis(run)
        crit += spike_criteria(run, analysis)
    crit = common_criteria(run, analysis) + crit + target_criteria(run, analysis) + \
        burst_criteria(run, analysis)
    analysis["criteria"] = crit
    return analysis


# --- capacity ------------------------------------------------------------------------------------------
def capacity_analysis(run):
    cap = run.meta.get("capacity") or {}
    rows = []
    crit = []
    for e in cap.get("endpoints", []):
        api, ngx = e.get("api"), e.get("nginx")
        row = {"path": e["path"], "size": e.get("size_bytes"), "api": api, "nginx": ngx,
               "ratio": (api["rps"] / ngx["rps"]) if api and ngx and ngx.get("rps") else None,
               "error": e.get("error")}
        rows.append(row)
        if api:
            errs = api["errors"]
            bad = sum(errs.values())
            crit.append(criterion(f"GET {e['path']}: every request answered 2xx", "0 errors",
                                  f"{bad} errors", ok(bad == 0 and api["requests"] > 0),
                                  "; ".join([f"{api['requests']} requests"] +
                                            [f"{k} errors: {v}" for k, v in errs.items() if v])))
        else:
            crit.append(criterion(f"GET {e['path']}: every request answered 2xx", "0 errors", "-", "FAIL",
                                  e.get("error", "wrk did not run")))
        if row["ratio"] is not None:
            crit.append(criterion(f"GET {e['path']}: throughput vs nginx (same-size static file)",
                                  "reported", f"{fmt_ratio(row['ratio'])} of nginx", "INFO",
                                  f"{api['rps']:.0f} vs {ngx['rps']:.0f} req/s; p99 "
                                  f"{api['latency_us']['p99'] / 1000:.2f} vs {ngx['latency_us']['p99'] / 1000:.2f} ms"))
    analysis = {"capacity": rows, "resources": run.monitor_window(), "metrics": run.metrics_window(),
                "server_latency": run.server_latency(), "endpoints": [], "total": run.window()}
    crit = common_criteria(run, analysis) + crit
    analysis["criteria"] = crit
    return analysis


# --- SVG charts -----------------------------------------------------------------------------------------
def nice_step(span, target=5):
    if span <= 0:
        return 1.0
    raw = span / target
    mag = 10 ** math.floor(math.log10(raw))
    for m in (1, 2, 2.5, 5, 10):
        if raw <= m * mag:
            return m * mag
    return 10 * mag


def fmt_tick(v):
    if v == int(v):
        return f"{int(v)}"
    return f"{v:g}"


def fmt_time_tick(s):
    s = int(round(s))
    if s >= 3600:
        return f"{s // 3600}h{(s % 3600) // 60:02d}"
    if s >= 60:
        return f"{s // 60}m{s % 60:02d}" if s % 60 else f"{s // 60}m"
    return f"{s}s"


def svg_line_chart(title, series, x_max, y_label, hlines=(), vlines=(), width=940, height=260, y_max=None):
    """series: [(label, color, [(x, y or None), ...])]; hlines: [(y, label, color)];
    vlines: [(x, label)]. Returns an <svg> element as text."""
    left, right, top, bottom = 62, 16, 46, 34
    # legend rows: (x, row) per series
    legend, lx, row = [], left, 0
    for label, _c, _p in series:
        w = 24 + 6.2 * len(label)
        if lx + w > width - right and lx > left:
            lx, row = left, row + 1
        legend.append((lx, row))
        lx += w
    top += 14 * row
    height += 14 * row
    pw, ph = width - left - right, height - top - bottom
    ys = [y for _l, _c, pts in series for _x, y in pts if y is not None]
    ymax = max(ys + [h[0] for h in hlines] + [0]) if y_max is None else y_max
    if ymax <= 0:
        ymax = 1.0
    ystep = nice_step(ymax * 1.05)
    ytop = ystep * math.ceil(ymax * 1.05 / ystep)
    x_max = max(x_max, 1.0)
    xstep = nice_step(x_max, 8)
    for nice in (1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600):
        if nice >= xstep:
            xstep = nice
            break

    def X(x):
        return left + pw * x / x_max

    def Y(y):
        return top + ph * (1 - min(y, ytop) / ytop)

    e = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}">',
           f'<rect width="{width}" height="{height}" fill="#fff"/>',
           f'<text x="{left}" y="16" font-size="14" font-weight="bold">{e(title)}</text>']
    for (label, color, _pts), (lx, row) in zip(series, legend):
        ly = 26 + 14 * row
        out.append(f'<rect x="{lx:.0f}" y="{ly}" width="12" height="4" fill="{color}"/>'
                   f'<text x="{lx + 16:.0f}" y="{ly + 6}" font-size="11">{e(label)}</text>')
    # grid + axes
    y = 0.0
    while y <= ytop + 1e-9:
        out.append(f'<line x1="{left}" y1="{Y(y):.1f}" x2="{left + pw}" y2="{Y(y):.1f}" stroke="#e5e5e5"/>'
                   f'<text x="{left - 6}" y="{Y(y) + 4:.1f}" font-size="10" text-anchor="end">{fmt_tick(round(y, 6))}</text>')
        y += ystep
    x = 0.0
    while x <= x_max + 1e-9:
        out.append(f'<line x1="{X(x):.1f}" y1="{top + ph}" x2="{X(x):.1f}" y2="{top + ph + 4}" stroke="#999"/>'
                   f'<text x="{X(x):.1f}" y="{top + ph + 16}" font-size="10" text-anchor="middle">{fmt_time_tick(x)}</text>')
        x += xstep
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    out.append(f'<text x="14" y="{top + ph / 2:.1f}" font-size="11" text-anchor="middle" '
               f'transform="rotate(-90 14 {top + ph / 2:.1f})">{e(y_label)}</text>')
    last_label_end = -1e9
    for vx, vlabel in sorted(vlines):
        if 0 <= vx <= x_max:
            out.append(f'<line x1="{X(vx):.1f}" y1="{top}" x2="{X(vx):.1f}" y2="{top + ph}" stroke="#aaa" '
                       f'stroke-dasharray="3,3"/>')
            if X(vx) + 3 >= last_label_end:  # labels that would overlap are left out
                out.append(f'<text x="{X(vx) + 3:.1f}" y="{top + 10}" font-size="9" fill="#777">{e(vlabel)}</text>')
                last_label_end = X(vx) + 3 + 5.2 * len(vlabel) + 4
    for hy, hlabel, hcolor in hlines:
        if hy <= ytop:
            out.append(f'<line x1="{left}" y1="{Y(hy):.1f}" x2="{left + pw}" y2="{Y(hy):.1f}" stroke="{hcolor}" '
                       f'stroke-dasharray="6,4"/><text x="{left + pw - 4}" y="{Y(hy) - 4:.1f}" font-size="10" '
                       f'text-anchor="end" fill="{hcolor}">{e(hlabel)}</text>')
    for _label, color, pts in series:
        seg = []
        segs = []
        for px, py in pts:
            if py is None:
                if seg:
                    segs.append(seg)
                seg = []
            else:
                seg.append(f"{X(px):.1f},{Y(py):.1f}")
        if seg:
            segs.append(seg)
        for s in segs:
            if len(s) == 1:
                cx, cy = s[0].split(",")
                out.append(f'<circle cx="{cx}" cy="{cy}" r="2" fill="{color}"/>')
            else:
                out.append(f'<polyline fill="none" stroke="{color}" stroke-width="1.5" points="{" ".join(s)}"/>')
    out.append("</svg>")
    return "\n".join(out)


def svg_bar_chart(title, groups, series_labels, colors, y_label, width=940, height=280):
    """groups: [(group label, [value per series])]."""
    left, right, top, bottom = 70, 16, 46, 40
    pw, ph = width - left - right, height - top - bottom
    vmax = max([v for _g, vals in groups for v in vals if v is not None] + [1])
    ystep = nice_step(vmax * 1.05)
    ytop = ystep * math.ceil(vmax * 1.05 / ystep)
    e = html.escape
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" role="img" aria-label="{e(title)}">',
           f'<rect width="{width}" height="{height}" fill="#fff"/>',
           f'<text x="{left}" y="16" font-size="14" font-weight="bold">{e(title)}</text>']
    lx = left
    for label, color in zip(series_labels, colors):
        out.append(f'<rect x="{lx}" y="24" width="12" height="10" fill="{color}"/>'
                   f'<text x="{lx + 16}" y="33" font-size="11">{e(label)}</text>')
        lx += 30 + 6.5 * len(label)
    y = 0.0
    while y <= ytop + 1e-9:
        yy = top + ph * (1 - y / ytop)
        out.append(f'<line x1="{left}" y1="{yy:.1f}" x2="{left + pw}" y2="{yy:.1f}" stroke="#e5e5e5"/>'
                   f'<text x="{left - 6}" y="{yy + 4:.1f}" font-size="10" text-anchor="end">{fmt_tick(round(y, 6))}</text>')
        y += ystep
    n = max(1, len(groups))
    gw = pw / n
    bw = gw * 0.7 / max(1, len(series_labels))
    for i, (g, vals) in enumerate(groups):
        gx = left + i * gw + gw * 0.15
        for j, v in enumerate(vals):
            if v is None:
                continue
            h = ph * v / ytop
            out.append(f'<rect x="{gx + j * bw:.1f}" y="{top + ph - h:.1f}" width="{bw - 2:.1f}" height="{h:.1f}" '
                       f'fill="{colors[j]}"><title>{e(g)}: {v:.0f}</title></rect>'
                       f'<text x="{gx + j * bw + bw / 2:.1f}" y="{top + ph - h - 3:.1f}" font-size="10" '
                       f'text-anchor="middle">{v:.0f}</text>')
        out.append(f'<text x="{left + i * gw + gw / 2:.1f}" y="{top + ph + 16}" font-size="11" '
                   f'text-anchor="middle">{e(g)}</text>')
    out.append(f'<rect x="{left}" y="{top}" width="{pw}" height="{ph}" fill="none" stroke="#999"/>')
    out.append(f'<text x="14" y="{top + ph / 2:.1f}" font-size="11" text-anchor="middle" '
               f'transform="rotate(-90 14 {top + ph / 2:.1f})">{e(y_label)}</text></svg>')
    return "\n".join(out)


def chart_width_for(duration):
    for w in (1, 2, 5, 10, 15, 30, 60):
        if duration / w <= 360:
            return w
    return 60


def charts(run, analysis):
    """[(section title, [svg, ...])] for the HTML report."""
    out = []
    x_max = max([run.end_s, 1.0] + [r["s"] for r in run.monitor[-1:]] + [x["s"] for x in run.scrapes[-1:]])
    if run.meta.get("kind") != "capacity":
        x_max = max(x_max, float(run.meta.get("duration_s") or 0))
    vlines = [(p["start"], p["name"]) for p in (run.meta.get("phases") or []) if p["start"] > 0]
    if run.meta.get("kind") == "capacity":
        for e in run.meta.get("capacity", {}).get("endpoints", []):
            for target in ("api", "nginx"):
                if e.get(f"{target}_start") is not None:
                    vlines.append((e[f"{target}_start"] - run.t0, f"{target} {e['path']}"))
        rows = analysis["capacity"]
        groups = [(r["path"], [r["api"]["rps"] if r["api"] else None, r["nginx"]["rps"] if r["nginx"] else None])
                  for r in rows]
        out.append(("Throughput", [svg_bar_chart("Requests/s: scenepacker vs nginx (same-size static file)",
                                                 groups, ["scenepacker", "nginx"], ["#1f77b4", "#2ca02c"],
                                                 "requests/s")]))
    else:
        w = chart_width_for(x_max)
        limits = CRITERIA.get(run.meta.get("scenario"), {})
        h = []
        if limits:
            h.append((limits["p95_ms"], f"p95 limit {limits['p95_ms']:.0f} ms", "#d62728"))
        elif run.meta.get("scenario") == "max":
            h.append((BREAK_P95_MS, f"breaking point p95 {BREAK_P95_MS:.0f} ms", "#d62728"))
        total = run.series(w)

        def line(label, color, key, data):
            return (label, color, [(t, st[key]) for t, st in data])
        lat = [svg_line_chart(f"All requests: response time ({w} s windows)",
                              [line("p50", PALETTE[2], "p50", total), line("p95", PALETTE[3], "p95", total),
                               line("p99", PALETTE[1], "p99", total)], x_max, "ms", hlines=h, vlines=vlines)]
        for ep in run.endpoints:
            s = run.series(w, [ep])
            hl = list(h)
            if analysis.get("target_window"):
                hl.append((TARGET_LOGIN_P99_MS if ep == LOGIN else TARGET_P99_MS,
                           "issue 5 p99 target", "#9467bd"))
            lat.append(svg_line_chart(f"{ep}: response time", [line("p50", PALETTE[2], "p50", s),
                                                               line("p95", PALETTE[3], "p95", s),
                                                               line("p99", PALETTE[1], "p99", s)],
                                      x_max, "ms", hlines=hl, vlines=vlines, height=220))
        rps_series = [(ep, PALETTE[i % len(PALETTE)], [(t, st["rps"]) for t, st in run.series(w, [ep])])
                      for i, ep in enumerate(run.endpoints)]
        thr = [svg_line_chart("Users", [("users", PALETTE[0], [(t, u) for t, u in run.users])], x_max, "users",
                              vlines=vlines, height=200),
               svg_line_chart(f"Requests/s per endpoint ({w} s windows)", rps_series, x_max, "req/s",
                              vlines=vlines, height=300),
               svg_line_chart("Requests/s and failures/s, all endpoints",
                              [line("requests/s", PALETTE[0], "rps", total),
                               line("failures/s", PALETTE[1], "fail_rps", total)], x_max, "req/s", vlines=vlines,
                              height=220)]
        if analysis.get("spike") and analysis["spike"].get("series"):
            sa = analysis["spike"]
            lat.insert(1, svg_line_chart(f"Spike: p95 in {sa['window_s']} s windows",
                                         [("p95", PALETTE[3], sa["series"])], x_max, "ms",
                                         hlines=[(sa["level"], "pre-spike level", "#2ca02c")], vlines=vlines))
        out.append(("Throughput", thr))
        out.append(("Response times", lat))
    res = []
    mon = run.monitor
    res.append(svg_line_chart("CPU", [
        ("server (100% = all cores)", PALETTE[0], [(r["s"], r["server_cpu_pct"]) for r in mon]),
        ("load generator (100% = one core)", PALETTE[3], [(r["s"], r["loadgen_cpu_pct"]) for r in mon]),
        ("host", PALETTE[7], [(r["s"], r["host_cpu_pct"]) for r in mon])], x_max, "%",
        hlines=[(CRITERIA[run.meta["scenario"]]["cpu_pct"], "limit", "#d62728")] if run.meta.get("scenario") in CRITERIA else (),
        vlines=vlines))
    res.append(svg_line_chart("Server resident memory (RSS)", [
        ("RSS", PALETTE[0], [(r["s"], r["server_rss_bytes"] / (1 << 20) if r["server_rss_bytes"] else None)
                             for r in mon])], x_max, "MB",
        hlines=[(TARGET_RSS_MB, f"{TARGET_RSS_MB:.0f} MB target", "#d62728")], vlines=vlines))
    ms = run.metrics_series()
    if ms:
        res.append(svg_line_chart("Database queries/s (from /metrics)", [("queries/s", PALETTE[4],
                                                                          [(t, q) for t, q, _h in ms])],
                                  x_max, "queries/s", vlines=vlines, height=220))
        if any(hh is not None for _t, _q, hh in ms):
            res.append(svg_line_chart("Cache hit rate (from /metrics)", [("hit %", PALETTE[2],
                                                                          [(t, hh) for t, _q, hh in ms])],
                                      x_max, "%", vlines=vlines, height=220, y_max=100))
    out.append(("Resources", res))
    return out


# --- writing ------------------------------------------------------------------------------------------------
def verdict(crit):
    return "FAIL" if any(c["status"] == "FAIL" for c in crit) else "PASS"


def setup_rows(run):
    m = run.meta
    host = m.get("host", {})
    rows = [
        ("Scenario", f"{m.get('scenario')} — {m.get('scenario_title', '')}".rstrip(" —")),
        ("Started", m.get("started_at", "?")),
        ("Duration", (f"{m.get('duration_s', 0)} s per wrk run" if m.get("kind") == "capacity" else
                      f"{m.get('duration_s', 0)} s planned, {run.end_s:.0f} s measured")
         + (" (INTERRUPTED)" if m.get("interrupted") else "")),
        ("Releases seeded", f"{m.get('releases')} (seed took {m.get('seed_seconds', 0):.1f} s)"),
        ("Binary", f"{m.get('binary')} ({m.get('binary_version')}), commit {m.get('commit')}"),
        ("Server settings", ", ".join(f"{k}={v}" for k, v in (m.get("server_env") or {}).items())
         + " — per-user request budget switched off"),
        ("Host", f"{host.get('cpu_model')} — {host.get('cores')} cores, "
                 f"{(host.get('memory_bytes') or 0) / (1 << 30):.1f} GiB, kernel {host.get('kernel')}"),
        ("Load generator", m.get("loadgen", "")),
    ]
    notes = list(m.get("notes") or [])
    other = other_cpu(run, run.monitor_window())
    if other is not None and other >= 20:
        notes.append(f"Other processes used about {other:.0f}% of the host CPU during the run "
                     "(host CPU minus server and load generator): latencies include that interference.")
    if notes:
        rows.append(("Notes", " ".join(notes)))
    return rows


def endpoint_rows(analysis):
    rows = []
    for e in analysis["endpoints"]:
        codes = ", ".join(f"{c or 'conn'}: {n}" for c, n in e["statuses"].items())
        rows.append([e["endpoint"], str(e["requests"]), str(e["failures"]), f"{e['rps']:.2f}",
                     fmt_ms(e["p50"]), fmt_ms(e["p95"]), fmt_ms(e["p99"]), fmt_ms(e["max"]),
                     f"{e['avg_bytes']:.0f}", codes])
    t = analysis["total"]
    if analysis["endpoints"]:
        rows.append(["**all**", str(t["requests"]), str(t["failures"]), f"{t['rps']:.2f}", fmt_ms(t["p50"]),
                     fmt_ms(t["p95"]), fmt_ms(t["p99"]), fmt_ms(t["max"]), "", ""])
    return rows


ENDPOINT_HEAD = ["Endpoint", "Requests", "Failed", "req/s", "p50 ms", "p95 ms", "p99 ms", "max ms",
                 "avg bytes", "statuses"]


def resource_rows(run, analysis):
    r = analysis["resources"]
    met = analysis.get("metrics") or {}
    rows = [
        ("Server CPU (100% = all cores)", f"average {fmt_pct(r['cpu_avg'], 1)}, highest 60 s average {fmt_pct(r['cpu_max_60s'], 1)}"),
        ("Server RSS", f"peak {fmt_mb(run.meta.get('peak_rss_bytes') or r['rss_max'])} (VmHWM), "
                       f"start {fmt_mb(r['rss_first'])}, end {fmt_mb(r['rss_last'])}"),
        ("Host memory in use", f"peak {fmt_pct(r['mem_max'], 1)}"),
        ("Load generator CPU (100% = one core)", f"average {fmt_pct(r['loadgen_cpu_avg'], 1)}, highest 60 s average "
                                                 f"{fmt_pct(r['loadgen_cpu_max_60s'], 1)}"),
        ("Host CPU", f"average {fmt_pct(r['host_cpu_avg'], 1)}"),
    ]
    if met:
        rows.append(("Database queries", "-" if met.get("db_qps") is None else
                     f"{met['db_qps']:.1f} /s" + (f", {met['db_per_request']:.2f} per request"
                                                   if met.get("db_per_request") is not None else "")))
        rows.append(("Cache hit rate", "-" if met.get("cache_hit_pct") is None else
                     f"{met['cache_hit_pct']:.1f}% of {met['cache_lookups']:.0f} lookups"))
    else:
        rows.append(("Database queries / cache", "not available (/metrics gave no data)"))
    mem = memory_parts(run)
    if mem:
        rows.append(("Server memory by part (/metrics, last scrape)", mem))
    return rows


def memory_parts(run):
    """'database 31.2 MB, heap in use 40.1 MB, ...' from the last scrape that has the gauges."""
    for rec in reversed(run.scrapes):
        s = rec.get("sum") or {}
        parts = [(label, s.get(key)) for key, label in (
            ("db_memory", "database library (page caches, statements)"),
            ("heap_in_use", "C heap in use (all of it, the database's included)"),
            ("heap_free", "C heap free but held"),
            ("cache_bytes", "response cache"))]
        if any(v is not None for _l, v in parts):
            return "; ".join(f"{label} {fmt_mb(v)}" for label, v in parts if v is not None)
    return None


def md_table(head, rows):
    out = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    for r in rows:
        out.append("| " + " | ".join(str(c).replace("|", "\\|") for c in r) + " |")
    return "\n".join(out)


def scenario_sections(run, analysis):
    """[(title, head, rows, notes)] specific to a scenario."""
    out = []
    if analysis.get("max"):
        ma = analysis["max"]
        rows = [[s["phase"], s["users"], f"{s['start']:.0f}-{s['end']:.0f}", f"{s['rps']:.1f}", fmt_ms(s["p50"]),
                 fmt_ms(s["p95"]), fmt_ms(s["p99"]), fmt_ms(s["login_p95"]), fmt_pct(s["error_pct"], 3),
                 fmt_pct(s["cpu"], 0),
                 fmt_pct(s["loadgen_cpu"], 0), fmt_mb(s["rss"]),
                 "-" if s["db_qps"] is None else f"{s['db_qps']:.0f}",
                 "-" if s["cache_hit"] is None else f"{s['cache_hit']:.0f}%"]
                for s in ma["steps"]]
        b = ma["breaking"]
        note = (f"Breaking point: {b['users']} users (p95 {fmt_ms(b['p95'])} ms, errors {fmt_pct(b['error_pct'], 3)})."
                if b else "No breaking point: every plateau stayed under p95 "
                          f"{BREAK_P95_MS:.0f} ms and {BREAK_ERROR_PCT}% errors.")
        note += (" Plateau latencies exclude logins (each user logs in once, when it starts); "
                 "the first seconds of each plateau (the ramp) are skipped.")
        out.append(("Plateaus (breaking point search)",
                     ["phase", "users", "window s", "req/s", "p50", "p95", "p99", "login p95", "errors", "server CPU",
                      "Locust CPU", "RSS peak", "DB q/s", "cache hit"], rows, [note]))
        out.append(("Bottlenecks and optimisation leads", None, None, ma["bottlenecks"] or ["none observed"]))
    if analysis.get("spike") and analysis["spike"].get("pre_p95") is not None:
        sa = analysis["spike"]
        rows = [["pre-spike p95 (second half of the baseline)", f"{fmt_ms(sa['pre_p95'])} ms"],
                ["pre-spike level (1.1 x p90 of the baseline's window p95s + 1 ms)", f"{fmt_ms(sa['level'])} ms"],
                [f"highest p95 during the spike ({sa['window_s']} s windows)", f"{fmt_ms(sa['spike_p95'])} ms"],
                ["time to recover after the spike", "-" if sa["recovery_s"] is None else f"{sa['recovery_s']:.0f} s"],
                ["p95, last third of the recovery phase", f"{fmt_ms(sa['tail_p95'])} ms"]]
        out.append(("Spike and recovery", ["measure", "value"], rows, []))
    if analysis.get("capacity") is not None:
        cap = run.meta.get("capacity", {})
        rows = []
        for r in analysis["capacity"]:
            a, n = r["api"], r["nginx"]
            rows.append([f"GET {r['path']}", r["size"],
                         f"{a['rps']:.0f}" if a else "-", f"{a['latency_us']['p50'] / 1000:.2f}" if a else "-",
                         f"{a['latency_us']['p99'] / 1000:.2f}" if a else "-",
                         f"{n['rps']:.0f}" if n else "-", f"{n['latency_us']['p99'] / 1000:.2f}" if n else "-",
                         fmt_ratio(r["ratio"]) if r["ratio"] is not None else "-"])
        out.append(("Capacity (wrk)", ["endpoint", "bytes", "req/s", "p50 ms", "p99 ms", "nginx req/s",
                                       "nginx p99 ms", "vs nginx"], rows,
                    [f"wrk {cap.get('threads')} threads, {cap.get('connections')} connections, "
                     f"{cap.get('duration_s')} s per run after a {cap.get('warmup_s')} s warm-up; nginx {cap.get('nginx_version')} "
                     f"with {cap.get('nginx_workers')} workers serving a static file of the same size and "
                     "headers at the same path. wrk, nginx and the server share the host's cores."]))
    return out


def write_markdown(run, analysis, path):
    m = run.meta
    crit = analysis["criteria"]
    L = [f"# Load test report — {m.get('scenario')} — {verdict(crit)}", "",
         "Self-contained version with charts: `report.html` (same directory).", "",
         "## Criteria", "",
         md_table(["", "Criterion", "Threshold", "Measured", "Detail"],
                  [[c["status"], c["name"], c["threshold"], c["measured"], c["detail"]] for c in crit]), "",
         "## Setup", "", md_table(["", ""], setup_rows(run)), ""]
    if m.get("phases"):
        L += ["### Load shape", "", md_table(["phase", "from s", "to s", "users", "spawn/s"],
                                             [[p["name"], f"{p['start']:.0f}", f"{p['end']:.0f}", p["users"],
                                               f"{p['spawn_rate']:.1f}"] for p in m["phases"]]), ""]
    for title, head, rows, notes in scenario_sections(run, analysis):
        L += [f"## {title}", ""]
        if head:
            L += [md_table(head, rows), ""]
        L += [f"- {n}" for n in notes] + [""]
    if analysis["endpoints"]:
        L += ["## Response times per endpoint (client side, Locust)", "", md_table(ENDPOINT_HEAD, endpoint_rows(analysis)), ""]
    if analysis.get("server_latency"):
        L += ["## Server-side latency (from /metrics histograms, bucket upper bounds)", "",
              md_table(["method", "route", "requests", "p50 ms ≤", "p95 ms ≤", "p99 ms ≤"],
                       [[r["method"], r["route"], r["requests"], fmt_ms(r["p50"]), fmt_ms(r["p95"]), fmt_ms(r["p99"])]
                        for r in analysis["server_latency"]]), ""]
    L += ["## Resources", "", md_table(["", ""], resource_rows(run, analysis)), ""]
    fails = failure_rows(run)
    if fails:
        L += ["## Failures", "", md_table(["method", "name", "error", "count"], fails), ""]
    if m.get("sanitizer"):
        L += ["## Sanitizer reports in the server log", "", "```"] + m["sanitizer"] + ["```", ""]
    L += ["## Artefacts", "", "\n".join(f"- `{a}`" for a in artefacts(run)), ""]
    Path(path).write_text("\n".join(L))


def failure_rows(run):
    rows = [[a, b, c, d] for a, b, c, d in run.failures]
    if run.exceptions:
        counts = defaultdict(int)
        for _t, who in run.exceptions:
            counts[who] += 1
        rows += [["(exception)", who, "unhandled exception in the user (see locust.log)", n] for who, n in counts.items()]
    if run.tracebacks:
        rows.append(["(exception)", "", "simulated users that died on an exception outside a task "
                     "(e.g. in on_start; see locust.log)", run.tracebacks])
    return rows


def artefacts(run):
    return sorted(p.name for p in run.dir.iterdir() if p.is_file())


CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:24px;color:#222;max-width:1000px}
h1{font-size:22px}h2{font-size:18px;margin-top:28px;border-bottom:1px solid #ddd;padding-bottom:4px}
table{border-collapse:collapse;margin:8px 0;font-size:13px}td,th{border:1px solid #ddd;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f5f5f5}.PASS{background:#2e7d32;color:#fff}.FAIL{background:#c62828;color:#fff}
.INFO,.N\\/A{background:#757575;color:#fff}.badge{font-weight:bold;padding:2px 8px;border-radius:3px;white-space:nowrap}
svg{display:block;margin:10px 0;border:1px solid #eee}.verdict{font-size:20px}ul{font-size:14px}
"""


def write_html(run, analysis, path):
    e = html.escape
    m = run.meta
    crit = analysis["criteria"]
    v = verdict(crit)

    def table(head, rows, raw_first=False):
        out = ["<table>"]
        if head:
            out.append("<tr>" + "".join(f"<th>{e(str(h))}</th>" for h in head) + "</tr>")
        for r in rows:
            cells = []
            for i, c in enumerate(r):
                if raw_first and i == 0:
                    cells.append(f"<td>{c}</td>")
                else:
                    cells.append(f"<td>{e(str(c))}</td>")
            out.append("<tr>" + "".join(cells) + "</tr>")
        out.append("</table>")
        return "\n".join(out)

    H = ["<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
         f"<title>Load test — {e(str(m.get('scenario')))} — {v}</title><style>{CSS}</style></head><body>",
         f"<h1>Load test report — {e(str(m.get('scenario')))} "
         f"<span class='badge {v} verdict'>{v}</span></h1>",
         "<h2>Criteria</h2>",
         table(["", "Criterion", "Threshold", "Measured", "Detail"],
               [[f"<span class='badge {c['status'].replace('/', '')} {c['status']}'>{c['status']}</span>",
                 c["name"], c["threshold"], c["measured"], c["detail"]] for c in crit], raw_first=True),
         "<h2>Setup</h2>", table(None, setup_rows(run))]
    if m.get("phases"):
        H.append(table(["phase", "from s", "to s", "users", "spawn/s"],
                       [[p["name"], f"{p['start']:.0f}", f"{p['end']:.0f}", p["users"], f"{p['spawn_rate']:.1f}"]
                        for p in m["phases"]]))
    for title, head, rows, notes in scenario_sections(run, analysis):
        H.append(f"<h2>{e(title)}</h2>")
        if head:
            H.append(table(head, rows))
        if notes:
            H.append("<ul>" + "".join(f"<li>{e(n)}</li>" for n in notes) + "</ul>")
    if analysis["endpoints"]:
        H += ["<h2>Response times per endpoint (client side, Locust)</h2>",
              table(ENDPOINT_HEAD, [[c.replace("**", "") for c in r] for r in endpoint_rows(analysis)])]
    for title, svgs in charts(run, analysis):
        H.append(f"<h2>{e(title)}</h2>")
        H += svgs
    if analysis.get("server_latency"):
        H += ["<h2>Server-side latency (from /metrics histograms, bucket upper bounds)</h2>",
              table(["method", "route", "requests", "p50 ms ≤", "p95 ms ≤", "p99 ms ≤"],
                    [[r["method"], r["route"], r["requests"], fmt_ms(r["p50"]), fmt_ms(r["p95"]), fmt_ms(r["p99"])]
                     for r in analysis["server_latency"]])]
    H += ["<h2>Resource summary</h2>", table(None, resource_rows(run, analysis))]
    fails = failure_rows(run)
    if fails:
        H += ["<h2>Failures</h2>", table(["method", "name", "error", "count"], fails)]
    if m.get("sanitizer"):
        H += ["<h2>Sanitizer reports in the server log</h2>", "<pre>" + e("\n".join(m["sanitizer"])) + "</pre>"]
    H += ["<h2>Artefacts</h2>", "<ul>" + "".join(f"<li><code>{e(a)}</code></li>" for a in artefacts(run)) + "</ul>",
          "</body></html>"]
    Path(path).write_text("\n".join(H))


def json_safe(o):
    if isinstance(o, float) and (math.isinf(o) or math.isnan(o)):
        return None
    if isinstance(o, dict):
        return {str(k): json_safe(v) for k, v in o.items()}
    if isinstance(o, (list, tuple)):
        return [json_safe(v) for v in o]
    return o


def build(run_dir):
    """Analyse a run directory and write report.md, report.html and summary.json.
    Returns (verdict, criteria)."""
    run = Run(run_dir)
    analysis = capacity_analysis(run) if run.meta.get("kind") == "capacity" else analyse(run)
    write_markdown(run, analysis, run.dir / "report.md")
    write_html(run, analysis, run.dir / "report.html")
    summary = {k: v for k, v in analysis.items() if k not in ("spike",)}
    if analysis.get("spike"):
        summary["spike"] = {k: v for k, v in analysis["spike"].items() if k != "series"}
    summary["verdict"] = verdict(analysis["criteria"])
    (run.dir / "summary.json").write_text(json.dumps(json_safe(summary), indent=1))
    return summary["verdict"], analysis["criteria"], analysis


def main(argv):
    if len(argv) != 2 or argv[1] in ("-h", "--help"):
        print(__doc__.strip().splitlines()[0])
        print("usage: report.py RUN_DIR")
        return 2 if len(argv) != 2 else 0
    v, crit, _a = build(argv[1])
    for c in crit:
        print(f"{c['status']:<5} {c['name']}: {c['measured']} (threshold {c['threshold']})")
    print(f"verdict: {v} — {Path(argv[1]) / 'report.html'}")
    return 0 if v == "PASS" else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
