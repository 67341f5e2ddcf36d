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
    {{ latest_versions(source('raw', 'esp__events'), 'event_id') }}
)

select
    trim(event_id) as event_id,
    {{ clean_text('campaign_id') }} as campaign_id,
    recipient as recipient_raw,
    case when recipient like '%@%' then 'email' else 'phone' end as recipient_kind,
    case when recipient like '%@%' then {{ email_key('recipient') }} end as recipient_email_key,
    case when recipient not like '%@%' then {{ phone_e164('recipient') }} end as recipient_phone_e164,
    event_type,
    occurred_at,
    cast(occurred_at as date) as event_date,
    {{ clean_text('url') }} as url,
    _file_date as file_date,
    _loaded_at as loaded_at
from versions
