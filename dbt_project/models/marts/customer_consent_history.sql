-- Consents with their history: one row per customer, channel and period during which a consent
-- statement held. Statements come from CRM versions (email, sms, post), form opt-ins and partner
-- opt-ins (email), and GDPR requests (an objection or an erasure sets every channel to false
-- from the request on). A period lasts until the next statement that changes the value.
-- dim_customer holds tonight's effective consent (CRM first, objections and erasures last).
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
    select p.customer_id, ch.channel, r.requested_at, r.request_type, false
    from {{ ref('int_marketing__privacy_requests') }} p
    join {{ ref('stg_privacy__requests') }} r on r.request_id = p.request_id
    cross join (select 'email' as channel union all select 'sms' union all select 'post') ch
),

ordered as (
    select
        *,
        lag(is_consented) over (
            partition by customer_id, channel order by stated_at, statement_source) as previous_value
    from statements
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
