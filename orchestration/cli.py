"""`datamart` command line: generate sample silos, run the nightly refresh, summarise the datamart."""

from __future__ import annotations

import argparse
import datetime as dt
import logging
import os
import sys
import time
from pathlib import Path

from .settings import Settings


def _generate(args: argparse.Namespace) -> int:
    from .sample_silos import generate

    start = dt.date.fromisoformat(args.start) if args.start else dt.date.today() - dt.timedelta(days=args.days)
    t0 = time.perf_counter()
    summary = generate(Path(args.out), customers=args.customers, days=args.days, start=start, seed=args.seed,
                       truth_out=Path(args.truth) if args.truth else None)
    print(f"landing zone written to {Path(args.out).resolve()} in {time.perf_counter() - t0:.1f}s")
    for key in ("files_written", "persons", "bad_rows"):
        if key in summary:
            print(f"  {key}: {summary[key]}")
    return 0


class _ProgressHandler(logging.Handler):
    """Prints one line per step and per failed check from Dagster's event stream."""

    def __init__(self, quiet: bool = False, observer=None) -> None:
        super().__init__()
        self.quiet = quiet
        self.observer = observer  # called with (event kind, step key): the benchmark times steps
        self.started: dict[str, float] = {}
        self.failed_checks: list[str] = []
        self.failed_steps: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        event = getattr(record, "dagster_event", None)
        if event is None:
            return
        kind, step = event.event_type_value, event.step_key
        if self.observer is not None and step:
            self.observer(kind, step)
        say = (lambda *a, **k: None) if self.quiet else print
        if kind == "STEP_START":
            self.started[step] = time.perf_counter()
            say(f"  ▶ {step}", flush=True)
        elif kind == "STEP_SUCCESS":
            say(f"  ✔ {step} ({time.perf_counter() - self.started.get(step, time.perf_counter()):.1f}s)",
                  flush=True)
        elif kind == "STEP_FAILURE":
            self.failed_steps.append(step)
            err = event.step_failure_data.error if event.step_failure_data else None
            while err is not None and err.cause is not None:  # the user-code error, not the wrapper
                err = err.cause
            why = f"{err.cls_name}: {err.message.strip().splitlines()[0]}" if err else ""
            say(f"  ✘ {step} failed: {why}", flush=True)
        elif kind in ("RESOURCE_INIT_FAILURE", "RUN_FAILURE") and event.message:
            self.failed_steps.append(f"run ({event.message.strip().splitlines()[0]})")
            say(f"  ✘ {event.message.strip().splitlines()[0]}", flush=True)
        elif kind == "STEP_SKIPPED":
            say(f"  – {step} skipped (an upstream step or blocking check failed)", flush=True)
        elif kind == "ASSET_CHECK_EVALUATION":
            data = event.event_specific_data
            if not data.passed:
                name = f"{data.asset_key.to_user_string()}:{data.check_name}"
                if getattr(data.severity, "value", "ERROR") == "WARN":
                    say(f"  ⚠ check {name} warns (not blocking)", flush=True)
                    suffix = ".warned"
                else:
                    self.failed_checks.append(name)
                    say(f"  ✘ check {name} failed", flush=True)
                    suffix = ".failed"
                # which expectations failed or warned, with counts only (the metadata never holds values)
                for key, value in (data.metadata or {}).items():
                    if key.endswith(suffix) and getattr(value, "value", value) != "none":
                        say(f"      {key[:-len(suffix)]}: {getattr(value, 'value', value)}", flush=True)


def run_refresh(quiet: bool = False, event_log: list[str] | None = None,
                wait_s: float = 0.0, observer=None) -> tuple[bool, Settings, list[str]]:
    """Run the nightly_refresh job in this process. Returns (published, settings, problems).
    With `event_log`, every message and metadata value of the run's event log is appended to it.
    Raises WarehouseBusy when another refresh holds the warehouse for longer than `wait_s`."""
    from .locking import warehouse_write_lock

    settings = Settings.from_env()
    with warehouse_write_lock(settings.home, wait_s=wait_s):
        return _run_refresh_locked(settings, quiet, event_log, observer)


def _run_refresh_locked(settings: Settings, quiet: bool, event_log: list[str] | None, observer):
    import dagster as dg

    from .definitions import defs

    job = defs.resolve_job_def("nightly_refresh")
    handler = _ProgressHandler(quiet, observer)

    @dg.logger
    def progress(_init_context):
        # a private logger, not the process-wide one: each refresh gets its own handler
        logger = logging.Logger("datamart.progress", level=logging.DEBUG)  # noqa: LOG001
        logger.addHandler(handler)
        return logger

    instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else dg.DagsterInstance.ephemeral()
    job = job.with_logger_defs({"progress": progress})
    result = job.execute_in_process(instance=instance, raise_on_error=False,
                                    run_config={"loggers": {"progress": {}}})
    published = any(
        e.event_type_value == "ASSET_MATERIALIZATION"
        and e.asset_key == dg.AssetKey(["publish", "datamart"])
        for e in result.all_events
    )
    problems = [f"step {s} failed" for s in handler.failed_steps] + [f"check {c} failed" for c in handler.failed_checks]
    if not published and not problems:
        problems.append("the datamart was not published")
    if event_log is not None:
        for entry in instance.all_logs(result.run_id):
            event_log.append(entry.user_message or "")
            event = entry.dagster_event
            if event is not None:
                event_log.append(event.message or "")
                event_log.append(repr(event.event_specific_data))
    return result.success and published, settings, problems


def summary_lines(path: Path) -> list[str]:
    from .warehouse import open_warehouse

    with open_warehouse(path, read_only=True) as con:
        customers = con.execute("SELECT count(*) FROM marts.dim_customer").fetchone()[0]
        orders, revenue = con.execute(
            "SELECT count(DISTINCT channel || order_id), coalesce(sum(net_amount), 0) "
            "FROM marts.fct_order_lines WHERE is_purchase").fetchone()
        segments = con.execute(
            "SELECT segment, count(*) FROM marts.customer_scores GROUP BY 1 ORDER BY 2 DESC").fetchall()
    lines = [f"  customers: {customers:,}", f"  orders:    {orders:,}", f"  revenue:   {revenue:,.2f} EUR",
             "  segments:"]
    lines += [f"    {name:<28} {n:>8,}" for name, n in segments]
    return lines


def _refresh(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    print(f"refreshing the datamart as of {settings.as_of} from {settings.landing_dir}")
    from .locking import WarehouseBusy

    t0 = time.perf_counter()
    try:
        ok, settings, problems = run_refresh(wait_s=args.wait)
    except WarehouseBusy as busy:
        print(f"refresh refused: {busy}", file=sys.stderr)
        return 3
    if not ok:
        print(f"\nrefresh FAILED after {time.perf_counter() - t0:.0f}s: " + "; ".join(problems), file=sys.stderr)
        if settings.published_path.exists():
            print(f"the last good datamart is untouched: {settings.published_path}", file=sys.stderr)
        return 1
    print(f"\nrefresh done in {time.perf_counter() - t0:.0f}s; datamart published at {settings.published_path}")
    for line in summary_lines(settings.published_path):
        print(line)
    return 0


def _summary(args: argparse.Namespace) -> int:
    settings = Settings.from_env()
    if not settings.published_path.exists():
        print(f"no published datamart at {settings.published_path}", file=sys.stderr)
        return 1
    print(f"datamart: {settings.published_path}")
    for line in summary_lines(settings.published_path):
        print(line)
    return 0


def _status(args: argparse.Namespace) -> int:
    from .warehouse import open_warehouse, table_exists

    settings = Settings.from_env()
    path = settings.published_path
    if not path.exists():
        print(f"no published datamart yet at {path} (run `datamart refresh`)")
        return 1
    with open_warehouse(path, read_only=True) as con:
        info = con.execute("SELECT as_of, published_at, run_id FROM audit.refresh_info").fetchall()
        as_of, published_at, run_id = info[0] if info else (None, None, None)
        print(f"published datamart: {path} ({path.stat().st_size / 1e6:.1f} MB)")
        print(f"  night (as of):    {as_of}")
        print(f"  published at:     {published_at}")
        print(f"  run:              {run_id}")
        print("  tables:")
        for (table,) in con.execute("SELECT table_name FROM information_schema.tables "
                                    "WHERE table_schema = 'marts' ORDER BY 1").fetchall():
            n = con.execute(f"SELECT count(*) FROM marts.{table}").fetchall()[0][0]
            print(f"    marts.{table:<28} {n:>12,}")
        print("  last night's load accounting (files, rows read = loaded + quarantined):")
        rows = con.execute("""
            SELECT source || '/' || entity, count(*), sum(rows_read), sum(rows_loaded), sum(rows_quarantined),
                   count(*) FILTER (WHERE status = 'refused')
            FROM audit.load_log WHERE load_id = ? GROUP BY 1 ORDER BY 1""", [run_id]).fetchall()
        if not rows:
            print("    no new landing file that night")
        for entity, files, read, ok, bad, refused in rows:
            extra = f", {refused} file(s) refused" if refused else ""
            print(f"    {entity:<28} {files:>4} files {read:>10,} = {ok:>10,} + {bad:>6,}{extra}")
        if table_exists(con, "audit.check_results"):
            checks = con.execute("""SELECT count(*), count(*) FILTER (WHERE NOT passed) FROM audit.check_results
                                    WHERE run_id = ?""", [run_id]).fetchall()[0]
            print(f"  quality checks of that run: {checks[0]} run, {checks[1]} failed")
    return 0


def _erase(args: argparse.Namespace) -> int:
    """File a privacy request into the landing zone, as the privacy silo would."""
    import csv
    import uuid
    from zoneinfo import ZoneInfo

    if not (args.email or args.phone or args.crm_id):
        print("give at least one of --email, --phone, --crm-id", file=sys.stderr)
        return 2
    settings = Settings.from_env()
    now = dt.datetime.now(ZoneInfo("Europe/Paris")).replace(microsecond=0, tzinfo=None)
    folder = settings.landing_dir / "privacy" / "requests"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{now.date().isoformat()}.csv"
    header = ["request_id", "requested_at", "request_type", "email", "phone", "crm_id"]
    request_id = f"CLI-{uuid.uuid4().hex[:12]}"
    new = not path.exists()
    with path.open("a", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, lineterminator="\n")
        if new:
            writer.writerow(header)
        writer.writerow([request_id, now.isoformat(), args.type, args.email or "", args.phone or "", args.crm_id or ""])
    # the identifiers are personal data: confirm without echoing them
    print(f"{args.type} request {request_id} filed in {path.relative_to(settings.landing_dir)}; "
          "it takes effect at the next refresh")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="datamart", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    gen = sub.add_parser("generate", help="write a realistic sample landing zone (and its ground truth)")
    gen.add_argument("--out", required=True, help="landing zone folder to write")
    gen.add_argument("--customers", type=int, default=20_000)
    gen.add_argument("--days", type=int, default=365)
    gen.add_argument("--start", help="first day, YYYY-MM-DD (default: DAYS days ago)")
    gen.add_argument("--seed", type=int, default=42)
    gen.add_argument("--truth", help="ground-truth folder (default: <out>_truth beside the landing zone)")
    gen.set_defaults(func=_generate)

    ref = sub.add_parser("refresh", help="run the nightly refresh (DATAMART_LANDING_DIR, DATAMART_HOME, DATAMART_AS_OF)")
    ref.add_argument("--wait", type=float, default=0.0, metavar="SECONDS",
                     help="when another refresh is running, wait this long for it instead of refusing at once")
    ref.set_defaults(func=_refresh)

    summ = sub.add_parser("summary", help="summarise the published datamart")
    summ.set_defaults(func=_summary)

    stat = sub.add_parser("status", help="last refresh, published version, checks and load accounting")
    stat.set_defaults(func=_status)

    erase = sub.add_parser("erase", help="file a GDPR erasure (or objection) request into the landing zone")
    erase.add_argument("--email")
    erase.add_argument("--phone")
    erase.add_argument("--crm-id", dest="crm_id")
    erase.add_argument("--type", choices=["erasure", "objection"], default="erasure")
    erase.set_defaults(func=_erase)

    args = parser.parse_args(argv)
    return args.func(args)


if __name__ == "__main__":
    sys.exit(main())
