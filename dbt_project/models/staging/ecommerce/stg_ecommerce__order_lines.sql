-- One row per line of the latest version of each order (lines are a JSON array in raw).
with orders as (
    select order_id, lines from {{ ref('stg_ecommerce__orders') }}
),

exploded as (
    select order_id, lines, unnest(range(cast(json_array_length(lines) as bigint))) as idx
    from orders
)

select
    order_id,
    cast(idx + 1 as integer) as line_no,
    trim(json_extract_string(lines, '$[' || idx || '].sku')) as sku,
    cast(json_extract_string(lines, '$[' || idx || '].quantity') as integer) as quantity,
    cast(json_extract_string(lines, '$[' || idx || '].unit_price') as decimal(18, 2)) as unit_price,
    coalesce(try_cast(json_extract_string(lines, '$[' || idx || '].discount') as decimal(18, 2)), 0) as discount,
    cast(
        cast(json_extract_string(lines, '$[' || idx || '].quantity') as integer)
        * cast(json_extract_string(lines, '$[' || idx || '].unit_price') as decimal(18, 2))
        - coalesce(try_cast(json_extract_string(lines, '$[' || idx || '].discount') as decimal(18, 2)), 0)
        as decimal(18, 2)
    ) as net_amount
from exploded
