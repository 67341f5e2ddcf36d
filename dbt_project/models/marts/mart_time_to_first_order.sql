-- How long between the first marketing action and the first order? Per first-touch channel
-- (email, sms, web_<utm medium>) and campaign, plus an '(all)' row per channel: how many people
-- were first reached there, how many then ordered, and the distribution of the days between.
-- People who had bought before any marketing reached them are counted apart.
with touches as (
    select * from {{ ref('int_marketing__first_touch') }}
),

by_campaign as (
    select first_touch_channel, first_touch_campaign, days_to_first_order, bought_before_first_touch
    from touches
    union all
    select first_touch_channel, '(all)', days_to_first_order, bought_before_first_touch
    from touches
)

select
    first_touch_channel,
    first_touch_campaign,
    cast(count(*) as integer) as customers_reached,
    cast(count(days_to_first_order) as integer) as customers_converted,
    cast(sum(case when bought_before_first_touch then 1 else 0 end) as integer) as customers_already_buyers,
    cast(count(days_to_first_order) as double)
        / nullif(count(*) - sum(case when bought_before_first_touch then 1 else 0 end), 0) as conversion_rate,
    cast(avg(days_to_first_order) as double) as days_mean,
    cast({{ percentile('days_to_first_order', 0.25) }} as double) as days_p25,
    cast({{ percentile('days_to_first_order', 0.5) }} as double) as days_median,
    cast({{ percentile('days_to_first_order', 0.75) }} as double) as days_p75,
    cast({{ percentile('days_to_first_order', 0.9) }} as double) as days_p90
from by_campaign
group by first_touch_channel, first_touch_campaign
