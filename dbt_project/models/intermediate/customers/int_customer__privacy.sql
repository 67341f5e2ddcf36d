-- GDPR requests resolved to customers. Erasure: the privacy step matched the request (or an
-- earlier night's erased records) to tonight's clusters and already blanked their personal data
-- in the working warehouse. Objection: the privacy step resolved each request to every customer
-- it reaches (the records carrying the e-mail, phone or CRM id it names, closed over the person's
-- hard identifiers).
with objecting as (
    select distinct customer_id from {{ source('privacy', 'objecting_customers') }}
),

erased as (
    select distinct customer_id from {{ source('privacy', 'erased_customers') }}
),

concerned as (
    select customer_id from objecting
    union
    select customer_id from erased
)

select
    c.customer_id,
    c.customer_id in (select customer_id from erased) as is_erased,
    c.customer_id in (select customer_id from objecting) as is_objected
from concerned c
