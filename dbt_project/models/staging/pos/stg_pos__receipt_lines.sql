{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['receipt_id', 'line_no'],
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_rows_after_night('file_date') }}"
) }}
-- Incremental: a night re-reads only the keys with a new, late or replayed version
-- (macros/marts.sql: changed_keys_filter); `full_refresh` rebuilds it from raw.
with versions as (
    {{ latest_versions(source('raw', 'pos__receipts'), 'receipt_id, line_no', changed_key='receipt_id') }}
)

select
    trim(receipt_id) as receipt_id,
    cast(line_no as integer) as line_no,
    {{ clean_text('store_id') }} as store_id,
    purchased_at,
    cast(purchased_at as date) as purchase_date,
    {{ clean_text('loyalty_card_id') }} as loyalty_card_id,
    trim(sku) as sku,
    cast(quantity as integer) as quantity,
    cast(unit_price as decimal(18, 2)) as unit_price,
    cast(coalesce(discount_amount, 0) as decimal(18, 2)) as discount_amount,
    cast(quantity * unit_price - coalesce(discount_amount, 0) as decimal(18, 2)) as net_amount,
    {{ clean_text('payment_method') }} as payment_method,
    _file_date as file_date,
    _loaded_at as loaded_at
from versions
