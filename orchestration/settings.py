"""Where the datamart lives and which night it builds, read from the environment.

Every path the product touches derives from three variables of the contract:
``DATAMART_HOME`` (working warehouse, published file, run artefacts),
``DATAMART_LANDING_DIR`` (the silos' export files) and ``DATAMART_AS_OF`` (the night).
"""

from __future__ import annotations

import datetime as dt
import os
from dataclasses import dataclass
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
DBT_PROJECT_DIR = PROJECT_ROOT / "dbt_project"
PARIS = "Europe/Paris"


def _today_in_paris() -> dt.date:
    from zoneinfo import ZoneInfo

    return dt.datetime.now(ZoneInfo(PARIS)).date()


@dataclass(frozen=True)
class Settings:
    home: Path
    landing_dir: Path
    as_of: dt.date

    @property
    def warehouse_path(self) -> Path:
        """The working warehouse: raw, quarantine, audit, staging, marts, history."""
        return self.home / "warehouse.duckdb"

    @property
    def published_path(self) -> Path:
        """What BI tools open read-only; replaced atomically by a passing refresh."""
        return self.home / "datamart.duckdb"

    @property
    def artefacts_dir(self) -> Path:
        return self.home / "artefacts"

    @classmethod
    def from_env(cls) -> Settings:
        home = Path(os.environ.get("DATAMART_HOME") or PROJECT_ROOT / "data" / "home")
        landing = Path(os.environ.get("DATAMART_LANDING_DIR") or PROJECT_ROOT / "data" / "landing")
        raw_as_of = os.environ.get("DATAMART_AS_OF", "").strip()
        try:
            as_of = dt.date.fromisoformat(raw_as_of) if raw_as_of else _today_in_paris()
        except ValueError as exc:
            raise ValueError(f"DATAMART_AS_OF must be a date YYYY-MM-DD, got {raw_as_of!r}") from exc
        return cls(home=home.resolve(), landing_dir=landing.resolve(), as_of=as_of)
