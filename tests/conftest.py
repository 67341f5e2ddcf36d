"""Shared fixtures: a small generated landing zone and one real refresh of it."""

import datetime as dt
import os
from pathlib import Path

import pytest

E2E_CUSTOMERS = 400
E2E_DAYS = 240
E2E_START = dt.date(2025, 1, 1)
E2E_AS_OF = E2E_START + dt.timedelta(days=E2E_DAYS - 1)


@pytest.fixture(scope="session")
def landing(tmp_path_factory) -> tuple[Path, Path]:
    """(landing_dir, truth_dir) of a small generated landing zone."""
    from orchestration.sample_silos import generate

    root = tmp_path_factory.mktemp("silos")
    landing_dir, truth_dir = root / "landing", root / "truth"
    generate(landing_dir, customers=E2E_CUSTOMERS, days=E2E_DAYS, start=E2E_START, seed=7, truth_out=truth_dir)
    return landing_dir, truth_dir


class DatamartEnv:
    """Points the DATAMART_* variables at a home and restores them afterwards."""

    def __init__(self, home: Path, landing_dir: Path, as_of: dt.date):
        self.values = {"DATAMART_HOME": str(home), "DATAMART_LANDING_DIR": str(landing_dir),
                       "DATAMART_AS_OF": as_of.isoformat()}
        self.saved: dict = {}

    def __enter__(self):
        for k, v in self.values.items():
            self.saved[k] = os.environ.get(k)
            os.environ[k] = v
        return self

    def __exit__(self, *exc):
        for k, v in self.saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


RUN_EVENT_LOG: list[str] = []  # every message and metadata value of the shared refresh's run


@pytest.fixture(scope="session")
def refreshed(tmp_path_factory, landing):
    """A real nightly refresh of the generated landing zone; returns its Settings."""
    from orchestration.cli import run_refresh

    home = tmp_path_factory.mktemp("home")
    with DatamartEnv(home, landing[0], E2E_AS_OF):
        ok, settings, problems = run_refresh(quiet=True, event_log=RUN_EVENT_LOG)
    assert ok, f"the refresh failed: {problems}"
    return settings
