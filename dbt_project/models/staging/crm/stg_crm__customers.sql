{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='crm_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_rows_after_night('file_date') }}"
) }}
-- Incremental: a night re-reads only the keys with a new, late or replayed version
-- (macros/marts.sql: changed_keys_filter); `full_refresh` rebuilds it from raw.
with versions as (
    select * from {{ from_night(source('raw', 'crm__customers')) }}
    {{ changed_keys_filter('crm_id', source('raw', 'crm__customers')) }}
    qualify {{ latest_version('crm_id', 'updated_at desc, _file_date desc, _line desc') }}
)

select
    trim(crm_id) as crm_id,
    {{ clean_text('loyalty_card_id') }} as loyalty_card_id,
    {{ clean_text('civility') }} as civility,
    {{ clean_text('first_name') }} as first_name,
    {{ clean_text('last_name') }} as last_name,
    {{ name_key('first_name') }} as first_name_key,
    {{ name_key('last_name') }} as last_name_key,
    birth_date,
    {{ clean_email('email') }} as email,
    {{ email_key('email') }} as email_key,
    {{ clean_text('phone') }} as phone_raw,
    {{ phone_e164('phone') }} as phone_e164,
    {{ clean_text('address_line') }} as address_line,
    {{ postcode_key('postcode') }} as postcode,
    {{ clean_text('city') }} as city,
    upper({{ clean_text('country') }}) as country,
    household_size,
    children_count,
    {{ clean_text('occupation') }} as occupation,
    {{ clean_text('income_band') }} as income_band,
    {{ clean_text('acquisition_channel') }} as acquisition_channel,
    created_at,
    updated_at,
    consent_email,
    consent_sms,
    consent_post,
    _file_date as file_date,
    _loaded_at as loaded_at
from versions
