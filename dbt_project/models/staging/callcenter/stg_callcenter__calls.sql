{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='call_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_rows_after_night('file_date') }}"
) }}
-- Incremental: a night re-reads only the keys with a new, late or replayed version
-- (macros/marts.sql: changed_keys_filter); `full_refresh` rebuilds it from raw.
with versions as (
    {{ latest_versions(source('raw', 'callcenter__calls'), 'call_id') }}
)

select
    trim(call_id) as call_id,
    called_at,
    cast(called_at as date) as call_date,
    caller_phone as caller_phone_raw,
    {{ phone_e164('caller_phone') }} as caller_phone_e164,
    {{ clean_text('crm_id') }} as crm_id,
    reason,
    outcome,
    {{ clean_text('order_id') }} as order_id,
    duration_s,
    _file_date as file_date,
    _loaded_at as loaded_at
from versions
