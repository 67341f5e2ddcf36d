"""Cost of a night: a full dbt build versus a one-day incremental refresh, through the real pipeline.

    .venv/bin/python bench/bench_dbt.py --customers 200000 --days 730   # the issue's scale
    .venv/bin/python bench/bench_dbt.py --customers 20000 --days 365    # a quick look

1. generates (once, cached under --work) `customers` people over `days + 1` days of silos;
2. night 1: a fresh home, the landing zone without its last day, the whole nightly job as of the
   day before the last (ingestion, checks, dbt staging, identity, dbt marts, models, publish):
   every dbt model is built from scratch (the full build);
3. night 2: the last day's files land, the nightly job runs as of that day: ingestion loads only
   the new files and the incremental models rebuild only their window (the incremental night);
4. (unless --no-full-rebuild) night 2 again with the launchpad's `full_refresh: true`: a full dbt
   rebuild at the same history, the fairest denominator of the ratio.

Prints a JSON document and a markdown table: per step wall and CPU times, the dbt times (staging +
marts), their ratio (target: incremental < 10 % of full) in wall and in CPU time (steadier on a
shared machine), the whole job's ratio and the peak RSS. Personal data never printed.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import logging
import os
import resource
import shutil
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

DBT_STEPS = ("dbt_staging", "dbt_marts")


def generate_cached(work: Path, customers: int, days: int, start: dt.date, seed: int) -> Path:
    """The landing zone of `days + 1` days, generated once per (customers, days, start, seed)."""
    from orchestration.sample_silos import generate

    cache = work / f"cache_{customers}x{days + 1}"
    landing = cache / "landing"
    stamp = cache / "params.json"
    params = {"customers": customers, "days": days + 1, "start": start.isoformat(), "seed": seed}
    if landing.exists() and stamp.exists() and json.loads(stamp.read_text()) == params:
        return landing
    shutil.rmtree(cache, ignore_errors=True)
    t0 = time.perf_counter()
    generate(landing, customers=customers, days=days + 1, start=start, seed=seed, truth_out=cache / "landing_truth")
    print(f"generated {customers:,} customers x {days + 1} days in {time.perf_counter() - t0:.0f}s", file=sys.stderr)
    stamp.write_text(json.dumps(params))
    return landing


def link_landing(source: Path, target: Path, last_day: dt.date, include_last_day: bool) -> int:
    """Hard-link (copy when linking fails) the landing files into target; the last day's files only
    when asked. Returns the number of files added."""
    added = 0
    suffix = last_day.isoformat()
    for path in source.rglob("*.*"):
        if path.stem == suffix and not include_last_day:
            continue
        dest = target / path.relative_to(source)
        if dest.exists():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        try:
            os.link(path, dest)
        except OSError:
            shutil.copy2(path, dest)
        added += 1
    return added


def _cpu() -> float:
    """CPU seconds of this process and of the subprocesses it waited for (dbt)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


class _StepCpu(logging.Handler):
    """CPU seconds per step from Dagster's event stream (the in-process executor runs one step at a
    time, so the deltas belong to the step; the machine is shared, CPU time is steadier than wall)."""

    def __init__(self) -> None:
        super().__init__()
        self.open: dict[str, float] = {}
        self.cpu: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is None or not event.step_key:
            return
        if event.event_type_value == "STEP_START":
            self.open[event.step_key] = _cpu()
        elif event.event_type_value in ("STEP_SUCCESS", "STEP_FAILURE") and event.step_key in self.open:
            self.cpu[event.step_key] = round(_cpu() - self.open.pop(event.step_key), 1)


def run_night(home: Path, landing: Path, as_of: dt.date, full_refresh: bool = False) -> dict:
    """The nightly_refresh job in-process; wall and CPU time per step (seconds)."""
    import dagster as dg

    from orchestration.definitions import defs

    os.environ.update({"DATAMART_HOME": str(home), "DATAMART_LANDING_DIR": str(landing),
                       "DATAMART_AS_OF": as_of.isoformat()})
    run_config: dict = {"loggers": {"step_cpu": {}}}
    if full_refresh:
        run_config["ops"] = {step: {"config": {"full_refresh": True}} for step in DBT_STEPS}
    handler = _StepCpu()

    @dg.logger
    def step_cpu(_init_context):
        logger = logging.Logger("bench.step_cpu", level=logging.DEBUG)
        logger.addHandler(handler)
        return logger

    instance = dg.DagsterInstance.ephemeral()
    job = defs.resolve_job_def("nightly_refresh").with_logger_defs({"step_cpu": step_cpu})
    t0, c0 = time.perf_counter(), _cpu()
    result = job.execute_in_process(instance=instance, raise_on_error=False, run_config=run_config)
    wall, cpu = time.perf_counter() - t0, _cpu() - c0
    if not result.success:
        failed = [e.step_key for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
        raise SystemExit(f"the night {as_of} failed at {failed}")
    steps = {s.step_key: round((s.end_time or 0) - (s.start_time or 0), 1)
             for s in instance.get_run_step_stats(result.run_id)}
    ingestion = sum(v for k, v in steps.items() if k.startswith(("raw__", "ingest")))
    night = {"as_of": as_of.isoformat(), "full_refresh": full_refresh, "wall_s": round(wall, 1),
             "cpu_s": round(cpu, 1),
             "dbt_s": round(sum(steps.get(s, 0.0) for s in DBT_STEPS), 1),
             "dbt_cpu_s": round(sum(handler.cpu.get(s, 0.0) for s in DBT_STEPS), 1),
             "dbt_staging_s": steps.get("dbt_staging"), "dbt_marts_s": steps.get("dbt_marts"),
             "ingestion_and_raw_checks_s": round(ingestion, 1), "steps": steps, "steps_cpu": handler.cpu}
    print(f"night {as_of} done: {json.dumps(night)}", file=sys.stderr, flush=True)  # partial results
    return night


def table_sizes(home: Path) -> dict:
    from orchestration.warehouse import open_warehouse

    with open_warehouse(home / "warehouse.duckdb", read_only=True) as con:
        out = {}
        for table in ("staging.stg_esp__events", "staging.stg_web__events", "staging.stg_pos__receipt_lines",
                      "marts.fct_order_lines", "marts.fct_message_events", "marts.fct_web_sessions",
                      "marts.dim_customer"):
            out[table] = con.execute(f"SELECT count(*) FROM {table}").fetchall()[0][0]
    return out


def markdown(report: dict) -> str:
    full, inc = report["full_build"], report["incremental_night"]
    rebuild = report.get("full_rebuild_same_night")
    rows = [("night", "as of", "whole job (s)", "job CPU (s)", "dbt staging (s)", "dbt marts (s)", "dbt total (s)",
             "dbt CPU (s)")]
    for name, r in [("1. full build (fresh home)", full), ("2. one-day incremental", inc),
                    ("2'. same night, full_refresh", rebuild)]:
        if r:
            rows.append((name, r["as_of"], r["wall_s"], r.get("cpu_s"), r["dbt_staging_s"], r["dbt_marts_s"],
                         r["dbt_s"], r.get("dbt_cpu_s")))
    lines = ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    lines.insert(1, "|" + "---|" * len(rows[0]))
    lines.append("")
    lines.append(f"incremental dbt / full dbt build: **{report['ratio_vs_full_build']:.1%}**"
                 + (f"; / full rebuild of the same night: **{report['ratio_vs_full_rebuild']:.1%}**"
                    if report.get("ratio_vs_full_rebuild") is not None else "")
                 + " (target < 10 %)")
    lines.append(f"in CPU time: / full dbt build **{report['cpu_ratio_vs_full_build']:.1%}**; whole job / full "
                 f"job **{report['job_ratio_vs_full_build']:.1%}** (wall), **{report['job_cpu_ratio_vs_full_build']:.1%}** (CPU)")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--customers", type=int, default=200_000)
    p.add_argument("--days", type=int, default=730, help="days of history before the incremental night")
    p.add_argument("--start", type=dt.date.fromisoformat, default=dt.date(2024, 1, 1))
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--work", type=Path, default=Path(os.environ.get("DATAMART_BENCH_DIR", "/tmp/bench_dbt")))
    p.add_argument("--no-full-rebuild", action="store_true", help="skip night 2 with full_refresh")
    p.add_argument("--json-out", type=Path, help="also write the JSON report there")
    args = p.parse_args(argv)
    os.environ.setdefault("OMP_NUM_THREADS", "1")

    cached = generate_cached(args.work, args.customers, args.days, args.start, args.seed)
    last_day = args.start + dt.timedelta(days=args.days)
    run_dir = args.work / f"run_{args.customers}x{args.days}"
    shutil.rmtree(run_dir, ignore_errors=True)
    landing, home = run_dir / "landing", run_dir / "home"
    home.mkdir(parents=True)
    files_history = link_landing(cached, landing, last_day, include_last_day=False)

    full = run_night(home, landing, last_day - dt.timedelta(days=1))
    files_night = link_landing(cached, landing, last_day, include_last_day=True)
    incremental = run_night(home, landing, last_day)
    report = {"customers": args.customers, "history_days": args.days, "files_history": files_history,
              "files_incremental_night": files_night, "full_build": full, "incremental_night": incremental}
    if not args.no_full_rebuild:
        report["full_rebuild_same_night"] = run_night(home, landing, last_day, full_refresh=True)
    report["ratio_vs_full_build"] = incremental["dbt_s"] / full["dbt_s"]
    report["cpu_ratio_vs_full_build"] = incremental["dbt_cpu_s"] / full["dbt_cpu_s"]
    report["job_ratio_vs_full_build"] = incremental["wall_s"] / full["wall_s"]
    report["job_cpu_ratio_vs_full_build"] = incremental["cpu_s"] / full["cpu_s"]
    rebuild = report.get("full_rebuild_same_night")
    report["ratio_vs_full_rebuild"] = incremental["dbt_s"] / rebuild["dbt_s"] if rebuild else None
    report["rows"] = table_sizes(home)
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    text = json.dumps(report, indent=2)
    print(text)
    print()
    print(markdown(report))
    if args.json_out:
        args.json_out.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
