"""Identity resolution between the dbt layers (group `identity`)."""

import json
import time

import dagster as dg
from pydantic import Field

from .. import charts
from ..engines import engine, identity_spark
from ..identity import probabilistic
from ..identity.incremental import resolve_night
from ..resources import DatamartResource
from .ingestion import OWNER, WAREHOUSE_POOL


class IdentityConfig(dg.Config):
    retrain: bool = Field(
        default=False,
        description="Retrain the Splink model on tonight's records (saved to $DATAMART_HOME/identity/"
                    "splink_model.json, which then wins over the model shipped with the project). A first "
                    "build and a full refresh retrain without asking when the warehouse holds enough named "
                    "records; an ordinary night never does.")
    full_refresh: bool = Field(
        default=False,
        description="Re-resolve every record (score every candidate pair again, stitch and cluster everything) "
                    "instead of only the records tonight's new and changed records can reach.")


_INPUTS = [dg.AssetKey(["intermediate", "int_identity__records"]),
           dg.AssetKey(["intermediate", "int_identity__record_keys"])]


@dg.multi_asset(
    specs=[
        dg.AssetSpec(
            ["identity", "record_clusters"], group_name="identity", kinds={"duckdb", "python"}, owners=[OWNER],
            deps=_INPUTS,
            description=(
                "Resolves every source record to one stable customer_id, in two stages feeding one graph: "
                "deterministic stitching on trusted hard identifiers (e-mail, E.164 phone, loyalty card, "
                "account, CRM id, web logins, partner appends; household, role and placeholder values "
                "guarded), and Splink probabilistic matching of named records on names, birth date and "
                "address (saved model, incremental nightly scoring, twin and parent/child guards). "
                "Connected components with a size guard; ids mapped onto the previous night's (merges and "
                "splits in identity.customer_id_history)."),
        ),
        dg.AssetSpec(
            ["identity", "match_evidence"], group_name="identity", kinds={"duckdb", "python"}, owners=[OWNER],
            deps=_INPUTS,
            description="The scored pairs (levels and match weights, no values) behind every probabilistic link.",
        ),
    ],
    pool=WAREHOUSE_POOL,
)
def identity_resolution(context: dg.AssetExecutionContext, config: IdentityConfig, datamart: DatamartResource):
    s = datamart.settings()
    home_model = s.home / "identity" / "splink_model.json"
    timings = {}
    with datamart.connect() as con:
        t0 = time.perf_counter()
        # the warehouse's own records estimate the model (u by random sampling, m by EM, term
        # frequencies from the data): on a first build, a full refresh or on demand
        trained = config.retrain or ((config.full_refresh or not home_model.exists())
                                     and probabilistic.enough_to_train(con))
        if trained:
            trained_model = probabilistic.train(con.sql(probabilistic.input_sql()).to_arrow_table())
            home_model.parent.mkdir(parents=True, exist_ok=True)
            home_model.write_text(json.dumps(trained_model, indent=2))
            context.log.info("Splink model retrained and saved beside the warehouse")
        model = probabilistic.load_model(home_model)
        timings["training_s"] = time.perf_counter() - t0

        if engine() == "spark":  # every night a full one (engines/identity_spark.py)
            night = identity_spark.run(con, s.home, home_model, s.as_of)
        else:
            night = resolve_night(con, model, full=config.full_refresh, as_of=s.as_of)
        timings.update(night.timings)
    stats, match, stitch = night.stats, night.match, night.stitch
    context.log.info(f"identity: {stats['customers']} customers, {match.mode} matching of "
                     f"{match.compared_records} records, {match.links} probabilistic links, "
                     f"{night.mode} placement of {night.scope_records} records")
    histogram = stats.pop("cluster_size_histogram")
    changes = stats.pop("id_changes")
    labels = [k if k != "10" else "10+" for k in histogram]
    picture = charts.bar_chart(labels, {"customers": list(histogram.values())},
                               "Source records per customer", "customers", log=True)
    yield dg.MaterializeResult(asset_key=["identity", "match_evidence"], metadata={
        "dagster/row_count": stats["probabilistic_links_used"]})
    yield dg.MaterializeResult(asset_key=["identity", "record_clusters"], metadata={
        "dagster/row_count": stats["records"],
        **stats,
        "id_merges": changes["merge"],
        "id_splits": changes["split"],
        "identifier_values": stitch.values,
        "untrusted_values": stitch.untrusted_values,
        "ambiguous_contact_records": stitch.ambiguous_records,
        **match.as_metadata(),
        **night.as_metadata(),
        "model": "retrained tonight" if trained else ("$DATAMART_HOME" if home_model.exists() else "shipped"),
        "model_fingerprint": probabilistic.model_fingerprint(model),
        "cluster_size_histogram": dg.MetadataValue.json(histogram),
        **{k: round(v, 2) for k, v in timings.items()},
        "cluster_sizes": picture,
    })
