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
--
-- Incremental on the customer: a night recomputes, from all their records and events, only the
-- customers it can change since the model's last build (int_customer__reattribution_log):
--   - whose record set changed (a merge, a split, a new or moved record, an id retired);
--   - one of whose records was rewritten or erased (int_identity__record_changes);
--   - whose consent may have moved: a CRM row, a form, a partner append or an unsubscribe
--     loaded since;
--   - holding an e-mail whose latest delivery outcome may have moved (an event of it since).
-- Everyone is recomputed when the last build is unknown, older than the change log keeps, or
-- after tonight (a replay). A recomputed customer left with no record gets a placeholder row
-- (record_count null) that replaces their old one; the post_hook deletes it.
{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='customer_id',
    on_schema_change='append_new_columns',
    post_hook=["{{ drop_placeholders('record_count is null') }}",
               "{{ log_reattribution_build(golden_record_loaded_until()) }}"]
) }}
-- depends_on: {{ ref('int_customer__reattribution_log') }}
-- depends_on: {{ ref('int_customer__record_sets') }}
-- depends_on: {{ ref('int_identity__record_changes') }}
{%- set prev = reattribution_previous_build() %}
with clusters as (
    select customer_id, source, source_record_id
    from {{ source('identity', 'record_clusters') }}
    where customer_id is not null
),
{%- if prev is not none %}

reread as (
    select customer_id from {{ ref('int_customer__record_sets') }} where changed_on >= {{ prev.night }}
    union
    select c.customer_id from {{ ref('int_identity__record_changes') }} l
    join clusters c on c.source = l.source and c.source_record_id = l.source_record_id
    where l.change in ('record', 'erasure') and l.changed_at > {{ prev.changed_at }}
    {#- the consent events' sources (consent_events below): staging table, source, record id, which rows -#}
    {%- for relation, source_name, record_id, condition in [
            (ref('stg_crm__customers'), 'crm', 'crm_id', 'true'),
            (ref('stg_forms__signups'), 'forms', 'signup_id', 'true'),
            (ref('stg_partners__email_appends'), 'partners', 'crm_id', 'true'),
            (ref('stg_esp__events'), 'esp', 'recipient_raw', "s.event_type = 'unsubscribe'")] %}
    union
    select c.customer_id from {{ relation }} s
    join clusters c on c.source = '{{ source_name }}' and c.source_record_id = s.{{ record_id }}
    where {{ condition }} and {{ identity_new_row(prev) }}
    {%- endfor %}
    union
    select c.customer_id from {{ ref('int_identity__records') }} r
    join clusters c on c.source = r.source and c.source_record_id = r.source_record_id
    where r.email is not null and {{ email_key('r.email') }} in (
        select recipient_email_key from {{ ref('stg_esp__events') }}
        where recipient_email_key is not null and event_type in ('bounce', 'delivered', 'open', 'click')
          and {{ identity_new_row(prev) }})
),
{%- endif %}

records as (
    select c.customer_id, r.*
    from clusters c
    join {{ ref('int_identity__records') }} r using (source, source_record_id)
    {%- if prev is not none %}
    where c.customer_id in (select customer_id from reread)
    {%- endif %}
),

bounced as (
    -- an address whose latest delivery outcome is a bounce
    select recipient_email_key as email_key
    from {{ ref('stg_esp__events') }}
    where recipient_email_key is not null and event_type in ('bounce', 'delivered', 'open', 'click')
    {%- if prev is not none %}
      and recipient_email_key in (select {{ email_key('email') }} from records where email is not null)
    {%- endif %}
    group by recipient_email_key
    having max_by(event_type, occurred_at) = 'bounce'
),

emails as (
    select
        r.customer_id, r.email, r.source_priority, r.record_updated_at, r.source_record_id,
        r.email is not null
            and {{ email_key('r.email') }} is not null
            and not {{ regexp_contains(email_key('r.email'), "'^(test|noreply|no-reply|none|null|nomail)@|@(test|example|invalid)\\.'") }}
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
        order by cast(address_line is not null as integer) + cast(postcode is not null as integer)
                 + cast(city is not null as integer) desc,
                 source_priority, record_updated_at desc nulls last, source_record_id) = 1
),

declared as (
    select
        customer_id,
        {% for col in ['first_name', 'last_name', 'birth_date', 'phone_e164'] %}
        {{ first_value_ignore_nulls(col) }} over w as {{ col }},
        {% endfor %}
        min(seen_at) over (partition by customer_id) as first_seen_at,
        {{ count_distinct_over('source', 'customer_id') }} as source_count,
        count(*) over (partition by customer_id) as record_count,
        -- not `over w`: Spark refuses a ranking function over an explicit whole-partition frame
        row_number() over (
            partition by customer_id order by source_priority, record_updated_at desc nulls last, source_record_id
        ) as rn
    from records
    window w as (
        partition by customer_id order by source_priority, record_updated_at desc nulls last, source_record_id
        rows between unbounded preceding and unbounded following
    )
),

consent_events as (
    select c.customer_id, m.updated_at as event_at, 'crm' as origin,
        m.consent_email, m.consent_sms, m.consent_post
    from clusters c
    join {{ ref('stg_crm__customers') }} m on c.source = 'crm' and c.source_record_id = m.crm_id
    union all
    select c.customer_id, s.submitted_at, 'forms', s.opt_in, null, null
    from clusters c
    join {{ ref('stg_forms__signups') }} s on c.source = 'forms' and c.source_record_id = s.signup_id
    where s.opt_in is not null
    union all
    select c.customer_id, a.appended_at, 'partners', a.opt_in, null, null
    from clusters c
    join {{ ref('stg_partners__email_appends') }} a on c.source = 'partners' and c.source_record_id = a.crm_id
    where a.opt_in is not null
    union all
    select c.customer_id, e.occurred_at, 'esp_unsubscribe',
        case when e.recipient_kind = 'email' then false end,
        case when e.recipient_kind = 'phone' then false end,
        null
    from clusters c
    join {{ ref('stg_esp__events') }} e on c.source = 'esp' and c.source_record_id = e.recipient_raw
    where e.event_type = 'unsubscribe'
),

consents as (
    select
        customer_id,
        {% for channel in ['email', 'sms', 'post'] %}
        max_by(consent_{{ channel }}, event_at) filter (where consent_{{ channel }} is not null) as consent_{{ channel }},
        max_by(origin, event_at) filter (where consent_{{ channel }} is not null) as consent_{{ channel }}_origin
        {{- ',' if not loop.last }}
        {% endfor %}
    from consent_events
    where customer_id is not null
    {%- if prev is not none %}
      and customer_id in (select customer_id from reread)
    {%- endif %}
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
{%- if is_incremental() %}

union all

{%- set placeholder = [] %}
{%- for col in ['first_name', 'last_name', 'email', 'phone_e164'] %}{% do placeholder.append(('string', col)) %}{% endfor %}
{%- do placeholder.append(('date', 'birth_date')) %}
{%- for col in ['address_line', 'postcode', 'city', 'country'] %}{% do placeholder.append(('string', col)) %}{% endfor %}
{%- do placeholder.extend([('timestamp', 'first_seen_at'), ('bigint', 'source_count'), ('bigint', 'record_count')]) %}
{%- for channel in ['email', 'sms', 'post'] %}
{%- do placeholder.extend([('boolean', 'consent_' ~ channel), ('string', 'consent_' ~ channel ~ '_origin')]) %}
{%- endfor %}
{%- set types = {'string': dbt.type_string(), 'date': 'date', 'timestamp': dbt.type_timestamp(),
                 'bigint': dbt.type_bigint(), 'boolean': dbt.type_boolean()} %}

select
    s.customer_id,
    {%- for kind, col in placeholder %}
    cast(null as {{ types[kind] }}) as {{ col }}{{ ',' if not loop.last }}
    {%- endfor %}
from {{ 'reread' if prev is not none else this }} s
where not exists (select 1 from declared d where d.customer_id = s.customer_id and d.rn = 1)
{%- endif %}
