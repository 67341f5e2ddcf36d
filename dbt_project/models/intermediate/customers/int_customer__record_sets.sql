{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='append_new_columns'
) }}
-- Per customer id: how many source records the identity step placed under it, a checksum of
-- which ones, and the night that set last changed (a merge, a split, a record that moved, a
-- new record, a new person; an id retired by a merge keeps a row with no records). The
-- incremental marts (fct_message_events, fct_web_sessions, int_marketing__contact_history,
-- int_marketing__first_touch, int_customer__golden_record) re-read only the customers changed
-- since their own last build instead of comparing their whole history with tonight's clusters.
-- The checksum is a 64-bit hash aggregate of the record keys: no record id or other personal
-- data is kept here.
with tonight as (
    select
        customer_id,
        count(*) as record_count,
        {{ set_checksum(dbt.concat(['source', "':'", 'source_record_id'])) }} as records_checksum
    from {{ source('identity', 'record_clusters') }}
    where customer_id is not null
    group by customer_id
)

{% if is_incremental() %}
select t.customer_id, t.record_count, t.records_checksum, {{ as_of_date() }} as changed_on
from tonight t
left join {{ this }} p on p.customer_id = t.customer_id
where p.customer_id is null
   or p.record_count <> t.record_count
   or p.records_checksum <> t.records_checksum

union all

-- ids that lost every record tonight
select p.customer_id, 0 as record_count, cast(0 as {{ dbt.type_bigint() }}) as records_checksum,
    {{ as_of_date() }} as changed_on
from {{ this }} p
where p.record_count > 0
  and not exists (select 1 from tonight t where t.customer_id = p.customer_id)
{% else %}
-- a first or full build cannot tell what changed: dated the night before, so that an incremental
-- model built before it re-reads every customer once (see identity_changed_customers())
select customer_id, record_count, records_checksum,
    cast({{ dbt.dateadd('day', -1, as_of_date()) }} as date) as changed_on
from tonight
{% endif %}
