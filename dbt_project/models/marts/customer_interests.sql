-- Declared interests as a tidy table: one row per customer and interest (key, value), from
-- every form they filled in (`console:ps5;housing:house_with_garden` gives two rows). Erased
-- people's declarations are dropped.
with pairs as (
    select
        s.signup_id,
        s.submitted_at,
        -- a generator (Spark's explode) may not sit inside another function: trimmed below
        {{ split_to_rows('s.interests', ';') }} as interest_pair
    from {{ ref('stg_forms__signups') }} s
    where s.interests is not null
),

parsed as (
    select
        c.customer_id,
        lower(trim({{ dbt.split_part('p.interest_pair', "':'", 1) }})) as interest_key,
        lower(trim({{ dbt.split_part('p.interest_pair', "':'", 2) }})) as interest_value,
        p.submitted_at
    from (select signup_id, submitted_at, trim(interest_pair) as interest_pair from pairs) p
    join {{ source('identity', 'record_clusters') }} c
        on c.source = 'forms' and c.source_record_id = p.signup_id
    left join {{ ref('int_customer__privacy') }} priv on priv.customer_id = c.customer_id
    where c.customer_id is not null and p.interest_pair like '%_:_%'
      and not coalesce(priv.is_erased, false)
)

select
    customer_id,
    interest_key,
    interest_value,
    min(submitted_at) as first_declared_at,
    max(submitted_at) as last_declared_at,
    cast(count(*) as integer) as declarations
from parsed
group by customer_id, interest_key, interest_value
