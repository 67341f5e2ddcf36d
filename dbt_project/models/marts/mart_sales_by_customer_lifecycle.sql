-- Acquisition or loyalty: which supports sales? Revenue per month split by the buyer's
-- lifecycle stage that month: `new` (their first purchase ever is in the month), `returning`
-- (bought before, the previous purchase less than `reactivation_days` earlier), `reactivated`
-- (bought before, but not for `reactivation_days` or more), `anonymous` (store receipts without
-- a loyalty card). The stage is the one of the customer's first purchase in the month. Every
-- purchase up to the night is in exactly one row: the revenue column sums to total revenue.
with purchases as (
    select
        *,
        cast({{ dbt.date_trunc('month', 'order_date') }} as date) as month_start
    from {{ ref('int_orders__purchases') }}
),

customer_months as (
    select
        month_start,
        customer_id,
        min(purchase_number) as first_number_in_month
    from purchases
    where customer_id is not null
    group by month_start, customer_id
),

staged as (
    select
        cm.month_start,
        cm.customer_id,
        case
            when p.purchase_number = 1 then 'new'
            when {{ dbt.datediff('p.previous_purchase_date', 'p.order_date', 'day') }}
                 >= {{ var('reactivation_days') }} then 'reactivated'
            else 'returning'
        end as lifecycle_stage
    from customer_months cm
    join purchases p
        on p.customer_id = cm.customer_id and p.purchase_number = cm.first_number_in_month
),

classified as (
    select
        p.month_start,
        coalesce(s.lifecycle_stage, 'anonymous') as lifecycle_stage,
        p.customer_id,
        p.order_id,
        p.channel,
        p.net_amount
    from purchases p
    left join staged s on s.customer_id = p.customer_id and s.month_start = p.month_start
),

monthly as (
    select
        month_start,
        lifecycle_stage,
        count(distinct customer_id) as customers,
        count(*) as orders,
        sum(net_amount) as revenue
    from classified
    group by month_start, lifecycle_stage
)

select
    month_start,
    lifecycle_stage,
    cast(customers as integer) as customers,
    cast(orders as integer) as orders,
    cast(revenue as decimal(18, 2)) as revenue,
    -- divided as doubles: DuckDB does so for decimals anyway, Spark would keep 10 decimal places
    cast(revenue as double) / nullif(cast(sum(revenue) over (partition by month_start) as double), 0)
        as revenue_share,
    cast(revenue / nullif(orders, 0) as decimal(18, 2)) as average_order_value
from monthly
