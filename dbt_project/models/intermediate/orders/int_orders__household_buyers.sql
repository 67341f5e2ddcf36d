-- Purchase records that identity left without a customer because the identifier they carry (a
-- guest order's inbox, a loyalty card, a phone) is shared by several named people: when every
-- named holder of that identifier lives in one household, the purchase is credited to the
-- household (fct_order_lines.household_id, customer_id null), not to one of its members.
with unplaced as (
    select source, source_record_id
    from {{ source('identity', 'record_clusters') }}
    where customer_id is null and source in ('ecommerce', 'pos')
),

carried as (
    select k.source, k.source_record_id, k.key_type, k.key_value
    from {{ ref('int_identity__record_keys') }} k
    join unplaced u on u.source = k.source and u.source_record_id = k.source_record_id
    where k.key_type in ('email', 'phone', 'loyalty_card')
),

holders as (
    select c.source, c.source_record_id, h.household_id
    from carried c
    join {{ ref('int_identity__record_keys') }} k
        on k.key_type = c.key_type and k.key_value = c.key_value
    join {{ ref('int_identity__records') }} r
        on r.source = k.source and r.source_record_id = k.source_record_id
    join {{ source('identity', 'record_clusters') }} rc
        on rc.source = k.source and rc.source_record_id = k.source_record_id
    join {{ ref('int_customer__households') }} h on h.customer_id = rc.customer_id
    where r.name_signature is not null and rc.customer_id is not null
)

select source, source_record_id, min(household_id) as household_id
from holders
group by source, source_record_id
having count(distinct household_id) = 1
