{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key=['channel', 'order_id', 'line_no'],
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_rows_after_night('order_date') }}"
) }}
-- Every order and receipt line of every channel under the one customer key; a purchase whose
-- buyer is known only up to a household (a guest order through a family inbox, a couple's
-- loyalty card) has no customer and the household's id.
-- Web lines carry the order's status on the night; store lines are purchases (returns negative).
--
-- Incremental: a night rebuilds the lines dated in the window (store) or whose order changed
-- in the window (web: a status change re-sends the order), plus every older line whose
-- customer or status differs from what the table holds (identity merges and splits, a guest
-- order or a card newly linked to a person, a replayed earlier night being caught up).
-- delete+insert on the line key makes re-running a night idempotent; a replay of an earlier
-- night forgets the lines dated after it, and the next later night brings them back.
with clusters as (
    select source, source_record_id, customer_id from {{ source('identity', 'record_clusters') }}
),

households as (
    select source, source_record_id, household_id from {{ ref('int_orders__household_buyers') }}
),

orders as (
    select
        o.*,
        coalesce(acc.customer_id, guest.customer_id) as customer_id,
        hh.household_id
    from {{ ref('stg_ecommerce__orders') }} o
    left join clusters acc on acc.source = 'ecommerce' and acc.source_record_id = o.account_id
    left join clusters guest
        on o.account_id is null and guest.source = 'ecommerce' and guest.source_record_id = o.order_id
    left join households hh
        on o.account_id is null and hh.source = 'ecommerce' and hh.source_record_id = o.order_id
),

web as (
    select
        o.order_id,
        l.line_no,
        o.customer_id,
        case when o.customer_id is null then o.household_id end as household_id,
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
        cast(null as {{ dbt.type_string() }}) as store_id,
        o.status_date as changed_date
    from {{ ref('stg_ecommerce__order_lines') }} l
    join orders o on o.order_id = l.order_id
),

store as (
    select
        r.receipt_id as order_id,
        r.line_no,
        card.customer_id,
        case when card.customer_id is null then hh.household_id end as household_id,
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
        r.store_id,
        r.purchase_date as changed_date
    from {{ ref('stg_pos__receipt_lines') }} r
    left join clusters card on card.source = 'pos' and card.source_record_id = r.loyalty_card_id
    left join households hh on hh.source = 'pos' and hh.source_record_id = r.loyalty_card_id
),

all_lines as (
    select * from web
    union all
    select * from store
)

select
    order_id, line_no, customer_id, channel, ordered_at, order_date, sku, quantity, unit_price,
    discount_amount, net_amount, order_status, is_purchase, store_id, household_id
from all_lines
{% if is_incremental() %}
where changed_date >= {{ incremental_since('order_date') }}
   or exists (
        select 1 from {{ this }} t
        where t.channel = all_lines.channel and t.order_id = all_lines.order_id
          and t.line_no = all_lines.line_no
          and (t.customer_id is distinct from all_lines.customer_id
               or t.order_status is distinct from all_lines.order_status
               {%- if 'household_id' in (adapter.get_columns_in_relation(this) | map(attribute='name') | list) %}
               or t.household_id is distinct from all_lines.household_id
               {%- endif %})
   )
{% endif %}
