-- One row per web order or store receipt, all channels: amounts summed from the lines, the
-- order's status on the night, and (web) the day each status took effect.
with lines as (
    select
        channel,
        order_id,
        max(customer_id) as customer_id,
        min(ordered_at) as ordered_at,
        min(order_date) as order_date,
        max(store_id) as store_id,
        max(order_status) as order_status,
        {{ dbt.bool_or('is_purchase') }} as is_purchase,
        count(*) as line_count,
        sum(quantity) as units,
        sum(quantity * unit_price) as gross_amount,
        sum(discount_amount) as discount_amount,
        sum(net_amount) as net_amount
    from {{ ref('fct_order_lines') }}
    where order_date <= {{ as_of_date() }}
    group by channel, order_id
),

status_days as (
    select
        order_id,
        min(case when status = 'placed' then status_date end) as placed_date,
        min(case when status = 'shipped' then status_date end) as shipped_date,
        min(case when status = 'delivered' then status_date end) as delivered_date,
        min(case when status = 'cancelled' then status_date end) as cancelled_date,
        min(case when status = 'returned' then status_date end) as returned_date
    from {{ ref('stg_ecommerce__order_status_history') }}
    group by order_id
),

web_now as (
    select order_id, status, is_purchase from {{ ref('stg_ecommerce__orders') }}
)

select
    l.channel,
    l.order_id,
    l.customer_id,
    l.ordered_at,
    l.order_date,
    l.store_id,
    coalesce(w.status, l.order_status) as order_status,
    coalesce(w.is_purchase, l.is_purchase) as is_purchase,
    l.channel = 'store' and l.net_amount < 0 as is_return_receipt,
    cast(l.line_count as integer) as line_count,
    cast(l.units as integer) as units,
    cast(l.gross_amount as decimal(18, 2)) as gross_amount,
    cast(l.discount_amount as decimal(18, 2)) as discount_amount,
    cast(l.net_amount as decimal(18, 2)) as net_amount,
    s.shipped_date,
    s.delivered_date,
    s.cancelled_date,
    s.returned_date
from lines l
left join web_now w on l.channel = 'web' and w.order_id = l.order_id
left join status_days s on l.channel = 'web' and s.order_id = l.order_id
