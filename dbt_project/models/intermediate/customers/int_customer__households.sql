-- Households: customers living at one postal address, or sharing a landline and a surname.
-- Keys are built per customer, customers sharing a key are linked, and the links are followed
-- (three rounds of min-label propagation: a household rarely chains further). A key shared by
-- more customers than a household holds (a block of flats without flat numbers, a shop's
-- landline) links nobody. Erased customers are a household of their own.
{% set max_members = 8 %}
with golden as (
    select customer_id, address_line, postcode from {{ ref('int_customer__golden_record') }}
),

privacy as (
    select customer_id, is_erased from {{ ref('int_customer__privacy') }}
),

address_keys as (
    -- postcode + street line with accents, case, punctuation and the usual abbreviations folded
    select customer_id,
        'a|' || upper(replace(postcode, ' ', '')) || '|' || {{ address_key('address_line') }} as hh_key
    from golden
    where address_line is not null and postcode is not null
),

landline_keys as (
    -- a fixed line (French 01-05 and 09 numbers) and the surname of a record carrying it
    select distinct c.customer_id, 'l|' || r.phone_e164 || '|' || r.last_name_key as hh_key
    from {{ source('identity', 'record_clusters') }} c
    join {{ ref('int_identity__records') }} r using (source, source_record_id)
    where c.customer_id is not null and r.last_name_key is not null
      and {{ regexp_contains('r.phone_e164', "'^\\+33[1-59]'") }}
),

keys as (
    select k.customer_id, k.hh_key
    from (select * from address_keys union all select * from landline_keys) k
    left join privacy p using (customer_id)
    where not coalesce(p.is_erased, false)
    qualify {{ count_distinct_over('k.customer_id', 'k.hh_key') }} between 2 and {{ max_members }}
),

{% set rounds = 3 %}
label_0 as (
    select customer_id, customer_id as label from golden
),
{% for i in range(1, rounds + 1) %}
label_{{ i }} as (
    select l.customer_id, least(l.label, coalesce(min(o.label), l.label)) as label
    from label_{{ i - 1 }} l
    left join keys k on k.customer_id = l.customer_id
    left join keys k2 on k2.hh_key = k.hh_key
    left join label_{{ i - 1 }} o on o.customer_id = k2.customer_id
    group by l.customer_id, l.label
){% if not loop.last %},{% endif %}
{% endfor %}

select
    customer_id,
    'H' || substr(label, 2) as household_id,
    count(*) over (partition by label) as household_size
from label_{{ rounds }}
