-- From what purchase volume does a customer become loyal? For every n, among the buyers whose
-- n-th purchase is at least `loyalty_horizon_days` old (so the next one had time to happen),
-- the share who bought again within that horizon. The curve rises then levels off: the
-- threshold is the first n whose gain to n+1 is below `loyalty_min_gain` (is_threshold).
{% set horizon = var('loyalty_horizon_days') | int %}
{% set max_n = var('loyalty_max_purchases') | int %}

with observable as (
    select
        purchase_number,
        case when next_purchase_date is not null
              and {{ dbt.datediff('order_date', 'next_purchase_date', 'day') }} <= {{ horizon }}
             then 1 else 0 end as bought_again
    from {{ ref('int_orders__purchases') }}
    where customer_id is not null
      and purchase_number <= {{ max_n }}
      and order_date <= {{ dbt.dateadd('day', -horizon, as_of_date()) }}
),

curve as (
    select
        purchase_number,
        count(*) as customers,
        sum(bought_again) as customers_buying_again,
        cast(sum(bought_again) as double) / count(*) as next_purchase_rate
    from observable
    group by purchase_number
),

gains as (
    select
        *,
        lead(next_purchase_rate) over (order by purchase_number) - next_purchase_rate as gain_to_next
    from curve
),

threshold as (
    select min(purchase_number) as threshold_purchase_number
    from gains
    where gain_to_next < {{ var('loyalty_min_gain') }}
)

select
    cast(g.purchase_number as integer) as purchase_number,
    cast(g.customers as integer) as customers,
    cast(g.customers_buying_again as integer) as customers_buying_again,
    g.next_purchase_rate,
    g.gain_to_next,
    coalesce(g.purchase_number = t.threshold_purchase_number, false) as is_threshold,
    cast(t.threshold_purchase_number as integer) as threshold_purchase_number,
    cast({{ horizon }} as integer) as horizon_days
from gains g
cross join threshold t
