"""The same refresh on DuckDB and on Spark, in one run: times and the published marts compared.

    python bench/bench_engines.py --scale s          # 20,000 customers x 365 days

For each engine (DATAMART_ENGINE=duckdb, then spark), in a child process each: a full refresh
of the cached landing zone as of its second-to-last day (the eve), then the next night (on DuckDB
also a night re-resolving every identity record, as Spark's nights do: the reference for Spark's). Step times
come from the Dagster run (bench_refresh.py's harness). Then every table of the two published
datamarts is compared (orchestration/engines/compare.py). Spark runs locally (local[2] by default,
DATAMART_SPARK_MASTER / DATAMART_SPARK_CONF to change it); it needs the `spark` extra.

Writes bench/results/engines-<scale>.json and .md. Figures are ratios within this one run: the
machine, its load and its disk are the same for both engines.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

import duckdb
from bench_refresh import CACHE, SCALES, landing_for, phase_in_child, summarise

from orchestration.identity.incremental import drop_state

ENGINES = ("duckdb", "spark")


def run_engine(engine: str, home: Path, landing: Path, eve: dt.date) -> dict:
    """The full refresh, then the night. The full refresh's datamart is kept beside the home
    (full.duckdb). On DuckDB the night also runs on a copy of the home without the identity
    step's incremental state (night_full_identity): a night that re-resolves every record, as
    every Spark night does."""
    os.environ["DATAMART_ENGINE"] = engine
    try:
        full = phase_in_child(home, landing, eve)
        if not full["ok"]:
            return {"full": full, "night": None}
        shutil.copy(home / "datamart.duckdb", home.parent / "full.duckdb")
        if engine == "duckdb":
            copy = home.parent / "full_identity" / "home"
            shutil.copytree(home, copy)
            with duckdb.connect(str(copy / "warehouse.duckdb")) as con:
                drop_state(con)
        night = phase_in_child(home, landing, eve + dt.timedelta(days=1))
        if engine == "duckdb":
            phase_in_child(copy, landing, eve + dt.timedelta(days=1))
    finally:
        os.environ.pop("DATAMART_ENGINE", None)
    return {"full": full, "night": night}


def comparisons(homes: dict[str, Path]) -> dict[str, dict]:
    """Spark's datamart against DuckDB's: after the full refresh; after the night, against the
    DuckDB night that re-resolved every record, and against the incremental one (whose carried-over
    pairs keep the probabilities of the night that scored them)."""
    from orchestration.engines.compare import compare_datamarts

    pairs = {"full refresh": (homes["duckdb"].parent / "full.duckdb", homes["spark"].parent / "full.duckdb"),
             "night (DuckDB identity re-resolving every record)": (
                 homes["duckdb"].parent / "full_identity" / "home" / "datamart.duckdb",
                 homes["spark"] / "datamart.duckdb"),
             "night (DuckDB identity incremental)": (homes["duckdb"] / "datamart.duckdb",
                                                      homes["spark"] / "datamart.duckdb")}
    out = {}
    for name, (a, b) in pairs.items():
        found = compare_datamarts(a, b)
        out[name] = {"tables": found.tables, "differences": found.differences}
    return out


def markdown(report: dict) -> str:
    title = (f"# Engines benchmark, scale {report['scale']} ({report['customers']:,} customers x "
             f"{report['days']} days), {report['started']}")
    lines = [title, "",
             f"Machine: {report['cpus']} cores; Spark master {report['spark_master']}.", "",
             "| phase | step group | duckdb wall s | spark wall s | spark / duckdb |", "|---|---|---|---|---|"]
    for phase in ("full", "night"):
        d, s = report["engines"]["duckdb"][phase], report["engines"]["spark"][phase]
        if not d or not s:
            continue
        dg_, sg = summarise(d)["groups"], summarise(s)["groups"]
        for group in sorted(set(dg_) | set(sg)):
            dw, sw = dg_.get(group, {}).get("wall_s", 0.0), sg.get(group, {}).get("wall_s", 0.0)
            ratio = f"{sw / dw:.2f}" if dw else "-"
            lines.append(f"| {phase} | {group} | {dw:.1f} | {sw:.1f} | {ratio} |")
        lines.append(f"| {phase} | **whole refresh** | {d['wall_s']:.1f} | {s['wall_s']:.1f} | "
                     f"{s['wall_s'] / d['wall_s']:.2f} |")
    # no peak RSS: ru_maxrss of children is the largest child so far (the engines would share one
    # figure), and Spark's memory is its JVM's, a grandchild
    lines.append("")
    for name, cmp_ in report.get("comparisons", {}).items():
        lines += [f"## Published datamarts compared: {name}", "",
                  f"{cmp_['tables']} tables compared, {len(cmp_['differences'])} with differences.", ""]
        if cmp_["differences"]:
            lines += [f"- {d}" for d in cmp_["differences"]] + [""]
    return "\n".join(lines).rstrip("\n") + "\n"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=sorted(SCALES), default="s")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--cache", default=str(CACHE))
    args = ap.parse_args(argv)

    landing, last_day = landing_for(args.scale, Path(args.cache))
    eve = last_day - dt.timedelta(days=1)
    customers, days = SCALES[args.scale]
    report = {"scale": args.scale, "customers": customers, "days": days, "as_of": eve.isoformat(),
              "started": dt.datetime.now().isoformat(timespec="seconds"), "cpus": os.cpu_count(),
              "spark_master": os.environ.get("DATAMART_SPARK_MASTER") or "local[2]", "engines": {}}
    with tempfile.TemporaryDirectory(prefix=f"bench-engines-{args.scale}-") as tmp:
        homes = {e: Path(tmp) / e / "home" for e in ENGINES}
        for engine in ENGINES:
            homes[engine].mkdir(parents=True)
            t0 = time.perf_counter()
            report["engines"][engine] = run_engine(engine, homes[engine], landing, eve)
            print(f"{engine}: {time.perf_counter() - t0:.0f}s", flush=True)
        if all(report["engines"][e]["night"] and report["engines"][e]["night"]["ok"] for e in ENGINES):
            report["comparisons"] = comparisons(homes)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"engines-{args.scale}.json").write_text(json.dumps(report, indent=2, default=str))
    (out / f"engines-{args.scale}.md").write_text(markdown(report))
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
