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
-- One snapshot per night: recency, frequency, monetary over every purchase up to the night.
-- Quintile scores rank customers with at least one purchase; equal values get equal scores, so
-- the named segment (rfm_segments seed, on r and f) is deterministic. A snapshot reads only
-- purchases and statuses as of its night: replaying a night (DATAMART_AS_OF) rewrites that
-- night's snapshot with the same numbers and leaves the other snapshots alone.

with purchases as (
    select customer_id, order_id, channel, order_date, net_amount
    from {{ ref('int_orders__purchases') }}
    where customer_id is not null and order_date <= {{ as_of_date() }}
),

per_customer as (
    select
        customer_id,
        {{ dbt.datediff('max(order_date)', as_of_date(), 'day') }} as recency_days,
        count(distinct {{ dbt.concat(['channel', "':'", 'order_id']) }}) as frequency,
        cast(sum(net_amount) as decimal(18, 2)) as monetary
    from purchases
    group by customer_id
),

scored as (
    select
        *,
        {{ quintile('recency_days', 'desc') }} as r_score,
        {{ quintile('frequency', 'asc') }} as f_score,
        {{ quintile('monetary', 'asc') }} as m_score
    from per_customer
)

select
    s.customer_id,
    {{ as_of_date() }} as snapshot_date,
    cast(s.recency_days as integer) as recency_days,
    cast(s.frequency as integer) as frequency,
    s.monetary,
    cast(s.r_score as integer) as r_score,
    cast(s.f_score as integer) as f_score,
    cast(s.m_score as integer) as m_score,
    seg.rfm_segment
from scored s
left join {{ ref('rfm_segments') }} seg on seg.r_score = s.r_score and seg.f_score = s.f_score
