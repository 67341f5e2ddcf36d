{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_rows_after_night('status_date') }}"
) }}
-- Incremental: a night re-reads only the keys with a new, late or replayed version
-- (macros/marts.sql: changed_keys_filter); `full_refresh` rebuilds it from raw.
-- The latest version of each order as of the night: its status on that date.
with versions as (
    {{ latest_versions(source('raw', 'ecommerce__orders'), 'order_id', this_date_column='status_date') }}
)

select
    trim(order_id) as order_id,
    {{ clean_text('account_id') }} as account_id,
    {{ clean_email('guest_email') }} as guest_email,
    {{ email_key('guest_email') }} as guest_email_key,
    ordered_at,
    cast(ordered_at as date) as order_date,
    status,
    status in ('placed', 'shipped', 'delivered') as is_purchase,
    coalesce(upper({{ clean_text('currency') }}), 'EUR') as currency,
    {{ clean_text(json_text('shipping', "'$.address_line'")) }} as shipping_address_line,
    {{ postcode_key(json_text('shipping', "'$.postcode'")) }} as shipping_postcode,
    {{ clean_text(json_text('shipping', "'$.city'")) }} as shipping_city,
    upper({{ clean_text(json_text('shipping', "'$.country'")) }}) as shipping_country,
    lines,
    _file_date as status_date,
    _loaded_at as loaded_at
from versions
