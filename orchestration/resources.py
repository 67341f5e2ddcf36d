"""Dagster resources: where the warehouse lives and how dbt is invoked."""

from __future__ import annotations

import datetime as dt
import os
import sys
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path

import dagster as dg
from dagster_dbt import DbtCliResource, DbtProject

from .locking import warehouse_write_lock
from .settings import DBT_PROJECT_DIR, Settings
from .warehouse import connect

# How long a run waits for another run that is writing the warehouse (a UI run during the night)
LOCK_WAIT_S = float(os.environ.get("DATAMART_LOCK_WAIT_S", str(2 * 3600)))

dbt_project = DbtProject(project_dir=DBT_PROJECT_DIR, profiles_dir=DBT_PROJECT_DIR)


class DatamartResource(dg.ConfigurableResource):
    """Paths and the night to build. Unset fields fall back to DATAMART_HOME,
    DATAMART_LANDING_DIR and DATAMART_AS_OF (read when a run starts, not at import)."""

    home: str | None = None
    landing_dir: str | None = None
    as_of: str | None = None

    def settings(self) -> Settings:
        env = Settings.from_env()
        return Settings(
            home=Path(self.home).resolve() if self.home else env.home,
            landing_dir=Path(self.landing_dir).resolve() if self.landing_dir else env.landing_dir,
            as_of=dt.date.fromisoformat(self.as_of) if self.as_of else env.as_of,
        )

    @contextmanager
    def yield_for_execution(self, context: dg.InitResourceContext):
        """Hold the warehouse write lock while this run's steps execute (see locking.py)."""
        with warehouse_write_lock(self.settings().home, wait_s=LOCK_WAIT_S):
            yield self

    def connect(self, read_only: bool = False):
        """A connection to the working warehouse; close it before the step ends."""
        return connect(self.settings().warehouse_path, read_only=read_only)

    def dbt_env(self) -> None:
        """dbt reads the absolute warehouse path from the environment (profiles.yml)."""
        s = self.settings()
        s.home.mkdir(parents=True, exist_ok=True)
        os.environ["DATAMART_WAREHOUSE_PATH"] = str(s.warehouse_path)
        # dbt's file log defaults to debug (every statement of every node) in the invocation's
        # target folder, which the step deletes when dbt succeeds; warnings and errors are kept
        # for a failed run (the events Dagster shows come from dbt's stdout, not from this file)
        os.environ.setdefault("DBT_LOG_LEVEL_FILE", "warn")


# Set by a dbt step that fetches column metadata (the only use of dagster-dbt's in-process adapter).
DBT_ADAPTER_WANTED: ContextVar[bool] = ContextVar("DBT_ADAPTER_WANTED", default=True)


class NightDbtCliResource(DbtCliResource):
    """DbtCliResource without two fixed costs per dbt step (~3 and ~2 CPU-s, paid whatever the
    night): the `dbt --version` subprocess (the dbt next to this interpreter is the installed
    dbt-core) and the in-process dbt adapter, which only the column-metadata fetch uses
    (see DBT_ADAPTER_WANTED). Overrides two private members of dagster-dbt 0.29 (pinned)."""

    @property
    def _cli_version(self):
        from dbt.version import __version__
        from packaging import version

        return version.parse(__version__)

    def _initialize_dbt_core_adapter(self, args):
        return super()._initialize_dbt_core_adapter(args) if DBT_ADAPTER_WANTED.get() else None


# dbt on the Spark engine (orchestration/engines/dbt_spark.py): a console script of this project,
# next to this interpreter, because dagster-dbt runs its dbt as one executable path
SPARK_DBT_EXECUTABLE = "datamart-dbt-spark"


def spark_dbt(dbt: DbtCliResource) -> DbtCliResource:
    """The same dbt resource, running dbt through `datamart-dbt-spark` (DATAMART_ENGINE=spark).
    Chosen per step, not when definitions load: the code location is the same for both engines."""
    import importlib.util

    if importlib.util.find_spec("pyspark") is None or importlib.util.find_spec("dbt.adapters.spark") is None:
        raise RuntimeError("DATAMART_ENGINE=spark needs the project's `spark` extra (pyspark, dbt-spark): "
                           "uv sync --extra spark --inexact (docs/scale-out.md)")
    executable = Path(sys.executable).with_name(SPARK_DBT_EXECUTABLE)
    if not executable.exists():
        raise RuntimeError(f"{executable} not found: install the project into this environment "
                           "(uv sync --extra spark --inexact)")
    return NightDbtCliResource(project_dir=dbt.project_dir, profiles_dir=dbt.profiles_dir, profile=dbt.profile,
                               target=dbt.target, global_config_flags=list(dbt.global_config_flags),
                               state_path=dbt.state_path, dbt_executable=str(executable))


def dbt_resource() -> DbtCliResource:
    # the dbt next to this interpreter: works without activating the virtualenv
    executable = Path(sys.executable).with_name("dbt")
    if executable.exists():
        return NightDbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR),
                                   dbt_executable=str(executable))
    return DbtCliResource(project_dir=dbt_project, profiles_dir=str(DBT_PROJECT_DIR), dbt_executable="dbt")
