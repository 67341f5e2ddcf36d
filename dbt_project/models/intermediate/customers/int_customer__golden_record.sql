-- Survivorship: each attribute comes from the most trusted record that has it
-- (CRM > web account > forms > guest order > partner > contacts), the most recently updated first.
with records as (
    select c.customer_id, r.*
    from {{ source('identity', 'record_clusters') }} c
    join {{ ref('int_identity__records') }} r using (source, source_record_id)
    where c.customer_id is not null
),

ranked as (
    select
        customer_id,
        {% for col in ['first_name', 'last_name', 'email', 'phone_e164', 'birth_date',
                       'address_line', 'postcode', 'city', 'country'] %}
        first_value({{ col }} ignore nulls) over w as {{ col }},
        {% endfor %}
        min(seen_at) over (partition by customer_id) as first_seen_at,
        count(distinct source) over (partition by customer_id) as source_count,
        count(*) over (partition by customer_id) as record_count,
        row_number() over w as rn
    from records
    window w as (
        partition by customer_id order by source_priority, record_updated_at desc nulls last, source_record_id
        rows between unbounded preceding and unbounded following
    )
)

select * exclude (rn) from ranked where rn = 1
