-- E-mails a partner found for offline CRM members, under the one customer key (the e-mail
-- itself stays in staging).
select
    a.crm_id,
    c.customer_id,
    a.appended_at,
    cast(a.appended_at as date) as appended_date,
    a.opt_in
from {{ ref('stg_partners__email_appends') }} a
left join {{ source('identity', 'record_clusters') }} c
    on c.source = 'partners' and c.source_record_id = a.crm_id
