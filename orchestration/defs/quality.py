"""Great Expectations suites (data_quality/) as blocking Dagster asset checks on every layer.

GX cannot validate DuckDB through SQL as released, so each check fetches rows through Arrow
into pandas and validates them: raw, the rows this run loaded; staging, marts and model
outputs, the rebuilt table, capped by a reproducible sample on large nights. Whole-table rules
(duplicate keys, orphan facts, revenue reconciled with staging) are measured by DuckDB and the
one-row result is validated by GX. A failed check stops every downstream asset, the publish
step included. Results go to the check's metadata, `audit.check_results` and GX Data Docs in
`$DATAMART_HOME/data_docs`.

What a night costs should follow the night's data: on an ordinary night (the one after the last
night built, or a re-run of it) the large staging tables are validated on the rows derived from
tonight's loads, the staging keys on tonight's keys and the RFM history on tonight's snapshot
(data_quality.suites.NIGHT_ROWS); every table is validated whole on a whole-scope night, as for
the dbt tests: a full refresh, a first build, a Sunday, a replay or missed nights, or when
DATAMART_WHOLE_TABLE_TESTS=1 (0 forces the night scope).

The gates of a layer run in one step (a blocking multi-asset check): one warehouse connection and
one Data Docs rendering per layer; each gate keeps its own check name, asset and verdict.
"""


import datetime as dt
import re
import threading
from dataclasses import dataclass

import dagster as dg

from data_quality.suites import METRIC_NIGHT_SQL, METRIC_SUITES, MODEL_RULES, NIGHT_ROWS, STAGING_RULES

from ..ingestion.specs import ENTITIES
from ..resources import DatamartResource
from ..warehouse import table_exists
from .dbt import WHOLE_SCOPE_WEEKDAY, _env_flag
from .ingestion import raw_key

MAX_ROWS_VALIDATED = 200_000


@dataclass(frozen=True)
class Gate:
    asset: dg.AssetKey
    name: str
    tables: tuple[tuple[str, str], ...]  # (suite name, SQL giving the rows to validate)


def _night_rows(table: str) -> str:
    return f"SELECT * EXCLUDE (_loaded_at) FROM {table} WHERE _load_id = $run_id"


def _table(name: str) -> tuple[str, str]:
    return name, f"SELECT * FROM {name}"


def _metrics(name: str) -> tuple[str, str]:
    return name, METRIC_SUITES[name][0]


def _key(table: str) -> dg.AssetKey:
    return dg.AssetKey(table.split("."))


GATES: list[Gate] = [
    Gate(raw_key(e), f"gx_raw_{e.name}", ((f"raw.{e.name}", _night_rows(e.raw_table)),))
    for e in ENTITIES
] + [
    Gate(_key(table), f"gx_{table.split('.')[1]}", (_table(table),)) for table in STAGING_RULES
] + [
    # key uniqueness over whole staging tables, measured once after the staging layer
    Gate(dg.AssetKey(["intermediate", "int_identity__records"]), "gx_staging_keys", (_metrics("staging.keys"),)),
] + [
    Gate(dg.AssetKey(["marts", name]), f"gx_{name}", (_table(f"marts.{name}"),))
    for name in ("dim_customer", "customer_identity_map", "fct_customer_rfm")
] + [
    Gate(dg.AssetKey(["marts", "fct_order_lines"]), "gx_fct_order_lines",
         (_table("marts.fct_order_lines"), _metrics("marts.integrity"))),
    Gate(dg.AssetKey(["marts", "marketing_audience"]), "gx_marketing_audience",
         (_metrics("marts.audience_compliance"),)),
    Gate(dg.AssetKey(["marts", "customer_scores"]), "gx_customer_scores",
         (_table("marts.customer_scores"), *(_table(t) for t in MODEL_RULES), _metrics("marts.scores_integrity"))),
]


def _scoped(suite: str, sql: str, whole: bool) -> str:
    """The SQL of a gate's table tonight: the whole table, or on an ordinary night its night rows."""
    if whole:
        return sql
    if suite in METRIC_NIGHT_SQL:
        return METRIC_NIGHT_SQL[suite]
    if suite in NIGHT_ROWS and sql == f"SELECT * FROM {suite}":
        return f"{sql} WHERE {NIGHT_ROWS[suite]}"
    return sql


def whole_scope(con, as_of: dt.date, run_config: dict | None = None) -> bool:
    """Whether tonight's checks validate whole tables (see the module docstring). The nights built
    before this run are the RFM snapshots older than tonight; one newer than tonight is a replay."""
    forced = _env_flag("DATAMART_WHOLE_TABLE_TESTS")
    if forced is not None:
        return forced
    configs = [(op or {}).get("config") or {} for op in ((run_config or {}).get("ops") or {}).values()]
    asked = [c["whole_table_tests"] for c in configs if c.get("whole_table_tests") is not None]
    if asked:  # the dbt steps' launchpad option covers the checks too
        return any(asked)
    if any(c.get("full_refresh") for c in configs):
        return True
    if as_of.isoweekday() == WHOLE_SCOPE_WEEKDAY or not table_exists(con, "marts.fct_customer_rfm"):
        return True
    before, after = con.execute(
        "SELECT max(snapshot_date) FILTER (WHERE snapshot_date < ?), count(*) FILTER (WHERE snapshot_date > ?) "
        "FROM marts.fct_customer_rfm", [as_of, as_of]).fetchall()[0]
    return before != as_of - dt.timedelta(days=1) or after > 0


def _loaded_since(con, run_id: str) -> dt.datetime:
    """When this run's first file was loaded: staging rows derived from tonight's loads are newer.
    A run that loaded nothing (checks re-run on their own) validates the latest run's loads."""
    if not table_exists(con, "audit.load_log"):
        return dt.datetime.max
    found = con.execute("""SELECT coalesce(min(loaded_at) FILTER (WHERE load_id = $run_id),
                                           min(loaded_at) FILTER (WHERE load_id = (SELECT max_by(load_id, loaded_at)
                                                                                   FROM audit.load_log)))
                           FROM audit.load_log""", {"run_id": run_id}).fetchall()[0][0]
    return found or dt.datetime.max


def _tables_in(sql: str) -> set[str]:
    return set(re.findall(r"\b(?:raw|staging|intermediate|marts|identity)\.\w+", sql))


# A large table is first thinned by DuckDB's system sampling, which the scan skips through (whole
# vectors of 2,048 rows: at 1M customers 0.3 s instead of 10.8 s for a reservoir over 46 M
# e-mail events), to OVERSAMPLE times the rows validated; a reservoir over those picks the rows.
OVERSAMPLE = 4
_ONE_TABLE = re.compile(r"SELECT (?P<cols>.+?) FROM (?P<table>[a-z_]+\.[a-z_0-9]+)(?P<rest>( WHERE .*)?)", re.DOTALL)


def _thinned(sql: str, matching: int) -> str:
    """`sql` (rows of one table, `matching` of them) reading only a system sample of its table."""
    one = _ONE_TABLE.fullmatch(sql)
    share = OVERSAMPLE * MAX_ROWS_VALIDATED / matching
    if not one or share >= 1:
        return sql
    return (f"SELECT {one['cols']} FROM {one['table']} TABLESAMPLE system({share * 100:.6f}%) REPEATABLE (42)"
            f"{one['rest']}")


def _fetch(con, sql: str, params: dict):
    """The rows of `sql` as a DataFrame (a reproducible sample on large nights), and their count.
    `params` may give $run_id (the rows this run loaded) and $as_of (the night)."""
    used = {k: v for k, v in params.items() if f"${k}" in sql} or None
    count = con.execute(f"SELECT count(*) FROM ({sql})", used).fetchall()[0][0]
    if count > MAX_ROWS_VALIDATED:
        sql = f"SELECT * FROM ({_thinned(sql, count)}) USING SAMPLE reservoir({MAX_ROWS_VALIDATED} ROWS) REPEATABLE (42)"
    rel = con.sql(sql, params=used)
    return rel.to_arrow_table().to_pandas(date_as_object=False), count


CHECK_LOG = "audit.check_results"


def record_check(con, run_id, check, suite, passed, rows, failed) -> None:
    """Keep every check outcome in the warehouse, for `datamart status` and the published audit."""
    con.execute(f"""CREATE TABLE IF NOT EXISTS {CHECK_LOG} (run_id VARCHAR, check_name VARCHAR, suite VARCHAR,
                    passed BOOLEAN, rows_checked BIGINT, failed_expectations INTEGER, checked_at TIMESTAMP)""")
    con.execute(f"INSERT INTO {CHECK_LOG} VALUES (?, ?, ?, ?, ?, ?, now()::TIMESTAMP)",
                [run_id, check, suite, passed, rows, failed])


def _layer(gate: Gate) -> str:
    """The step a gate runs in: one per layer (after ingestion, after dbt staging, after the marts,
    after the models), so GX's fixed costs (warehouse connection, Data Docs rendering, the step
    itself) are paid once per layer rather than once per table."""
    top = gate.asset.path[0]
    if top in ("raw", "staging"):
        return top
    if top == "intermediate":  # the staging keys, measured once the staging layer is built
        return "staging"
    return "scores" if gate.asset.path[-1] == "customer_scores" else "marts"


LAYERS: dict[str, list[Gate]] = {}
for _g in GATES:
    LAYERS.setdefault(_layer(_g), []).append(_g)


PREFETCH_ROWS = 1_000_000  # rows fetched ahead (held in memory) while GX is being loaded


@dataclass
class _Task:
    gate: Gate
    suite: str
    sql: str
    frame: object = None  # (DataFrame, total rows) once fetched; None if not yet
    missing: bool = False  # a table it reads does not exist (a silo that never delivered)


def _load(con, task: _Task, params: dict) -> None:
    if task.frame is None and not task.missing:
        if not all(table_exists(con, t) for t in _tables_in(task.sql)):
            task.missing = True
        else:
            task.frame = _fetch(con, task.sql, params)


def _run_layer(con, gates: list[Gate], run_id: str, settings, night: str, runner,
               whole: bool = True) -> tuple[list, list]:
    """Validate the gates of a layer (whole tables, or tonight's rows where `whole` is false);
    returns [(gate, passed, metadata)] and GX result identifiers.

    GX takes seconds to load: it loads in a thread while DuckDB fetches the first frames (DuckDB
    releases the interpreter while it reads), then the suites run one after the other."""
    params = {"run_id": run_id, "as_of": settings.as_of}
    tasks = [_Task(g, suite, _scoped(suite, sql, whole)) for g in gates for suite, sql in g.tables]
    if any("$loaded_since" in t.sql for t in tasks):
        params["loaded_since"] = _loaded_since(con, run_id)
    warm = threading.Thread(target=runner.warm_up, args=(settings.home,), daemon=True)
    warm.start()
    fetched = 0
    for task in tasks:
        if not warm.is_alive() or fetched >= PREFETCH_ROWS:
            break
        _load(con, task, params)
        fetched += len(task.frame[0]) if task.frame is not None else 0
    warm.join()

    results, identifiers = {}, []
    for task in tasks:
        _load(con, task, params)
        passed, metadata = results.get(task.gate.name, (True, {"warnings": 0}))
        metadata["scope"] = "whole tables" if whole else "tonight's rows"
        if task.missing or task.frame[0].empty:
            metadata[f"{task.suite}.rows"] = 0
        else:
            df, total = task.frame
            outcome = runner.validate(task.suite, df, home=settings.home, run_name=night, build_docs=False)
            passed &= outcome.success
            metadata["warnings"] += len(outcome.warnings)
            identifiers += outcome.identifiers
            metadata[f"{task.suite}.rows"] = total
            metadata[f"{task.suite}.rows_validated"] = len(df)
            for k, v in outcome.to_metadata().items():
                metadata[f"{task.suite}.{k}"] = v
            record_check(con, run_id, task.gate.name, task.suite, outcome.success, total, len(outcome.failed))
        task.frame = None  # free the frame once judged
        results[task.gate.name] = (passed, metadata)
    return [(g, *results[g.name]) for g in gates], identifiers


def _layer_check(layer: str, gates: list[Gate]) -> dg.AssetChecksDefinition:
    # the step is named like Dagster names a check on the layer's first asset
    first = "__".join(gates[0].asset.path)

    @dg.multi_asset_check(
        name=f"{first}_gx_{layer}",
        specs=[dg.AssetCheckSpec(g.name, asset=g.asset, blocking=True,
                                 description=f"Great Expectations suites {', '.join(s for s, _ in g.tables)}: "
                                             "rules naming a contract clause block, the others warn.")
               for g in gates],
        can_subset=True,
    )
    def _check(context: dg.AssetCheckExecutionContext, datamart: DatamartResource):
        from data_quality import runner  # GX import costs seconds: only when checking

        selected = context.selected_asset_check_keys
        settings = datamart.settings()
        night = f"{settings.as_of.isoformat()}-{context.run.run_id[:8]}"
        chosen = [g for g in gates if dg.AssetCheckKey(g.asset, g.name) in selected]
        with datamart.connect(read_only=False) as con:
            whole = whole_scope(con, settings.as_of, context.run.run_config)
            results, identifiers = _run_layer(con, chosen, context.run.run_id, settings, night, runner, whole)
        runner.build_docs(settings.home, identifiers)  # once for the layer
        docs = dg.MetadataValue.path(str(runner.docs_index(settings.home)))
        for gate, passed, metadata in results:
            # a blocking rule (a contract clause) failed: ERROR, the night stops; only rules on what
            # the contract allows failed: WARN, counted in the metadata, the night goes on
            warned = passed and metadata["warnings"] > 0
            yield dg.AssetCheckResult(asset_key=gate.asset, check_name=gate.name, passed=passed and not warned,
                                      metadata={**metadata, "data_docs": docs},
                                      severity=dg.AssetCheckSeverity.WARN if warned else dg.AssetCheckSeverity.ERROR)

    return _check


quality_checks = [_layer_check(layer, gates) for layer, gates in LAYERS.items()]
