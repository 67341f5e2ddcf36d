{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='order_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_rows_after_night('status_date') }}"
) }}
-- One row per line of the latest version of each order (lines are a JSON array in raw).
-- Incremental: re-explodes only the orders whose version (status_date) is not the one the
-- lines were taken from (new orders, status changes, a replay restoring an older version);
-- a replay first forgets the lines of versions dated after the night, as stg_ecommerce__orders does
-- (without it, orders placed after the replayed night kept their lines).
with orders as (
    select o.order_id, o.lines, o.status_date
    from {{ ref('stg_ecommerce__orders') }} o
    {% if is_incremental() and this_has_column('status_date') %}
    where not exists (
        select 1 from {{ this }} t where t.order_id = o.order_id and t.status_date = o.status_date
    )
    {% endif %}
),

exploded as (
    select order_id, lines, status_date, {{ explode_indexes('json_array_length(lines)', 'idx') }}
    from orders
)

select
    order_id,
    cast(idx + 1 as integer) as line_no,
    trim({{ json_text('lines', "'$[' || idx || '].sku'") }}) as sku,
    cast({{ json_text('lines', "'$[' || idx || '].quantity'") }} as integer) as quantity,
    cast({{ json_text('lines', "'$[' || idx || '].unit_price'") }} as decimal(18, 2)) as unit_price,
    coalesce(try_cast({{ json_text('lines', "'$[' || idx || '].discount'") }} as decimal(18, 2)), 0) as discount,
    cast(
        cast({{ json_text('lines', "'$[' || idx || '].quantity'") }} as integer)
        * cast({{ json_text('lines', "'$[' || idx || '].unit_price'") }} as decimal(18, 2))
        - coalesce(try_cast({{ json_text('lines', "'$[' || idx || '].discount'") }} as decimal(18, 2)), 0)
        as decimal(18, 2)
    ) as net_amount,
    status_date
from exploded
