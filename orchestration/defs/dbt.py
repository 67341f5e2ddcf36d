"""dbt, split by layer so Python steps (identity resolution) run between them.

`staging` builds every stg_* model and the identity inputs; `marts` builds the customer
dimension, the conformed facts, RFM, the seed-question marts and the marketing audience from the
identity step's clusters. dbt tests become blocking asset checks, so a failed key test stops
everything downstream.

The large facts are incremental (delete+insert on a window of nights); `full_refresh: true` in
the launchpad rebuilds them from staging. The audience's pressure caps and the incremental window
are dbt vars: the launchpad config overrides them, else DATAMART_PRESSURE_CAP_7D,
DATAMART_PRESSURE_CAP_30D, DATAMART_HOUSEHOLD_PRESSURE_CAP_30D and DATAMART_INCREMENTAL_WINDOW_DAYS,
else the defaults of dbt_project.yml.

What a night costs should follow the night's data, so two things that read whole tables run only
on a *whole-scope* night: a full refresh, the first build of a warehouse, a Sunday (weekly), a
night that does not follow the last one built (a replay, missed nights), or when asked:
- the dbt data tests tagged for the night's window (row-level tests and keys of the large
  incremental tables) test only the rows dated in the window on other nights (dbt var
  `whole_table_tests`); relationships and every small table are always tested whole;
- dagster-dbt's column metadata fetch (the built tables' column types and column-level lineage:
  a query per model and parent and a sqlglot parse, a few seconds per step whatever the data).
  The column schema documented in the dbt YAML is on every asset's definition either way;
- the dbt unit tests (they test the SQL, which only a deployment changes, not the data).
The launchpad (`whole_table_tests`, `column_metadata`) and DATAMART_WHOLE_TABLE_TESTS /
DATAMART_DBT_COLUMN_METADATA (1 or 0) force either on or off.
An ordinary night also runs dbt with two threads (DATAMART_DBT_NIGHT_THREADS): its nodes are small
and mostly dbt's own work, which a second thread overlaps with the first one's DuckDB queries.

On the Spark engine (DATAMART_ENGINE=spark, docs/scale-out.md) the same two steps run dbt through
`datamart-dbt-spark`: first what the layer reads goes to the Parquet lake, and afterwards every
table dbt built is mirrored into the DuckDB warehouse (engines/dbt_steps.py), where the Python
steps, the checks and publishing read it as on DuckDB. The asset graph is the same on both.
"""


import datetime as dt
import json
import os
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any

import dagster as dg
from dagster_dbt import DagsterDbtTranslator, DagsterDbtTranslatorSettings, DbtCliResource, dbt_assets

from ..engines import dbt_steps, engine
from ..resources import DBT_ADAPTER_WANTED, DatamartResource, dbt_project, spark_dbt
from .ingestion import OWNER, WAREHOUSE_POOL


class LayeredTranslator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        tags = dbt_resource_props.get("tags", [])
        return "marts" if "layer_marts" in tags else "staging"

    def get_owners(self, dbt_resource_props: Mapping[str, Any]):
        return [OWNER]


translator = LayeredTranslator(settings=DagsterDbtTranslatorSettings(enable_code_references=False))

# dbt var -> environment variable that sets it when the launchpad does not
TUNABLE_VARS = {
    "pressure_cap_7d": "DATAMART_PRESSURE_CAP_7D",
    "pressure_cap_30d": "DATAMART_PRESSURE_CAP_30D",
    "household_pressure_cap_30d": "DATAMART_HOUSEHOLD_PRESSURE_CAP_30D",
    "incremental_window_days": "DATAMART_INCREMENTAL_WINDOW_DAYS",
}


class DbtBuildConfig(dg.Config):
    """Launchpad options of the dbt steps."""

    full_refresh: bool = False
    """Rebuild the incremental facts (and snapshots of tonight) from staging instead of tonight's window."""
    pressure_cap_7d: int | None = None
    """Marketing audience: a person sent this many messages in the last 7 days is not contacted tonight."""
    pressure_cap_30d: int | None = None
    """Marketing audience: the same over 30 days."""
    household_pressure_cap_30d: int | None = None
    """Marketing audience: the same for the whole household over 30 days."""
    incremental_window_days: int | None = None
    """Nights of facts rebuilt by an incremental run (re-running a night is idempotent)."""
    whole_table_tests: bool | None = None
    """Run the windowed dbt data tests on whole tables (default: on whole-scope nights only)."""
    column_metadata: bool | None = None
    """Fetch column types and column lineage for the UI (default: on whole-scope nights only)."""


# the weekly whole-scope night (ISO day of week of the night built: 7 = Sunday)
WHOLE_SCOPE_WEEKDAY = 7


def _env_flag(name: str) -> bool | None:
    raw = os.environ.get(name, "").strip().lower()
    if not raw:
        return None
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ValueError(f"{name} must be 1 or 0, got {raw!r}")


def last_night_built(datamart: DatamartResource) -> dt.date | None:
    """The latest night the marts hold (one RFM snapshot per night built); None before the first."""
    path = datamart.settings().warehouse_path
    if not path.exists():
        return None
    with datamart.connect(read_only=True) as con:
        found = con.execute("SELECT count(*) FROM information_schema.tables "
                            "WHERE table_schema = 'marts' AND table_name = 'fct_customer_rfm'").fetchall()[0][0]
        if not found:
            return None
        return con.execute("SELECT max(snapshot_date) FROM marts.fct_customer_rfm").fetchall()[0][0]


def whole_scope_night(as_of: dt.date, last_built: dt.date | None, full_refresh: bool) -> bool:
    """A night whose checks and metadata cover whole tables: a full refresh, a first build, the
    weekly night, or a night that is neither the one after the last built nor a re-run of it."""
    if full_refresh or last_built is None or as_of.isoweekday() == WHOLE_SCOPE_WEEKDAY:
        return True
    return as_of not in (last_built, last_built + dt.timedelta(days=1))


@dataclass(frozen=True)
class NightScope:
    """What one dbt step covers tonight (decided by the step, see the module docstring)."""

    whole_table_tests: bool
    column_metadata: bool
    threads: int = 1
    """dbt threads: 1 on whole-scope nights, whose large queries already use every core (two at
    once under the memory cap would spill at scale l); NIGHT_THREADS on ordinary nights, whose many
    small nodes are mostly dbt's own Python work, which a second thread overlaps with DuckDB's."""


# dbt threads on an ordinary night (DATAMART_DBT_NIGHT_THREADS): at 200k customers a night's two
# dbt layers took 40.5–41.7 s with one thread and 33.7–35.1 s with two (4 threads: no better on 2 cores)
NIGHT_THREADS = 2


def _night_threads() -> int:
    raw = os.environ.get("DATAMART_DBT_NIGHT_THREADS", "").strip()
    if not raw:
        return NIGHT_THREADS
    if not raw.isdigit() or int(raw) < 1:
        raise ValueError(f"DATAMART_DBT_NIGHT_THREADS must be a whole number of 1 or more, got {raw!r}")
    return int(raw)


def night_scope(as_of: dt.date, last_built: dt.date | None, config: DbtBuildConfig | None = None) -> NightScope:
    whole = whole_scope_night(as_of, last_built, bool(config is not None and config.full_refresh))

    def pick(field: str, env: str) -> bool:
        value = getattr(config, field, None) if config is not None else None
        if value is None:
            value = _env_flag(env)
        return whole if value is None else value

    threads = 1 if whole else _night_threads()
    return NightScope(whole_table_tests=pick("whole_table_tests", "DATAMART_WHOLE_TABLE_TESTS"),
                      column_metadata=pick("column_metadata", "DATAMART_DBT_COLUMN_METADATA"), threads=threads)


def dbt_env(as_of: str, scope: NightScope | None = None) -> dict[str, str]:
    """The night and the tests' scope reach dbt as environment variables read at run time
    (macros night_date, whole_table_tests): constant --vars keep dbt's partial parsing valid from
    one night to the next, a changed --vars would re-parse the whole project every night."""
    env = {"DATAMART_DBT_AS_OF": as_of}
    if scope is not None:
        env["DATAMART_DBT_WHOLE_TABLE_TESTS"] = "true" if scope.whole_table_tests else "false"
    return env


def dbt_vars(config: DbtBuildConfig | None = None) -> dict:
    """The vars passed to dbt: every tunable set in the launchpad or the environment."""
    out: dict = {}
    for name, env in TUNABLE_VARS.items():
        value = getattr(config, name, None) if config is not None else None
        if value is None and os.environ.get(env):
            value = int(os.environ[env])
        if value is not None:
            out[name] = value
    return out


def dbt_args(config: DbtBuildConfig | None = None, scope: NightScope | None = None) -> list[str]:
    # --no-write-json: dagster-dbt reads the run's events from dbt's JSON log lines, never its
    # target/<run>/manifest.json or run_results.json, and the folder is deleted afterwards
    # (writing them costs ~0.4 CPU-s per step at 200k customers); partial_parse.msgpack is still written
    args = ["build", "--no-write-json"]
    if scope is not None and not scope.whole_table_tests:
        # dbt unit tests check the SQL, not the data: they run on whole-scope nights (and in CI)
        args += ["--exclude-resource-type", "unit_test"]
    if scope is not None and scope.threads != 1:
        args += ["--threads", str(scope.threads)]
    tunables = dbt_vars(config)
    if tunables:
        args += ["--vars", json.dumps(tunables, sort_keys=True)]
    if config is not None and config.full_refresh:
        args.append("--full-refresh")
    return args


def _build(context: dg.AssetExecutionContext, dbt: DbtCliResource, datamart: DatamartResource,
           config: DbtBuildConfig | None, layer_tag: str):
    datamart.dbt_env()
    settings = datamart.settings()
    as_of = settings.as_of
    scope = night_scope(as_of, last_night_built(datamart), config)
    engine_name = engine()
    on_spark = engine_name == "spark"
    if on_spark:
        # the column metadata fetch queries the built tables through dagster-dbt's in-process
        # adapter of the profile's target: on Spark a second Spark session, in the orchestrator.
        # Skipped; the columns documented in the dbt YAML stay on every asset's definition.
        # One dbt thread: Spark parallelises each query itself, and two nodes whose hooks append
        # to the same table at once collide in its `_temporary` commit folder (seen: the identity
        # change log, the reattribution log; the job fails, its retry passes)
        scope = replace(scope, column_metadata=False, threads=1)
    context.log.info(f"dbt scope tonight: engine {engine_name}, whole-table tests {scope.whole_table_tests}, "
                     f"column metadata {scope.column_metadata}")
    os.environ.update(dbt_env(as_of.isoformat(), scope))
    manifest = None
    if on_spark:
        dbt = spark_dbt(dbt)
        # the dbt process finds the lake and its Spark folders under DATAMART_HOME (the resource's
        # home may be configured rather than taken from the environment)
        os.environ["DATAMART_HOME"] = str(settings.home)
        manifest = dbt_steps.load_manifest(dbt_project.manifest_path)
        with datamart.connect(read_only=True) as con:
            exported = dbt_steps.export_inputs(con, settings.home, manifest, layer_tag)
        context.log.info(f"lake: {len(exported)} tables, {sum(exported.values())} rows written for Spark")
    token = DBT_ADAPTER_WANTED.set(scope.column_metadata)
    try:
        invocation = dbt.cli(dbt_args(config, scope), context=context)
        events = list(invocation.stream())
        if on_spark:
            _mirror(context, events, invocation, manifest, datamart)
    finally:
        DBT_ADAPTER_WANTED.reset(token)
        if on_spark:
            dbt_steps.clear_raw(settings.home)
    if scope.column_metadata:
        events = _with_column_metadata(events, invocation)
    yield from _with_row_counts(events, datamart)
    # dagster-dbt leaves one target folder per invocation: keep the disk clean, but keep its
    # partial-parse state for the next invocation (dagster-dbt starts each one from target/)
    target = invocation.target_path
    if target.parent.name == "target" and target.exists():
        _keep_partial_parse(target)
        shutil.rmtree(target, ignore_errors=True)


def _mirror(context: dg.AssetExecutionContext, events: list, invocation, manifest: dict,
            datamart: DatamartResource) -> None:
    """Spark's tables of this step into the DuckDB warehouse (engines/dbt_steps.py), before any
    event reaches Dagster: the row counts, the checks and the next steps read them there."""
    built = [getattr(v, "value", v) for e in events if isinstance(e, dg.Output)
             for k, v in (e.metadata or {}).items() if k == "unique_id"]
    tables = dbt_steps.built_tables(built, invocation.target_path)
    with datamart.connect() as con:
        counts = dbt_steps.mirror_tables(con, tables, dbt_steps.contract_types(manifest))
    context.log.info(f"mirrored {len(counts)} Spark tables ({sum(counts.values())} rows) into the DuckDB warehouse")


def _with_column_metadata(events: list, invocation) -> list:
    """The built tables' column types and their column lineage (sqlglot), fetched by dagster-dbt
    through an in-process dbt-duckdb connection once dbt has finished.

    Not `invocation.stream().fetch_column_metadata()`: on the live stream dagster-dbt 0.29 waits for
    dbt in a loop that never sleeps (`dagster._core.utils.imap` polls its empty queue while the
    enqueuing thread blocks on dbt's output), so one of the machine's cores spun for the whole dbt
    run, which dbt's DuckDB then lacked (200k customers, full build: the staging step took 72.8 s
    in bench/bench_dbt.py; run alone with this fix, metadata included, 54.0 s). Handed the finished list, the enqueuing ends at once and the loop blocks on each
    result. The connection is closed before anyone else opens the warehouse file."""
    from dagster_dbt.core.dbt_event_iterator import DbtEventIterator

    try:
        return list(DbtEventIterator(iter(events), invocation).fetch_column_metadata(with_column_lineage=True))
    finally:
        _release_dbt_duckdb()


def _keep_partial_parse(run_target) -> None:
    state = run_target / "partial_parse.msgpack"
    if state.exists():
        shared = run_target.parent / "partial_parse.msgpack"
        tmp = shared.with_name(f".{run_target.name}.msgpack")
        shutil.copyfile(state, tmp)
        os.replace(tmp, shared)


def _release_dbt_duckdb() -> None:
    """dbt-duckdb caches one DuckDB instance per process; close it so the warehouse file is free."""
    from dbt.adapters.duckdb.connections import DuckDBConnectionManager

    env = DuckDBConnectionManager._ENV
    if env is not None:
        env.close()
        DuckDBConnectionManager._ENV = None


def _with_row_counts(events, datamart: DatamartResource):
    outputs = [e for e in events if isinstance(e, dg.Output)]
    counts = {}
    if outputs:
        with datamart.connect(read_only=True) as con:
            tables = {f"{s}.{t}" for s, t in con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables").fetchall()}
            for e in outputs:
                name = ".".join(e.output_name.split("__", 1)) if "__" in e.output_name else e.output_name
                if name in tables:
                    counts[e.output_name] = con.execute(f"SELECT count(*) FROM {name}").fetchall()[0][0]
    for e in events:
        if isinstance(e, dg.Output) and e.output_name in counts:
            yield dg.Output(e.value, output_name=e.output_name, data_version=e.data_version,
                            metadata={**e.metadata, "dagster/row_count": counts[e.output_name]}, tags=e.tags)
        else:
            yield e


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select="tag:layer_staging",
    name="dbt_staging",
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
)
def dbt_staging(context: dg.AssetExecutionContext, dbt: DbtCliResource, datamart: DatamartResource,
                config: DbtBuildConfig):
    """Staging: typed, cleaned, latest-version rows per entity; identity inputs."""
    yield from _build(context, dbt, datamart, config, "layer_staging")


@dbt_assets(
    manifest=dbt_project.manifest_path,
    select="tag:layer_marts",
    name="dbt_marts",
    dagster_dbt_translator=translator,
    pool=WAREHOUSE_POOL,
)
def dbt_marts(context: dg.AssetExecutionContext, dbt: DbtCliResource, datamart: DatamartResource,
              config: DbtBuildConfig):
    """Marts: customers, conformed facts (incremental), RFM history, seed questions, audience."""
    yield from _build(context, dbt, datamart, config, "layer_marts")
