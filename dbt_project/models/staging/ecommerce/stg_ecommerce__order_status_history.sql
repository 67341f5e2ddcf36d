{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['order_id', 'status_date'],
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_rows_after_night('status_date') }}"
) }}
-- Every status an order went through, one row per order and export day: a status change
-- re-sends the whole order, so the day of the file is the day the status took effect.
-- Incremental like stg_ecommerce__orders: the changed orders' whole history is re-read.
with versions as (
    select * from {{ from_night(source('raw', 'ecommerce__orders')) }}
    {{ changed_keys_filter('order_id', source('raw', 'ecommerce__orders'), 'status_date') }}
),

per_day as (
    select
        trim(order_id) as order_id,
        status,
        _file_date as status_date,
        _loaded_at as loaded_at,
        row_number() over (partition by trim(order_id), _file_date order by _line desc) as rn
    from versions
)

select
    order_id,
    status,
    status_date,
    status in ('placed', 'shipped', 'delivered') as is_purchase,
    loaded_at
from per_day
where rn = 1
