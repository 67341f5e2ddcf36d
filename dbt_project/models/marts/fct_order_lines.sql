-- Every order and receipt line of every channel under the one customer key.
-- Web lines carry the order's status on the night; store lines are purchases (returns negative).
with clusters as (
    select source, source_record_id, customer_id from {{ source('identity', 'record_clusters') }}
),

web as (
    select
        o.order_id,
        l.line_no,
        coalesce(acc.customer_id, guest.customer_id) as customer_id,
        'web' as channel,
        o.ordered_at,
        o.order_date,
        l.sku,
        l.quantity,
        l.unit_price,
        l.discount as discount_amount,
        l.net_amount,
        o.status as order_status,
        o.is_purchase,
        cast(null as varchar) as store_id
    from {{ ref('stg_ecommerce__order_lines') }} l
    join {{ ref('stg_ecommerce__orders') }} o using (order_id)
    left join clusters acc on acc.source = 'ecommerce' and acc.source_record_id = o.account_id
    left join clusters guest
        on o.account_id is null and guest.source = 'ecommerce' and guest.source_record_id = o.order_id
),

store as (
    select
        r.receipt_id as order_id,
        r.line_no,
        card.customer_id,
        'store' as channel,
        r.purchased_at as ordered_at,
        r.purchase_date as order_date,
        r.sku,
        r.quantity,
        r.unit_price,
        r.discount_amount,
        r.net_amount,
        case when r.quantity < 0 then 'returned' else 'purchased' end as order_status,
        true as is_purchase,
        r.store_id
    from {{ ref('stg_pos__receipt_lines') }} r
    left join clusters card on card.source = 'pos' and card.source_record_id = r.loyalty_card_id
)

select * from web
union all
select * from store
