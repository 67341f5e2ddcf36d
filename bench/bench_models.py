"""Benchmark: training and scoring the customer models at scale (default 1,000,000 customers).

Builds `marts.fct_order_lines` and `marts.dim_customer` with real signal directly in DuckDB
(SQL, no Python loops), then times `build_customer_scores` (backtest of three candidate models,
refit, scoring, BG/NBD + Gamma-Gamma, KMeans with stability, decision tree) and reports wall
and CPU time, peak memory and the model metrics. Writes bench/results/models-<n>.json and .md.

    .venv/bin/python bench/bench_models.py --customers 1000000
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import resource
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("OMP_NUM_THREADS", "1")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from models_ml.scoring import build_customer_scores  # noqa: E402
from orchestration.warehouse import connect  # noqa: E402

AS_OF = dt.date(2025, 12, 31)


def build(con, customers: int, seed: int) -> int:
    con.execute(f"SELECT setseed({(seed % 1000) / 1000})")
    con.execute("CREATE SCHEMA marts")
    con.execute(f"""
        CREATE TABLE people AS
        SELECT 'C' || lpad(i::VARCHAR, 8, '0') AS customer_id,
               exp(random() * 2.5 - 1.5) AS rate,              -- purchases per year, long-tailed
               CAST(random() * 900 AS INTEGER) AS churn_day,    -- stops buying after this day
               DATE '2024-01-01' + CAST(random() * 500 AS INTEGER) AS first_seen
        FROM range({customers}) t(i)
    """)
    con.execute("""
        CREATE TABLE marts.fct_order_lines AS
        WITH draws AS (
            SELECT p.*, unnest(range(CAST(ceil(rate * 2 + 1) AS INTEGER))) AS k FROM people p
        )
        SELECT customer_id || '-' || k AS order_id, 1 AS line_no, customer_id, 
               CASE WHEN random() < 0.5 THEN 'web' ELSE 'store' END AS channel,
               first_seen + CAST(random() * least(churn_day, date_diff('day', first_seen, DATE '2025-12-31') + 90) AS INTEGER) AS order_date,
               round(exp(random() + 2.5), 2)::DECIMAL(18, 2) AS net_amount, true AS is_purchase
        FROM draws WHERE random() < rate / (rate + 0.5)
    """)
    con.execute("""
        CREATE TABLE marts.dim_customer AS
        SELECT customer_id, first_seen::TIMESTAMP AS first_seen_at, 1 AS source_count,
               DATE '1950-01-01' + CAST(random() * 20000 AS INTEGER) AS birth_date,
               CAST(1 + random() * 4 AS INTEGER) AS household_size, CAST(random() * 3 AS INTEGER) AS children_count
        FROM people
    """)
    return con.execute("SELECT count(*) FROM marts.fct_order_lines").fetchall()[0][0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        con = connect(Path(tmp) / "bench.duckdb")
        t0 = time.perf_counter()
        lines = build(con, args.customers, args.seed)
        built = time.perf_counter() - t0
        cpu0, t0 = time.process_time(), time.perf_counter()
        meta = build_customer_scores(con, AS_OF, model_dir=Path(tmp) / "models")
        wall, cpu = time.perf_counter() - t0, time.process_time() - cpu0
        con.close()
    p, seg = meta["propensity"], meta["segmentation"]
    result = {
        "customers": args.customers, "order_lines": lines, "data_build_s": round(built, 1),
        "train_and_score_wall_s": round(wall, 1), "train_and_score_cpu_s": round(cpu, 1),
        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        "model": p.get("model"), "roc_auc": round(p.get("roc_auc", float("nan")), 4),
        "baseline_recency_roc_auc": round(p.get("baseline_recency_roc_auc", float("nan")), 4),
        "top_decile_lift": round(p.get("top_decile_lift", float("nan")), 3),
        "silhouette": seg.get("silhouette"), "seed_ari_min": seg.get("seed_ari_min"),
        "bootstrap_ari_min": seg.get("bootstrap_ari_min"), "smallest_segment_share": seg.get("smallest_segment_share"),
        "machine": f"{os.cpu_count()} cores",
    }
    out = Path(__file__).resolve().parent / "results"
    out.mkdir(exist_ok=True)
    (out / f"models-{args.customers}.json").write_text(json.dumps(result, indent=2))
    md = "| measure | value |\n|---|---|\n" + "\n".join(f"| {k} | {v} |" for k, v in result.items())
    (out / f"models-{args.customers}.md").write_text(md + "\n")
    print(md)


if __name__ == "__main__":
    main()
