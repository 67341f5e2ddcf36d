"""Benchmark the nightly refresh: a full refresh, then a one-day incremental night.

    make bench SCALE=s        # s = 20,000 customers x 1 year, m = 200,000 x 2 years, l = 1,000,000 x 2 years

For a scale, the landing zone is generated once and cached (bench/cache/landing-<scale>). The
full refresh builds the night before the last day (every file but the last day's); the
incremental night then builds the last day, which brings only that day's files. Each phase
runs in its own process (peak RSS per phase) and records, per Dagster step, wall time and CPU
time (this process and the dbt subprocesses it waited for). In the same run the harness
measures the physical floor (DuckDB alone reading every landing file once into a table, no
logic) and the ingestion code called directly, without Dagster, so the report gives ratios
measured on one machine in one run (every landing file is read once first, so that all sides
read from the page cache):

- ingestion in Dagster / DuckDB's plain read of the same files,
- incremental night / full refresh,
- Dagster overhead (run wall time not spent inside a step, plus ingestion in Dagster vs direct),
- share of the refresh spent in quality checks.

Writes bench/results/refresh-<scale>.json and .md.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("OMP_NUM_THREADS", "1")

SCALES = {  # customers, days
    "tiny": (300, 60),
    "s": (20_000, 365),
    "m": (200_000, 730),
    "l": (1_000_000, 730),
}
START = dt.date(2024, 1, 1)
CACHE = ROOT / "bench" / "cache"


def landing_for(scale: str, cache: Path) -> tuple[Path, dt.date]:
    """The cached landing zone of a scale (generated on first use) and its last day.

    Generated in a child process: the generator holds every silo in pandas (~10 GB at scale l),
    memory this process would keep while the refresh phases run beside it."""
    customers, days = SCALES[scale]
    landing = cache / f"landing-{scale}"
    done = landing / ".complete"
    if not done.exists():
        shutil.rmtree(landing, ignore_errors=True)
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "orchestration.cli", "generate", "--out", str(landing),
                        "--customers", str(customers), "--days", str(days), "--start", START.isoformat(),
                        "--seed", "42", "--truth", str(cache / f"truth-{scale}")], cwd=ROOT, check=True)
        print(f"generated {scale} landing zone in {time.perf_counter() - t0:.0f}s", flush=True)
        done.write_text(dt.datetime.now().isoformat())
    return landing, START + dt.timedelta(days=days - 1)


# -- one phase, in a child process -------------------------------------------------------

def _load() -> str:
    """1-minute load average: how busy the (possibly shared) machine was."""
    try:
        return f"{os.getloadavg()[0]:.1f}"
    except OSError:
        return "?"


def _cpu() -> float:
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_phase(home: Path, landing: Path, as_of: dt.date) -> dict:
    """Run one refresh in this process; per-step wall and CPU seconds."""
    os.environ.update(DATAMART_HOME=str(home), DATAMART_LANDING_DIR=str(landing), DATAMART_AS_OF=as_of.isoformat())
    from orchestration.cli import run_refresh

    steps: dict[str, dict] = {}
    open_steps: dict[str, tuple[float, float]] = {}
    edges: list[float] = []  # first step start, last step end

    def observe(kind: str, step: str) -> None:
        if kind == "STEP_START":
            if not edges:
                edges.append(time.perf_counter())
            open_steps[step] = (time.perf_counter(), _cpu())
        elif kind in ("STEP_SUCCESS", "STEP_FAILURE") and step in open_steps:
            t0, c0 = open_steps.pop(step)
            steps[step] = {"wall_s": time.perf_counter() - t0, "cpu_s": _cpu() - c0}
            edges[1:] = [time.perf_counter()]

    t0, c0 = time.perf_counter(), _cpu()
    ok, _, problems = run_refresh(quiet=True, observer=observe)
    end = time.perf_counter()
    first, last = (edges + [end, end])[:2]
    return {"ok": ok, "problems": problems, "wall_s": end - t0, "cpu_s": _cpu() - c0, "steps": steps,
            # Dagster's own time outside the steps: loading the definitions and starting the run,
            # the gaps between steps, and closing the run
            "before_first_step_s": first - t0, "after_last_step_s": end - last}


def _child(args) -> None:
    result = run_phase(Path(args.home), Path(args.landing), dt.date.fromisoformat(args.as_of))
    Path(args.result).write_text(json.dumps(result))


def phase_in_child(home: Path, landing: Path, as_of: dt.date) -> dict:
    out = home.parent / f"phase-{as_of}.json"
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    subprocess.run([sys.executable, __file__, "--child", "--home", str(home), "--landing", str(landing),
                    "--as-of", as_of.isoformat(), "--result", str(out)], check=True)
    result = json.loads(out.read_text())
    # ru_maxrss of children is the largest of any child so far: report it when it grew
    result["peak_rss_mb"] = max(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss, before) / 1024
    return result


# -- floors and direct calls -----------------------------------------------------------------

def warm_page_cache(files: list[Path]) -> dict:
    """Read every landing file once, untimed by the sides it precedes: the floor, the direct call
    and the refresh then all read from the page cache. Without it the first side (the floor)
    read from disk and the later ones did not, which flattered the loader (200k: 0.93x)."""
    t0, size = time.perf_counter(), 0
    for path in files:
        with path.open("rb", buffering=0) as fh:
            while chunk := fh.read(8 << 20):
                size += len(chunk)
    return {"wall_s": time.perf_counter() - t0, "mb": size / 2**20}


def _files(landing: Path, spec, as_of: dt.date) -> list[str]:
    from orchestration.ingestion.loader import discover

    files, _ = discover(landing, spec, as_of)
    return [str(f.path) for f in files]


def plain_read_sql(spec, files: list[str]) -> str:
    """DuckDB's own reader on the files, no logic: the floor's scan."""
    if spec.fmt == "csv":
        return (f"read_csv({files}, delim='{spec.delimiter}', header=true, all_varchar=true, "
                "ignore_errors=true, null_padding=true)")
    return f"read_json({files}, format='newline_delimited', ignore_errors=true)"


def duckdb_floor(landing: Path, as_of: dt.date, work: Path) -> dict:
    """DuckDB alone reading every landing file once into a table: the physical floor of ingestion."""
    from orchestration.ingestion.specs import ENTITIES
    from orchestration.warehouse import connect

    con = connect(work / "floor.duckdb")
    t0, c0, rows = time.perf_counter(), _cpu(), 0
    for spec in ENTITIES:
        files = _files(landing, spec, as_of)
        if not files:
            continue
        con.execute(f"CREATE OR REPLACE TABLE t_{spec.name} AS SELECT * FROM {plain_read_sql(spec, files)}")
        rows += con.execute(f"SELECT count(*) FROM t_{spec.name}").fetchall()[0][0]
    result = {"wall_s": time.perf_counter() - t0, "cpu_s": _cpu() - c0, "rows": rows}
    con.close()
    return result


def ingestion_direct(landing: Path, as_of: dt.date, work: Path) -> dict:
    """The ingestion code called directly, without Dagster, on a fresh warehouse."""
    from orchestration.ingestion.loader import load_entity
    from orchestration.ingestion.specs import ENTITIES
    from orchestration.warehouse import connect

    con = connect(work / "direct.duckdb")
    t0, c0, rows = time.perf_counter(), _cpu(), 0
    for spec in ENTITIES:
        rows += load_entity(con, landing, spec, as_of, load_id="direct").rows_read
    result = {"wall_s": time.perf_counter() - t0, "cpu_s": _cpu() - c0, "rows": rows}
    con.close()
    return result


# -- report ----------------------------------------------------------------------------------

def _group(step: str) -> str:
    if step.startswith("ingest_"):
        return "ingestion"
    if "_gx_" in step:  # <first asset>_gx_<layer>: one GX step per layer (older runs: one per table)
        return "checks"
    if step.startswith("dbt_"):
        return step
    if step.startswith("publish__"):
        return "publish"
    return step


def summarise(phase: dict) -> dict:
    groups: dict[str, dict] = {}
    for step, t in phase["steps"].items():
        g = groups.setdefault(_group(step), {"wall_s": 0.0, "cpu_s": 0.0, "steps": 0})
        g["wall_s"] += t["wall_s"]
        g["cpu_s"] += t["cpu_s"]
        g["steps"] += 1
    in_steps = sum(t["wall_s"] for t in phase["steps"].values())
    between = phase["wall_s"] - in_steps
    before, after = phase.get("before_first_step_s", 0.0), phase.get("after_last_step_s", 0.0)
    return {"groups": groups, "in_steps_s": in_steps, "between_steps_s": between,
            "before_first_step_s": before, "after_last_step_s": after,
            "gaps_between_steps_s": between - before - after}


def markdown(report: dict) -> str:
    full, night = report["full"], report["incremental"]
    fs, ns = summarise(full), summarise(night)
    r = report["ratios"]
    lines = [
        f"# Refresh benchmark, scale {report['scale']} ({report['customers']:,} customers x {report['days']} days)",
        "",
        (f"Machine: {report['machine']}; load average {report.get('load_before', '?')} before, "
         f"{report.get('load_after', '?')} after the run (the machine may be shared). Landing zone: "
         f"{report['landing_files']:,} files, {report['landing_mb']:.0f} MB, {report['floor']['rows']:,} rows"
         + (f"; read once beforehand ({report['page_cache_warmed']['wall_s']:.1f} s), so that the floor, the "
            "direct call and the refresh all read from the page cache." if report.get("page_cache_warmed") else ".")),
        "",
        *(f"**The {name} FAILED ({'; '.join(phase['problems']) or 'see the log'}): its times, and every "
          "ratio built on them, are not a measurement.**\n" for name, phase in (("full refresh", full),
                                                                            ("one-day night", night))
          if not phase["ok"]),
        "| | full refresh | one-day night |",
        "|---|---:|---:|",
        f"| outcome | {'ok' if full['ok'] else 'FAILED'} | {'ok' if night['ok'] else 'FAILED'} |",
        f"| wall time | {full['wall_s']:.1f} s | {night['wall_s']:.1f} s |",
        f"| CPU time | {full['cpu_s']:.1f} s | {night['cpu_s']:.1f} s |",
        f"| peak RSS | {full['peak_rss_mb']:.0f} MB | {night['peak_rss_mb']:.0f} MB |",
        f"| rows per second (landing rows / wall) | {report['floor']['rows'] / full['wall_s']:,.0f} | |",
        (f"| ingestion rows per second (landing rows / ingestion wall) | "
         f"{report['floor']['rows'] / max(fs['groups'].get('ingestion', {}).get('wall_s', 0), 1e-9):,.0f} | |"),
        "",
        "| step group | full wall s | full CPU s | night wall s | night CPU s |",
        "|---|---:|---:|---:|---:|",
    ]
    for g in sorted(set(fs["groups"]) | set(ns["groups"]), key=lambda k: -fs["groups"].get(k, {}).get("wall_s", 0)):
        a, b = fs["groups"].get(g, {}), ns["groups"].get(g, {})
        lines.append(f"| {g} | {a.get('wall_s', 0):.1f} | {a.get('cpu_s', 0):.1f} | "
                     f"{b.get('wall_s', 0):.1f} | {b.get('cpu_s', 0):.1f} |")
    lines.append(f"| (outside steps: Dagster) | {fs['between_steps_s']:.1f} | | {ns['between_steps_s']:.1f} | |")
    for key, label in (("before_first_step_s", "loading definitions, starting the run"),
                       ("gaps_between_steps_s", "gaps between steps"), ("after_last_step_s", "closing the run")):
        lines.append(f"| &nbsp;&nbsp;of which {label} | {fs[key]:.1f} | | {ns[key]:.1f} | |")
    lines += [
        "",
        "| ratio (measured in this run) | value | target |",
        "|---|---:|---:|",
        (f"| ingestion in Dagster / DuckDB plain read ({report['floor']['wall_s']:.1f} s) | "
         f"{r['ingestion_vs_floor']:.2f} | <= 1.5 |"),
        f"| same, CPU time (less sensitive to a shared machine) | {r['ingestion_vs_floor_cpu']:.2f} | |",
        f"| ingestion called directly / DuckDB plain read | {r['direct_vs_floor']:.2f} | |",
        (f"| ingestion in Dagster / ingestion called directly ({report['ingestion_direct']['wall_s']:.1f} s) | "
         f"{r['ingestion_dagster_vs_direct']:.2f} | |"),
        f"| one-day night / full refresh | {r['incremental_vs_full']:.3f} | <= 0.10 |",
        f"| Dagster between-step overhead / full refresh | {r['dagster_overhead']:.3f} | |",
        f"| quality checks / full refresh | {r['checks_share']:.3f} | |",
        f"| Dagster + checks / full refresh | {r['dagster_and_checks']:.3f} | <= 0.15 |",
    ]
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> dict:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--scale", choices=sorted(SCALES), default="s")
    ap.add_argument("--out", default=str(ROOT / "bench" / "results"))
    ap.add_argument("--cache", default=str(CACHE))
    ap.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--keep-eve", dest="keep_eve", type=Path,
                    help="copy the home after the full refresh here (to replay the night under a profiler)")
    ap.add_argument("--home", help=argparse.SUPPRESS)
    ap.add_argument("--landing", help=argparse.SUPPRESS)
    ap.add_argument("--as-of", dest="as_of", help=argparse.SUPPRESS)
    ap.add_argument("--result", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.child:
        _child(args)
        return {}

    landing, last_day = landing_for(args.scale, Path(args.cache))
    load_before = _load()
    customers, days = SCALES[args.scale]
    files = [p for p in landing.rglob("*") if p.is_file() and not p.name.startswith(".")]
    with tempfile.TemporaryDirectory(prefix=f"bench-{args.scale}-") as tmp:
        work = Path(tmp)
        home = work / "home"
        eve = last_day - dt.timedelta(days=1)
        warm = warm_page_cache(files)
        floor = duckdb_floor(landing, eve, work)
        direct = ingestion_direct(landing, eve, work)
        print(f"floor {floor['wall_s']:.1f}s, ingestion direct {direct['wall_s']:.1f}s", flush=True)
        full = phase_in_child(home, landing, eve)
        print(f"full refresh {full['wall_s']:.1f}s ok={full['ok']}", flush=True)
        if args.keep_eve:  # the warehouse of the eve, to replay the night while profiling it
            shutil.rmtree(args.keep_eve, ignore_errors=True)
            shutil.copytree(home, args.keep_eve)
        night = phase_in_child(home, landing, last_day)
        print(f"one-day night {night['wall_s']:.1f}s ok={night['ok']}", flush=True)
    fs = summarise(full)
    ingestion = fs["groups"].get("ingestion", {}).get("wall_s", 0.0)
    ingestion_cpu = fs["groups"].get("ingestion", {}).get("cpu_s", 0.0)
    checks = fs["groups"].get("checks", {}).get("wall_s", 0.0)
    report = {
        "scale": args.scale, "customers": customers, "days": days, "as_of": eve.isoformat(),
        "machine": f"{platform.machine()}, {os.cpu_count()} CPUs, Python {platform.python_version()}, "
                   f"{platform.system()} {platform.release()}",
        "landing_files": len(files), "landing_mb": sum(p.stat().st_size for p in files) / 2**20,
        "load_before": load_before, "load_after": _load(), "page_cache_warmed": warm,
        "floor": floor, "ingestion_direct": direct, "full": full, "incremental": night,
        "ratios": {
            "ingestion_vs_floor": ingestion / floor["wall_s"],
            "ingestion_vs_floor_cpu": ingestion_cpu / max(floor["cpu_s"], 1e-9),
            "direct_vs_floor": direct["wall_s"] / floor["wall_s"],
            "ingestion_dagster_vs_direct": ingestion / direct["wall_s"],
            "incremental_vs_full": night["wall_s"] / full["wall_s"],
            "dagster_overhead": fs["between_steps_s"] / full["wall_s"],
            "checks_share": checks / full["wall_s"],
            "dagster_and_checks": (fs["between_steps_s"] + checks) / full["wall_s"],
        },
    }
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / f"refresh-{args.scale}.json").write_text(json.dumps(report, indent=2))
    (out / f"refresh-{args.scale}.md").write_text(markdown(report))
    print(markdown(report))
    return report


if __name__ == "__main__":
    main()
