-- Newsletter, contest and survey forms under the one customer key (no contact data).
select
    s.signup_id,
    c.customer_id,
    s.form_type,
    s.submitted_at,
    s.submitted_date,
    s.opt_in,
    s.nps,
    s.interests is not null as has_interests
from {{ ref('stg_forms__signups') }} s
left join {{ source('identity', 'record_clusters') }} c
    on c.source = 'forms' and c.source_record_id = s.signup_id
