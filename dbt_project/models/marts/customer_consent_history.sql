-- Consents with their history: one row per customer, channel and period during which a consent
-- statement held. Statements come from CRM versions (email, sms, post), form opt-ins and partner
-- opt-ins (email), and GDPR requests (an objection or an erasure sets every channel to false
-- from the request on, for good). A period lasts until the next statement that changes the value.
-- dim_customer holds tonight's effective consent: the latest statement of each channel.
with clusters as (
    select source, source_record_id, customer_id from {{ source('identity', 'record_clusters') }}
    where customer_id is not null
),

crm as (
    select c.customer_id, v.updated_at as stated_at, 'crm' as statement_source,
           v.consent_email, v.consent_sms, v.consent_post
    from {{ ref('stg_crm__consent_versions') }} v
    join clusters c on c.source = 'crm' and c.source_record_id = v.crm_id
),

channels as (
    select channel from (values ('email'), ('sms'), ('post')) as c (channel)
),

statements as (
    {% for ch in ['email', 'sms', 'post'] %}
    select customer_id, '{{ ch }}' as channel, stated_at, statement_source, consent_{{ ch }} as is_consented
    from crm where consent_{{ ch }} is not null
    union all
    {% endfor %}
    select c.customer_id, 'email', s.submitted_at, 'forms', s.opt_in
    from {{ ref('stg_forms__signups') }} s
    join clusters c on c.source = 'forms' and c.source_record_id = s.signup_id
    where s.opt_in is not null
    union all
    select c.customer_id, 'email', a.appended_at, 'partners', a.opt_in
    from {{ ref('stg_partners__email_appends') }} a
    join clusters c on c.source = 'partners' and c.source_record_id = a.crm_id
    where a.opt_in is not null
    union all
    -- an unsubscribe on the ESP withdraws the consent of the channel it came through
    select c.customer_id, case when e.recipient_kind = 'phone' then 'sms' else 'email' end,
        e.occurred_at, 'esp_unsubscribe', false
    from {{ ref('stg_esp__events') }} e
    join clusters c on c.source = 'esp' and c.source_record_id = e.recipient_raw
    where e.event_type = 'unsubscribe'
    union all
    select p.customer_id, ch.channel, r.requested_at, r.request_type, false
    from {{ ref('int_marketing__privacy_requests') }} p
    join {{ ref('stg_privacy__requests') }} r on r.request_id = p.request_id
    cross join channels ch
    where r.request_type = 'objection'
    union all
    -- erasures as the privacy step resolved them (the request's identifiers are blanked by then)
    select e.customer_id, ch.channel, e.requested_at, 'erasure', false
    from {{ source('privacy', 'erased_customers') }} e
    cross join channels ch
    -- tonight's customers only: the privacy step deletes the identity rows of erased contact records
    where e.customer_id in (select customer_id from clusters)
),

first_requests as (
    select customer_id, min(stated_at) as requested_at
    from statements
    where statement_source in ('erasure', 'objection')
    group by customer_id
),

held as (
    -- an objection or an erasure holds for good: later statements (a CRM resending an old opt-in)
    -- do not bring a consent back, as dim_customer does not
    select s.*
    from statements s
    left join first_requests f on f.customer_id = s.customer_id
    where f.requested_at is null or s.stated_at <= f.requested_at
        or s.statement_source in ('erasure', 'objection')
),

ordered as (
    select
        *,
        lag(is_consented) over (
            partition by customer_id, channel order by stated_at, statement_source) as previous_value
    from held
),

changes as (
    select * from ordered
    where previous_value is null or previous_value <> is_consented
)

select
    customer_id,
    channel,
    is_consented,
    stated_at as valid_from,
    lead(stated_at) over (partition by customer_id, channel order by stated_at, statement_source) as valid_to,
    statement_source,
    lead(stated_at) over (partition by customer_id, channel order by stated_at, statement_source) is null
        as is_latest
from changes
