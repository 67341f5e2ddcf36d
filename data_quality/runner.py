"""Runs a declared suite on a pandas DataFrame with Great Expectations (GX Core 1.x).

GX cannot validate DuckDB through SQL as released, so callers fetch the rows a night changed
through Arrow and hand them over here. Without a home, validation runs in an ephemeral context
(tests, ad-hoc use). With a home, a file context under `$DATAMART_HOME/gx` keeps every night's
validation results, and each validation's page plus the index are rendered as GX Data Docs into
`$DATAMART_HOME/data_docs`, post-processed to work offline. Results keep counts and percentages
only, never the unexpected values (personal data): neither the metadata nor the Data Docs.
"""

from __future__ import annotations

import logging
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import pandas as pd

from .suites import SUITES, Rule

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")


def _hide_spark_connect_from_gx() -> None:
    """GX imports pyspark's Spark Connect module when pyspark is installed (the spark extra), and
    that module ends the process with exit code 0 ("Skipping doctests") when `__main__` has no
    file, as in Dagster's step workers: the GX step failed with SystemExit. The datamart never uses
    Spark Connect (its Spark jobs run in processes of their own), so in such a process GX is
    shown it as not installed."""
    main = sys.modules.get("__main__")
    if main is not None and getattr(main, "__spec__", None) is None and not hasattr(main, "__file__") \
            and not hasattr(sys, "ps1"):
        sys.modules.setdefault("pyspark.sql.connect", None)


_hide_spark_connect_from_gx()
_lock = threading.Lock()
RESULT_FORMAT = {"result_format": "BASIC", "partial_unexpected_count": 0}
DOCS_SITE = "datamart"


@dataclass
class ValidationOutcome:
    suite: str
    success: bool  # no blocking rule failed (warnings allowed)
    evaluated: int
    failed: list[str] = field(default_factory=list)  # blocking rules that failed, with their clause
    statistics: dict = field(default_factory=dict)
    identifiers: list = field(default_factory=list)  # GX validation result ids (Data Docs pages)
    warnings: list[str] = field(default_factory=list)  # non-blocking rules that failed

    def to_metadata(self) -> dict:
        return {"success": self.success, "expectations": self.evaluated,
                "failed_expectations": len(self.failed), "failed": "; ".join(self.failed) or "none",
                "warnings": len(self.warnings), "warned": "; ".join(self.warnings) or "none"}


def suite_names() -> list[str]:
    return sorted(SUITES)


def _expectation(rule: Rule):
    """The GX expectation of a rule; its severity says whether it blocks (a contract clause) or warns."""
    import great_expectations.expectations as gxe
    from great_expectations.expectations.metadata_types import FailureSeverity

    common = {"severity": FailureSeverity.CRITICAL if rule.blocking else FailureSeverity.WARNING,
              "meta": {"enforces": rule.enforces} if rule.blocking else {"flags": "allowed by the contract"}}
    if rule.kind == "compound_unique":
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=list(rule.column), **common)
    column = {"column": rule.column, **common}
    if rule.kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(**column)
    if rule.kind == "unique":
        return gxe.ExpectColumnValuesToBeUnique(**column)
    if rule.kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(value_set=list(rule.value_set), **column)
    if rule.kind == "not_in_set":
        return gxe.ExpectColumnValuesToNotBeInSet(value_set=list(rule.value_set), **column)
    if rule.kind == "between":
        return gxe.ExpectColumnValuesToBeBetween(min_value=rule.min_value, max_value=rule.max_value,
                                                 mostly=rule.mostly, **column)
    if rule.kind == "regex":
        return gxe.ExpectColumnValuesToMatchRegex(regex=rule.regex, mostly=rule.mostly, **column)
    raise ValueError(f"unknown rule kind {rule.kind!r}")


def _no_batch_fingerprint() -> None:
    """GX hashes every pandas batch below 1 GB into a "fingerprint" batch marker, which nothing
    here reads (results are keyed by suite and run): hashing the frames was 16 % of the staging
    gates' time at 200k customers (py-spy). A module constant of GX Core 1.x."""
    from great_expectations.execution_engine import pandas_execution_engine

    pandas_execution_engine.HASH_THRESHOLD = 0


def _quiet(context) -> None:
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)


log = logging.getLogger(__name__)


def _file_context(home: str):
    import great_expectations as gx

    context = gx.get_context(mode="file", project_root_dir=home)
    if DOCS_SITE not in context.get_site_names():
        context.add_data_docs_site(site_name=DOCS_SITE, site_config={
            "class_name": "SiteBuilder", "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            "store_backend": {"class_name": "TupleFilesystemStoreBackend",
                              "base_directory": str(Path(home) / "data_docs")}})
    return context


@cache
def _context(home: str | None):
    """An ephemeral context, or a file context under <home>/gx with a Data Docs site in <home>/data_docs.

    GX rewrites its project files (great_expectations.yml, stores) in place on every run, so a
    refresh killed at that moment can leave them truncated. Everything in them is declared here
    in code, so an unreadable project is moved aside (`gx.broken-<time>`, kept for inspection)
    and recreated (if that fails too, the error is raised); the next nights' results go to the new one."""
    import great_expectations as gx

    if home is None:
        return _with_frames_source(gx.get_context(mode="ephemeral"))
    try:
        return _with_frames_source(_file_context(home))
    except Exception as exc:  # noqa: BLE001 - a truncated file fails in many ways (YAML, KeyError, JSON)
        _set_aside(home, exc)
        return _with_frames_source(_file_context(home))


def _with_frames_source(context):
    _quiet(context)
    _no_batch_fingerprint()
    return context, context.data_sources.add_or_update_pandas("datamart_frames")


def _set_aside(home: str, exc: BaseException) -> None:
    project = Path(home) / "gx"
    aside = project.with_name(f"gx.broken-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}")
    project.rename(aside)
    log.warning("GX project unreadable (%s), moved to %s and recreated", type(exc).__name__, aside.name)


@cache
def _checkpoint(name: str, home: str | None):
    """The suite `name` as a checkpoint on a whole-DataFrame batch (declared in code, stored by GX);
    a store file truncated by a killed refresh sets the project aside, as in _context."""
    try:
        return _declare_checkpoint(name, home)
    except Exception as exc:
        if home is None:
            raise
        _set_aside(home, exc)
        _context.cache_clear()
        _checkpoint.cache_clear()
        return _declare_checkpoint(name, home)


def _declare_checkpoint(name: str, home: str | None):
    import great_expectations as gx

    context, source = _context(home)
    suite = context.suites.add_or_update(gx.ExpectationSuite(
        name=name, expectations=[_expectation(rule) for rule in SUITES[name]]))
    asset = next((a for a in source.assets if a.name == name), None) or source.add_dataframe_asset(name=name)
    batch = next((b for b in asset.batch_definitions if b.name == "night"), None) \
        or asset.add_batch_definition_whole_dataframe("night")
    definition = context.validation_definitions.add_or_update(gx.ValidationDefinition(name=name, data=batch, suite=suite))
    return context.checkpoints.add_or_update(gx.Checkpoint(name=name, validation_definitions=[definition],
                                                           actions=[], result_format=RESULT_FORMAT))


# Data Docs pull styles and scripts from CDNs and a logo with a tracking query from S3; the
# machines that read them may be offline, and nothing should call out: keep local files only.
_EXTERNAL_TAG = re.compile(r"<(script|link|img)\b[^>]*\b(src|href)=\"https?://[^\"]*\"[^>]*>(\s*</script>)?", re.IGNORECASE)


def _offline(html_path: Path) -> None:
    if html_path.exists():
        html_path.write_text(_EXTERNAL_TAG.sub("", html_path.read_text(encoding="utf-8")), encoding="utf-8")


def _build_docs(context, home: str, identifiers) -> None:
    """Render the pages of `identifiers` and the index (GX compiles its templates on every build:
    build once for many validations)."""
    context.build_data_docs(site_names=[DOCS_SITE], resource_identifiers=list(identifiers))
    site = Path(home) / "data_docs"
    _offline(site / "index.html")
    for identifier in identifiers:  # validations/<suite parts>/<run name>/<run time>/<batch>.html
        *folders, page = identifier.to_tuple()
        _offline(site.joinpath("validations", *folders, f"{page}.html"))


def warm_up(home: Path | str | None = None) -> None:
    """Load GX and its context ahead of the first validation (it takes seconds): callers may run
    this in a thread while they fetch the data to validate."""
    import great_expectations.expectations  # noqa: F401

    home_key = str(Path(home).resolve()) if home is not None else None
    with _lock:
        _context(home_key)


def build_docs(home: Path | str | None, identifiers) -> None:
    """Data Docs for validations run with `build_docs=False` (one rendering for a whole layer)."""
    identifiers = list(identifiers)
    if home is None or not identifiers:
        return
    home_key = str(Path(home).resolve())
    with _lock:
        _build_docs(_context(home_key)[0], home_key, identifiers)


def docs_index(home: Path) -> Path:
    return Path(home) / "data_docs" / "index.html"


_NS_MIN, _NS_MAX = pd.Timestamp.min, pd.Timestamp.max


def _ns_datetimes(df: pd.DataFrame) -> pd.DataFrame:
    """Datetime columns at nanosecond resolution. Arrow hands DuckDB timestamps over in µs (dates
    in ms), and GX 1.24 compares non-ns datetimes with a Python call per row (~1 s per 200,000
    values); at ns it compares vectorized. Same values, same verdicts; a column holding a value
    outside the ns range (before 1677 or after 2262) is left as it is (the slow path still judges it)."""
    out = None
    for col, dtype in df.dtypes.items():
        if not pd.api.types.is_datetime64_dtype(dtype) or pd.api.types.is_datetime64_ns_dtype(dtype):
            continue
        values = df[col]
        low, high = values.min(), values.max()
        if pd.notna(low) and (low < _NS_MIN or high > _NS_MAX):
            continue
        if out is None:
            out = df.copy(deep=False)
        out[col] = values.astype("datetime64[ns]")
    return df if out is None else out


def _label(config) -> str:
    kw = config.kwargs
    target = kw.get("column") or ",".join(kw.get("column_list", []))
    return f"{config.type}({target})"


def validate(suite_name: str, df: pd.DataFrame, home: Path | str | None = None,
             run_name: str | None = None, build_docs: bool = True) -> ValidationOutcome:
    """Validate `df` with the declared suite. With `home`, the result is kept and rendered in Data Docs
    (`build_docs=False`: kept only; render many at once with `build_docs(home, identifiers)`)."""
    if suite_name not in SUITES:
        raise KeyError(f"no suite named {suite_name!r}")
    from great_expectations.core.run_identifier import RunIdentifier

    home_key = str(Path(home).resolve()) if home is not None else None
    df = _ns_datetimes(df)
    with _lock:
        checkpoint = _checkpoint(suite_name, home_key)
        run = checkpoint.run(batch_parameters={"dataframe": df},
                             run_id=RunIdentifier(run_name=run_name or "adhoc"))
        identifiers, results = zip(*run.run_results.items())
        if home_key is not None and build_docs:
            _build_docs(_context(home_key)[0], home_key, identifiers)
    result = results[0]
    # only check columns the frame has: an optional source column may be absent
    present = set(df.columns)
    failed, warnings, evaluated = [], [], 0
    for r in result.results:
        evaluated += 1
        config = r.expectation_config
        cols = config.kwargs.get("column_list") or [config.kwargs.get("column")]
        blocking = str(getattr(config, "severity", "critical")).lower().endswith("critical")
        enforces = (config.meta or {}).get("enforces")
        if not set(cols) <= present:
            detail = "column missing"
        elif r.success:
            continue
        else:
            res = r.result or {}
            count, pct = res.get("unexpected_count"), res.get("unexpected_percent")
            detail = f"{count} unexpected ({pct:.2f}%)" if count is not None and pct is not None else "failed"
        if blocking:
            failed.append(f"{_label(config)}: {detail} [contract: {enforces}]")
        else:
            warnings.append(f"{_label(config)}: {detail}")
    stats = {k: v for k, v in (result.statistics or {}).items() if isinstance(v, (int, float))}
    return ValidationOutcome(suite=suite_name, success=not failed, evaluated=evaluated, failed=failed,
                             statistics=stats, identifiers=list(identifiers) if home_key is not None else [],
                             warnings=warnings)
