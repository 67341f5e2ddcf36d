-- One row per calendar day from `calendar_start` to a year after the night.
with days as (
    {{ dbt.date_spine('day', "cast('" ~ var('calendar_start') ~ "' as date)",
                      dbt.dateadd('day', 366, as_of_date())) }}
)

select
    cast(date_day as date) as date_day,
    cast({{ dbt.date_trunc('week', 'date_day') }} as date) as week_start,
    cast({{ dbt.date_trunc('month', 'date_day') }} as date) as month_start,
    cast({{ dbt.date_trunc('quarter', 'date_day') }} as date) as quarter_start,
    cast(extract(year from date_day) as integer) as year,
    cast(extract(month from date_day) as integer) as month,
    cast({{ iso_day_of_week('date_day') }} as integer) as iso_day_of_week,
    {{ iso_day_of_week('date_day') }} >= 6 as is_weekend,
    cast(date_day as date) <= {{ as_of_date() }} as is_past
from days
