-- Everyone who may not be contacted tonight on a channel, with the reason (the first rule that
-- excluded them). With marketing_audience, it covers every customer × channel exactly once.
select customer_id, channel, audience_date, exclusion_reason, contacts_7d, contacts_30d, household_contacts_30d
from {{ ref('int_marketing__audience_decisions') }}
where exclusion_reason is not null
