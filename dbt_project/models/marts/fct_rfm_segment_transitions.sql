{{ config(
    materialized='incremental',
    incremental_strategy=history_strategy(),
    unique_key='snapshot_date',
    partition_by=history_partition_by('snapshot_date'),
    on_schema_change='append_new_columns',
    full_refresh=false
) }}
-- full_refresh=false: a full refresh rewrites tonight's snapshot only. Earlier snapshots are
-- history that staging cannot give back (replaying a night with DATAMART_AS_OF rewrites its own).
-- Segment moves between a night's RFM snapshot and the previous snapshot before it: one row per
-- customer in either snapshot. A customer absent from the previous snapshot enters (from_segment
-- null); one absent from tonight's leaves (to_segment null: merged into another id or erased).
with snapshots as (
    select customer_id, snapshot_date, rfm_segment, r_score, f_score, m_score
    from {{ ref('fct_customer_rfm') }}
),

tonight as (
    select * from snapshots where snapshot_date = {{ as_of_date() }}
),

previous_date as (
    select max(snapshot_date) as snapshot_date
    from snapshots
    where snapshot_date < {{ as_of_date() }}
),

previous as (
    select s.*
    from snapshots s
    join previous_date p on s.snapshot_date = p.snapshot_date
)

select
    coalesce(t.customer_id, p.customer_id) as customer_id,
    {{ as_of_date() }} as snapshot_date,
    pd.snapshot_date as previous_snapshot_date,
    p.rfm_segment as from_segment,
    t.rfm_segment as to_segment,
    cast(p.r_score as integer) as from_r_score,
    cast(t.r_score as integer) as to_r_score,
    cast(p.f_score as integer) as from_f_score,
    cast(t.f_score as integer) as to_f_score,
    case
        when p.customer_id is null then 'entered'
        when t.customer_id is null then 'left'
        when p.rfm_segment = t.rfm_segment then 'stayed'
        else 'moved'
    end as transition_type
from tonight t
full outer join previous p on p.customer_id = t.customer_id
cross join previous_date pd
