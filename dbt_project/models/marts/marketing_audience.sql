-- Who may be contacted tonight, on which channel: one row per customer and channel that passed
-- every rule of int_marketing__audience_decisions (consent, objection, erasure, contact point,
-- bounces, opt-outs, pressure caps). Contact data stays in dim_customer.
select customer_id, channel, audience_date, household_id, contacts_7d, contacts_30d, household_contacts_30d
from {{ ref('int_marketing__audience_decisions') }}
where exclusion_reason is null
