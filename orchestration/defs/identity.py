"""Identity resolution between the dbt layers (group `identity`)."""


import dagster as dg

from .. import charts
from ..identity.clusters import resolve
from ..identity.stitching import build_edges, unresolvable_records
from ..resources import DatamartResource
from .ingestion import OWNER, WAREHOUSE_POOL


@dg.asset(
    key=["identity", "record_clusters"],
    group_name="identity",
    kinds={"duckdb", "python"},
    owners=[OWNER],
    pool=WAREHOUSE_POOL,
    deps=[dg.AssetKey(["intermediate", "int_identity__records"]), dg.AssetKey(["intermediate", "int_identity__record_keys"])],
    description=(
        "Resolves every source record to one stable customer_id: deterministic stitching on "
        "trusted hard identifiers (e-mail, E.164 phone, loyalty card, account, CRM id, web "
        "logins), with guards against household and placeholder values; connected components; "
        "ids mapped onto the previous night's (merges and splits in identity.customer_id_history)."
    ),
)
def identity_resolution(context: dg.AssetExecutionContext, datamart: DatamartResource) -> dg.MaterializeResult:
    s = datamart.settings()
    with datamart.connect() as con:
        stitch = build_edges(con)
        unresolvable_records(con)
        stats = resolve(con, s.as_of)
    histogram = stats.pop("cluster_size_histogram")
    labels = [k if k != "10" else "10+" for k in histogram]
    picture = charts.bar_chart(labels, {"customers": list(histogram.values())},
                               "Source records per customer", "customers", log=True)
    return dg.MaterializeResult(metadata={
        **{k: v for k, v in stats.items() if not isinstance(v, dict)},
        "id_merges": stats["id_changes"]["merge"],
        "id_splits": stats["id_changes"]["split"],
        "identifier_values": stitch.values,
        "untrusted_values": stitch.untrusted_values,
        "ambiguous_contact_records": stitch.ambiguous_records,
        "cluster_sizes": picture,
    })
