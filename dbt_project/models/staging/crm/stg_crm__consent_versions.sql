-- Every version of a CRM member's consents as sent, oldest first: the raw material of the
-- consent history (the member row itself keeps only the latest version).
with versions as (
    select * from {{ from_night(source('raw', 'crm__customers')) }}
),

ranked as (
    select
        trim(crm_id) as crm_id,
        updated_at,
        _file_date as file_date,
        consent_email,
        consent_sms,
        consent_post,
        row_number() over (partition by trim(crm_id), updated_at order by _file_date desc, _line desc) as rn
    from versions
)

select crm_id, updated_at, file_date, consent_email, consent_sms, consent_post
from ranked
where rn = 1
