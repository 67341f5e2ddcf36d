-- One row per purchase up to the night (order grain): a web order whose status on the night is
-- placed, shipped or delivered, or a store receipt (a return receipt is a negative purchase).
-- The status comes from the order's latest version as of the night, so a replay of an earlier
-- night (DATAMART_AS_OF) sees exactly what that night saw. Each buyer's purchases are numbered
-- in time order (ties broken by channel and order id) with the previous and next purchase dates.
with lines as (
    select channel, order_id, customer_id, ordered_at, order_date, net_amount
    from {{ ref('fct_order_lines') }}
    where order_date <= {{ as_of_date() }}
),

web_status as (
    select order_id, is_purchase from {{ ref('stg_ecommerce__orders') }}
),

orders as (
    select
        l.channel,
        l.order_id,
        max(l.customer_id) as customer_id,
        min(l.ordered_at) as ordered_at,
        min(l.order_date) as order_date,
        cast(sum(l.net_amount) as decimal(18, 2)) as net_amount
    from lines l
    left join web_status w on l.channel = 'web' and w.order_id = l.order_id
    where l.channel = 'store' or coalesce(w.is_purchase, false)
    group by l.channel, l.order_id
)

select
    channel,
    order_id,
    customer_id,
    ordered_at,
    order_date,
    net_amount,
    case when customer_id is not null then cast(row_number() over (
        partition by customer_id order by ordered_at, channel, order_id) as integer) end as purchase_number,
    case when customer_id is not null then lag(order_date) over (
        partition by customer_id order by ordered_at, channel, order_id) end as previous_purchase_date,
    case when customer_id is not null then lead(order_date) over (
        partition by customer_id order by ordered_at, channel, order_id) end as next_purchase_date
from orders
