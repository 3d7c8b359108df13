"""LoadTestShape classes of the load plan's four scenarios; phases come from scenarios.py.

This module is imported by the locustfile through its file path, never with `from ... import`,
so Locust (which uses the first LoadTestShape subclass it finds in the locustfile's globals)
only sees the one shape the locustfile binds (SP_LOAD_SCENARIO).
"""
import importlib.util
import os

from locust import LoadTestShape


def _load_scenarios():
    path = os.path.join(os.path.dirname(os.path.abspath(__file__)), "scenarios.py")
    spec = importlib.util.spec_from_file_location("sp_load_scenarios", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scenarios = _load_scenarios()


class ScheduledShape(LoadTestShape):
    """Follows a phase list: (users, spawn rate) of the phase containing the run time; None at the end."""

    scenario = ""

    def __init__(self):
        super().__init__()
        self.phases = scenarios.schedule_from_env(self.scenario)

    def tick(self):
        t = self.get_run_time()
        for p in self.phases:
            if p["start"] <= t < p["end"]:
                return (p["users"], p["spawn_rate"])
        return None


class NormalShape(ScheduledShape):
    """Scénario 1: 50 users, 10 users/s, 30 min."""
    scenario = "normal"


class HighShape(ScheduledShape):
    """Scénario 2: 200 users, 20 users/s, 1 h."""
    scenario = "high"


class MaxShape(ScheduledShape):
    """Scénario 3: up to 500 users at 50 users/s in plateaus, then the peak held, 2 h."""
    scenario = "max"


class SpikeShape(ScheduledShape):
    """Scénario 4: 0 -> 200 -> 300 (100 users in 10 s) -> 200 -> 0 over 15 min."""
    scenario = "spike"


SHAPES = {"normal": NormalShape, "high": HighShape, "max": MaxShape, "spike": SpikeShape}
