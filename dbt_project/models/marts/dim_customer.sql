-- One row per resolved person. Erased people keep their row (their facts stay, anonymous)
-- but lose every personal attribute; people who objected lose every consent. Consents come from the
-- golden record: the most recent consent event of each channel (CRM, form, partner append, unsubscribe).
with golden as (
    select * from {{ ref('int_customer__golden_record') }}
),

crm_declared as (
    -- declared socio-demographics from the customer's most recently updated CRM record
    select c.customer_id, m.household_size, m.children_count, m.occupation, m.income_band
    from {{ source('identity', 'record_clusters') }} c
    join {{ ref('stg_crm__customers') }} m on c.source = 'crm' and c.source_record_id = m.crm_id
    qualify row_number() over (partition by c.customer_id order by m.updated_at desc, m.crm_id) = 1
),

privacy as (
    select * from {{ ref('int_customer__privacy') }}
),

households as (
    select customer_id, household_id from {{ ref('int_customer__households') }}
)

select
    g.customer_id,
    {% for col in ['first_name', 'last_name', 'email'] %}
    case when coalesce(p.is_erased, false) then null else g.{{ col }} end as {{ col }},
    {% endfor %}
    case when coalesce(p.is_erased, false) then null else g.phone_e164 end as phone,
    case when coalesce(p.is_erased, false) then null else g.birth_date end as birth_date,
    case when coalesce(p.is_erased, false) then null else g.address_line end as address_line,
    case when coalesce(p.is_erased, false) then null else g.postcode end as postcode,
    case when coalesce(p.is_erased, false) then null else g.city end as city,
    case when coalesce(p.is_erased, false) then null else g.country end as country,
    {% for channel in ['email', 'sms', 'post'] %}
    case when coalesce(p.is_erased, false) or coalesce(p.is_objected, false) then false
         else coalesce(g.consent_{{ channel }}, false)
    end as consent_{{ channel }},
    {% endfor %}
    g.first_seen_at,
    cast(g.source_count as integer) as source_count,
    cast(g.record_count as integer) as record_count,
    cast(d.household_size as integer) as household_size,
    cast(d.children_count as integer) as children_count,
    case when coalesce(p.is_erased, false) then null else d.occupation end as occupation,
    case when coalesce(p.is_erased, false) then null else d.income_band end as income_band,
    coalesce(p.is_erased, false) as is_erased,
    coalesce(p.is_objected, false) as is_objected,
    h.household_id
from golden g
left join crm_declared d using (customer_id)
left join privacy p using (customer_id)
left join households h using (customer_id)
