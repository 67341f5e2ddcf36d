-- The golden record: one value per personal attribute and customer, chosen by survivorship
-- rules (documented per column in _customers.yml):
--   names, birth date  declared CRM data over inferred (CRM > web account > form), then the most
--                      recently updated record;
--   e-mail             a valid, non-placeholder address that has not bounced since it last
--                      delivered, then source priority, then the most recent;
--   phone              a valid E.164 number, declared sources first, then the most recent;
--   address            the most complete address (street, postcode, city), then source priority,
--                      then the most recent;
--   consents           the most recent consent event of the channel (CRM version, form opt-in,
--                      partner append opt-in, an unsubscribe on the ESP).
with records as (
    select c.customer_id, r.*
    from {{ source('identity', 'record_clusters') }} c
    join {{ ref('int_identity__records') }} r using (source, source_record_id)
    where c.customer_id is not null
),

bounced as (
    -- an address whose latest delivery outcome is a bounce
    select recipient_email_key as email_key
    from {{ ref('stg_esp__events') }}
    where recipient_email_key is not null and event_type in ('bounce', 'delivered', 'open', 'click')
    group by recipient_email_key
    having arg_max(event_type, occurred_at) = 'bounce'
),

emails as (
    select
        r.customer_id, r.email, r.source_priority, r.record_updated_at, r.source_record_id,
        r.email is not null
            and {{ email_key('r.email') }} is not null
            and not regexp_matches({{ email_key('r.email') }}, '^(test|noreply|no-reply|none|null|nomail)@|@(test|example|invalid)\.')
            and b.email_key is null as is_valid
    from records r
    left join bounced b on b.email_key = {{ email_key('r.email') }}
    where r.email is not null
),

best_email as (
    select customer_id, email
    from emails
    qualify row_number() over (
        partition by customer_id
        order by is_valid desc, source_priority, record_updated_at desc nulls last, source_record_id) = 1
),

best_address as (
    select customer_id, address_line, postcode, city, country
    from records
    where address_line is not null or postcode is not null or city is not null
    qualify row_number() over (
        partition by customer_id
        order by (address_line is not null)::int + (postcode is not null)::int + (city is not null)::int desc,
                 source_priority, record_updated_at desc nulls last, source_record_id) = 1
),

declared as (
    select
        customer_id,
        {% for col in ['first_name', 'last_name', 'birth_date', 'phone_e164'] %}
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
),

consent_events as (
    select c.customer_id, m.updated_at as event_at, 'crm' as origin,
        m.consent_email, m.consent_sms, m.consent_post
    from {{ source('identity', 'record_clusters') }} c
    join {{ ref('stg_crm__customers') }} m on c.source = 'crm' and c.source_record_id = m.crm_id
    union all
    select c.customer_id, s.submitted_at, 'forms', s.opt_in, null, null
    from {{ source('identity', 'record_clusters') }} c
    join {{ ref('stg_forms__signups') }} s on c.source = 'forms' and c.source_record_id = s.signup_id
    where s.opt_in is not null
    union all
    select c.customer_id, a.appended_at, 'partners', a.opt_in, null, null
    from {{ source('identity', 'record_clusters') }} c
    join {{ ref('stg_partners__email_appends') }} a on c.source = 'partners' and c.source_record_id = a.crm_id
    where a.opt_in is not null
    union all
    select c.customer_id, e.occurred_at, 'esp_unsubscribe',
        case when e.recipient_kind = 'email' then false end,
        case when e.recipient_kind = 'phone' then false end,
        null
    from {{ source('identity', 'record_clusters') }} c
    join {{ ref('stg_esp__events') }} e on c.source = 'esp' and c.source_record_id = e.recipient_raw
    where e.event_type = 'unsubscribe'
),

consents as (
    select
        customer_id,
        {% for channel in ['email', 'sms', 'post'] %}
        arg_max(consent_{{ channel }}, event_at) filter (where consent_{{ channel }} is not null) as consent_{{ channel }},
        arg_max(origin, event_at) filter (where consent_{{ channel }} is not null) as consent_{{ channel }}_origin,
        {% endfor %}
    from consent_events
    where customer_id is not null
    group by customer_id
)

select
    d.customer_id,
    d.first_name,
    d.last_name,
    e.email,
    d.phone_e164,
    d.birth_date,
    a.address_line,
    a.postcode,
    a.city,
    a.country,
    d.first_seen_at,
    d.source_count,
    d.record_count,
    c.consent_email,
    c.consent_email_origin,
    c.consent_sms,
    c.consent_sms_origin,
    c.consent_post,
    c.consent_post_origin
from declared d
left join best_email e using (customer_id)
left join best_address a using (customer_id)
left join consents c using (customer_id)
where d.rn = 1
