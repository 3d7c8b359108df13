"""Schedules of the load plan's four scenarios (docs/LOAD-TESTING.md). No Locust import here:
the runner (scripts/load-test) imports this module too, and importing Locust monkey-patches the
process with gevent.

Each scenario is a list of phases (name, start, end, users, spawn_rate) computed from its defaults
(LOAD_TESTING_PLAN.md) and optional overrides. The same schedule drives Locust (shapes.py) and the
report (the runner stores the phases in meta.json; report.py reads ramps, plateaus and the spike).

Overrides (environment, read when Locust loads the locustfile):
  SP_LOAD_SCENARIO    normal | high | max | spike
  SP_LOAD_DURATION    total run time: 1800, 90s, 30m, 1h, 1h30m
  SP_LOAD_USERS       peak number of users
  SP_LOAD_SPAWN_RATE  users started per second during ramps
"""
import math
import os
import re


# The plan's parameters: users, ramp-up (users/s), duration (s).
SCENARIOS = {
    "normal": {"users": 50, "spawn_rate": 10.0, "duration": 30 * 60},
    "high": {"users": 200, "spawn_rate": 20.0, "duration": 60 * 60},
    "max": {"users": 500, "spawn_rate": 50.0, "duration": 2 * 60 * 60},
    # 0 -> 300 -> 0 over 15 min; the spike itself adds 100 users in 10 s.
    "spike": {"users": 300, "spawn_rate": 10.0, "duration": 15 * 60},
}

SPIKE_SECONDS = 10  # "Spike : 100 utilisateurs en 10 secondes"
MAX_STEPS = 10      # the max scenario climbs to its peak in this many plateaus


def parse_duration(text):
    """Seconds in '1800', '90s', '30m', '1h', '1h30m', '2h' (a positive whole number of seconds)."""
    if isinstance(text, (int, float)):
        value = int(text)
    else:
        s = str(text).strip().lower()
        if re.fullmatch(r"\d+", s):
            value = int(s)
        else:
            m = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", s)
            if not s or not m or not any(m.groups()):
                raise ValueError(f"bad duration '{text}' (use e.g. 90s, 30m, 1h, 1h30m)")
            h, mi, se = (int(g) if g else 0 for g in m.groups())
            value = h * 3600 + mi * 60 + se
    if value <= 0:
        raise ValueError(f"duration must be positive, got '{text}'")
    return value


def format_duration(seconds):
    seconds = int(round(seconds))
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    out = (f"{h}h" if h else "") + (f"{m}m" if m else "") + (f"{s}s" if s else "")
    return out or "0s"


def _phase(name, start, end, users, rate):
    return {"name": name, "start": float(start), "end": float(end), "users": int(users),
            "spawn_rate": float(rate)}


def schedule(scenario, duration=None, users=None, spawn_rate=None):
    """The phases of `scenario` (overrides may be None). Times are seconds from the start."""
    if scenario not in SCENARIOS:
        raise ValueError(f"unknown scenario '{scenario}' (use: {', '.join(SCENARIOS)})")
    base = SCENARIOS[scenario]
    d = float(parse_duration(duration) if duration is not None else base["duration"])
    peak = int(users) if users is not None else base["users"]
    rate = float(spawn_rate) if spawn_rate is not None else base["spawn_rate"]
    if peak < 1:
        raise ValueError("users must be at least 1")
    if rate <= 0:
        raise ValueError("spawn rate must be positive")

    if scenario in ("normal", "high"):
        return [_phase("hold", 0, d, peak, rate)]

    if scenario == "max":
        # Climb in MAX_STEPS plateaus over the first half (so the breaking point can be read
        # off a plateau), then hold the peak for the second half.
        steps = min(MAX_STEPS, peak)
        step_len = d / 2 / steps
        phases = []
        for k in range(1, steps + 1):
            start = (k - 1) * step_len
            end = k * step_len if k < steps else d
            n = int(math.ceil(peak * k / steps))
            phases.append(_phase(f"step {k}/{steps}" if k < steps else "peak", start, end, n, rate))
        return phases

    # spike: baseline (2/3 of the peak) -> +1/3 of the peak in 10 s -> hold -> back to the
    # baseline -> recovery -> ramp down to 0 before the end.
    spike_users = max(1, peak // 3)
    baseline = peak - spike_users
    base_end = d / 3
    spike_end = base_end + SPIKE_SECONDS
    peak_end = spike_end + max(10.0, d * 0.12)
    down_len = max(5.0, d / 15)
    recovery_end = d - down_len
    if recovery_end <= peak_end:
        raise ValueError("spike scenario needs a duration of at least 60s")
    return [
        _phase("baseline", 0, base_end, baseline, rate),
        _phase("spike", base_end, spike_end, peak, spike_users / SPIKE_SECONDS),
        _phase("spike-hold", spike_end, peak_end, peak, spike_users / SPIKE_SECONDS),
        _phase("recovery", peak_end, recovery_end, baseline, max(rate, float(spike_users))),
        _phase("ramp-down", recovery_end, d, 0, max(1.0, baseline / max(1.0, down_len - 2))),
    ]


def schedule_from_env(scenario=None):
    """schedule() with the SP_LOAD_* overrides from the environment."""
    scenario = scenario or os.environ.get("SP_LOAD_SCENARIO", "").strip()
    return schedule(
        scenario,
        duration=os.environ.get("SP_LOAD_DURATION") or None,
        users=os.environ.get("SP_LOAD_USERS") or None,
        spawn_rate=os.environ.get("SP_LOAD_SPAWN_RATE") or None,
    )


