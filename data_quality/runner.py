"""Runs a declared suite on a pandas DataFrame with Great Expectations (GX Core 1.x).

GX cannot validate DuckDB through SQL as released, so callers fetch the rows a night changed
through Arrow and hand them over here. One ephemeral context per process; suites are built
once. Results keep counts and percentages only, never the unexpected values (personal data).
"""

from __future__ import annotations

import os
import threading
from dataclasses import dataclass, field
from functools import lru_cache

import pandas as pd

from .suites import SUITES

os.environ.setdefault("GX_ANALYTICS_ENABLED", "false")
_lock = threading.Lock()


@dataclass
class ValidationOutcome:
    suite: str
    success: bool
    evaluated: int
    failed: list[str] = field(default_factory=list)
    statistics: dict = field(default_factory=dict)

    def to_metadata(self) -> dict:
        return {"success": self.success, "expectations": self.evaluated,
                "failed_expectations": len(self.failed), "failed": "; ".join(self.failed) or "none"}


def suite_names() -> list[str]:
    return sorted(SUITES)


def _expectation(rule: tuple):
    import great_expectations.expectations as gxe

    kind, column, *args = rule
    if kind == "not_null":
        return gxe.ExpectColumnValuesToNotBeNull(column=column)
    if kind == "unique":
        return gxe.ExpectColumnValuesToBeUnique(column=column)
    if kind == "compound_unique":
        return gxe.ExpectCompoundColumnsToBeUnique(column_list=column)
    if kind == "in_set":
        return gxe.ExpectColumnValuesToBeInSet(column=column, value_set=args[0])
    if kind == "not_in_set":
        return gxe.ExpectColumnValuesToNotBeInSet(column=column, value_set=args[0])
    if kind == "between":
        low, high, *mostly = args
        return gxe.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high,
                                                 mostly=mostly[0] if mostly else 1.0)
    if kind == "regex":
        regex, *mostly = args
        return gxe.ExpectColumnValuesToMatchRegex(column=column, regex=regex, mostly=mostly[0] if mostly else 1.0)
    raise ValueError(f"unknown rule kind {kind!r}")


@lru_cache(maxsize=1)
def _context():
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False, metric_calculations=False)
    return context, context.data_sources.add_pandas("datamart_frames")


@lru_cache(maxsize=None)
def _suite_and_batch(name: str):
    import great_expectations as gx

    context, source = _context()
    suite = context.suites.add(gx.ExpectationSuite(name=name))
    for rule in SUITES[name]:
        suite.add_expectation(_expectation(rule))
    batch_definition = source.add_dataframe_asset(name=name).add_batch_definition_whole_dataframe("night")
    return suite, batch_definition


def _label(config) -> str:
    kw = config.kwargs
    target = kw.get("column") or ",".join(kw.get("column_list", []))
    return f"{config.type}({target})"


def validate(suite_name: str, df: pd.DataFrame) -> ValidationOutcome:
    if suite_name not in SUITES:
        raise KeyError(f"no suite named {suite_name!r}")
    with _lock:
        suite, batch_definition = _suite_and_batch(suite_name)
        # only check columns the frame has: an optional source column may be absent
        present = set(df.columns)
        batch = batch_definition.get_batch(batch_parameters={"dataframe": df})
        result = batch.validate(suite, result_format={"result_format": "BASIC", "partial_unexpected_count": 0})
    failed, evaluated = [], 0
    for r in result.results:
        cols = r.expectation_config.kwargs.get("column_list") or [r.expectation_config.kwargs.get("column")]
        if not set(cols) <= present:
            failed.append(f"{_label(r.expectation_config)}: column missing")
            evaluated += 1
            continue
        evaluated += 1
        if not r.success:
            res = r.result or {}
            count, pct = res.get("unexpected_count"), res.get("unexpected_percent")
            detail = f"{count} unexpected ({pct:.2f}%)" if count is not None and pct is not None else "failed"
            failed.append(f"{_label(r.expectation_config)}: {detail}")
    stats = {k: v for k, v in (result.statistics or {}).items() if isinstance(v, (int, float))}
    return ValidationOutcome(suite=suite_name, success=not failed, evaluated=evaluated, failed=failed,
                             statistics=stats)
