"""The loader against DuckDB's plain read, entity by entity, in one process.

    .venv/bin/python bench/bench_ingestion.py --landing bench/cache/landing-m --as-of 2025-12-29

For each landing entity: DuckDB alone reads its files once into a table (the floor of
`bench_refresh.py`, same SQL), then the loader loads the same files into a fresh warehouse;
wall and CPU time of both, their ratio, and the loader's most expensive statements (the first
60 characters of each, no data). Both sides run back to back in the same process, so a ratio
sees one machine state. Prints a markdown table; `--json` writes the figures.
"""

from __future__ import annotations

import argparse
import collections
import datetime as dt
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench_refresh import plain_read_sql, warm_page_cache

from orchestration.ingestion.loader import discover, load_entity
from orchestration.ingestion.specs import ENTITIES
from orchestration.warehouse import connect


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


class _TimedConnection:
    """A DuckDB connection that adds up the time of each statement the loader sends."""

    def __init__(self, con):
        self._con, self.statements = con, collections.Counter()

    def execute(self, sql, *args):
        t0 = time.perf_counter()
        result = self._con.execute(sql, *args)
        self.statements[" ".join(sql.split())[:60]] += time.perf_counter() - t0
        return result

    def __getattr__(self, name):
        return getattr(self._con, name)


def run(landing: Path, as_of: dt.date, work: Path, only: list[str] | None = None) -> dict:
    floor_db, load_db = connect(work / "floor.duckdb"), connect(work / "load.duckdb")
    entities = []
    for spec in ENTITIES:
        if only and spec.name not in only:
            continue
        found = [f.path for f in discover(landing, spec, as_of)[0]]
        if not found:
            continue
        warm_page_cache(found)  # both sides read from the page cache
        files = [str(f) for f in found]
        t0, c0 = time.perf_counter(), _cpu()
        floor_db.execute(f"CREATE OR REPLACE TABLE t_{spec.name} AS SELECT * FROM {plain_read_sql(spec, files)}")
        floor = {"wall_s": time.perf_counter() - t0, "cpu_s": _cpu() - c0}
        timed = _TimedConnection(load_db)
        t0, c0 = time.perf_counter(), _cpu()
        loaded = load_entity(timed, landing, spec, as_of, load_id="bench")
        loader = {"wall_s": time.perf_counter() - t0, "cpu_s": _cpu() - c0}
        entities.append({"entity": spec.name, "files": len(files), "rows": loaded.rows_read,
                         "floor": floor, "loader": loader,
                         "top_statements": [[k, round(v, 3)] for k, v in timed.statements.most_common(3)]})
    floor_db.close()
    load_db.close()
    total = {side: {k: sum(e[side][k] for e in entities) for k in ("wall_s", "cpu_s")} for side in ("floor", "loader")}
    return {"as_of": as_of.isoformat(), "entities": entities, "total": total,
            "ratio_wall": total["loader"]["wall_s"] / max(total["floor"]["wall_s"], 1e-9),
            "ratio_cpu": total["loader"]["cpu_s"] / max(total["floor"]["cpu_s"], 1e-9)}


def markdown(report: dict) -> str:
    lines = ["| entity | rows | plain read, wall / CPU s | loader, wall / CPU s | loader / plain read, wall / CPU |",
             "|---|---:|---:|---:|---:|"]
    for e in [*report["entities"], {"entity": "**all**", "rows": sum(e["rows"] for e in report["entities"]),
                                    **report["total"]}]:
        f, lo = e["floor"], e["loader"]
        lines.append(f"| {e['entity']} | {e['rows']:,} | {f['wall_s']:.1f} / {f['cpu_s']:.1f} | "
                     f"{lo['wall_s']:.1f} / {lo['cpu_s']:.1f} | "
                     f"{lo['wall_s'] / max(f['wall_s'], 1e-9):.2f} / {lo['cpu_s'] / max(f['cpu_s'], 1e-9):.2f} |")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--landing", required=True)
    ap.add_argument("--as-of", dest="as_of", required=True, type=dt.date.fromisoformat)
    ap.add_argument("--entity", action="append", help="only this entity (<source>__<entity>); repeatable")
    ap.add_argument("--json", help="write the figures to this file")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-ingestion-") as tmp:
        report = run(Path(args.landing), args.as_of, Path(tmp), args.entity)
    print(markdown(report), end="")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=2))
    return report


if __name__ == "__main__":
    main()
