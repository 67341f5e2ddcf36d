{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='event_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_rows_after_night('file_date') }}"
) }}
-- Incremental: a night re-reads only the keys with a new, late or replayed version
-- (macros/marts.sql: changed_keys_filter); `full_refresh` rebuilds it from raw.
with versions as (
    {{ latest_versions(source('raw', 'web__events'), 'event_id') }}
)

select
    trim(event_id) as event_id,
    {{ clean_text('anonymous_id') }} as anonymous_id,
    {{ clean_text('account_id') }} as account_id,
    occurred_at,
    cast(occurred_at as date) as event_date,
    event_type,
    {{ clean_text('page_path') }} as page_path,
    lower({{ clean_text('utm_source') }}) as utm_source,
    lower({{ clean_text('utm_medium') }}) as utm_medium,
    {{ clean_text('utm_campaign') }} as utm_campaign,
    lower({{ clean_text('device') }}) as device,
    _file_date as file_date,
    _loaded_at as loaded_at
from versions
