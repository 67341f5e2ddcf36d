"""Python ML assets downstream of the marts (group `models`)."""


import dagster as dg

from ..resources import DatamartResource
from .ingestion import OWNER, WAREHOUSE_POOL

SCORES_TABLE = "marts.customer_scores"


@dg.asset(
    key=["marts", "customer_scores"],
    group_name="models",
    kinds={"sklearn", "duckdb"},
    owners=["team:data-science"],
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["marts", "dim_customer"]), dg.AssetKey(["marts", "fct_order_lines"])],
    description=(
        "Propensity to buy within 90 days (trained on an earlier cutoff, evaluated on a later "
        "one), expected 12-month value and a behavioural segment for every customer, as of the "
        "night. Metrics of the held-out evaluation are in the metadata."
    ),
)
def customer_scores(context: dg.AssetExecutionContext, datamart: DatamartResource) -> dg.MaterializeResult:
    from models_ml.scoring import build_customer_scores  # sklearn import is slow: load lazily

    s = datamart.settings()
    with datamart.connect() as con:
        scores, metrics = build_customer_scores(con, s.as_of)
        con.register("_scores_df", scores)
        con.execute("CREATE SCHEMA IF NOT EXISTS marts")
        con.execute(f"CREATE OR REPLACE TABLE {SCORES_TABLE} AS SELECT * FROM _scores_df")
        con.unregister("_scores_df")
        rows = con.execute(f"SELECT count(*) FROM {SCORES_TABLE}").fetchall()[0][0]
    return dg.MaterializeResult(metadata={"dagster/row_count": rows, **_flatten(metrics)})


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, f"{key}."))
        elif isinstance(v, (int, float, str, bool)) or v is None:
            out[key] = v
        else:
            out[key] = dg.MetadataValue.json(v) if isinstance(v, list) else str(v)
    return out
