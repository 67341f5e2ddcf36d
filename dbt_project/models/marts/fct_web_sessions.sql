{{ config(
    materialized=incremental_materialization(),
    incremental_strategy='delete+insert',
    unique_key='session_id',
    on_schema_change='append_new_columns',
    pre_hook="{{ forget_rows_after_night('session_date') }}",
    post_hook="{{ log_reattribution_build() }}"
) }}
-- depends_on: {{ ref('int_customer__record_sets') }}
-- depends_on: {{ ref('int_customer__reattribution_log') }}
-- Web sessions: a cookie's hits, a new session after `session_timeout_minutes` without a hit.
-- A session belongs to the person behind its cookie, else to the account logged in during it:
-- once a cookie logs in, the identity step resolves the cookie to the person and every earlier
-- anonymous session of that cookie is attributed to them (retroactively, on that night).
-- Incremental: the sessions started in the window are rebuilt from the hits of the window and
-- the night before (so a session crossing the window's start is seen whole), plus every older
-- session whose cookie or account now resolves to another customer (looked for among the
-- sessions of the customers whose record set changed since the last build,
-- int_customer__record_sets, not among all sessions).
{% set timeout_s = var('session_timeout_minutes') | int * 60 %}

with hits as (
    select event_id, anonymous_id, account_id, occurred_at, event_type, page_path,
           utm_source, utm_medium, utm_campaign, device
    from {{ ref('stg_web__events') }}
    where anonymous_id is not null
    {% if is_incremental() %}
      and event_date >= {{ dbt.dateadd('day', -1, incremental_since('session_date')) }}
    {% endif %}
),

gaps as (
    select
        *,
        case
            when lag(occurred_at) over (partition by anonymous_id order by occurred_at, event_id) is null then 1
            when {{ seconds_between('lag(occurred_at) over (partition by anonymous_id order by occurred_at, event_id)',
                                    'occurred_at') }} > {{ timeout_s }} then 1
            else 0
        end as is_session_start
    from hits
),

numbered as (
    select
        *,
        sum(is_session_start) over (
            partition by anonymous_id order by occurred_at, event_id rows between unbounded preceding and current row
        ) as session_number,
        row_number() over (partition by anonymous_id order by occurred_at, event_id) as hit_number
    from gaps
),

first_hits as (
    select anonymous_id, session_number, page_path as landing_page, utm_source, utm_medium, utm_campaign, device
    from numbered
    where is_session_start = 1
),

sessions as (
    select
        anonymous_id,
        session_number,
        min(occurred_at) as session_start,
        max(occurred_at) as session_end,
        max(account_id) as account_id,
        count(*) as hits,
        sum(case when event_type in ('page_view', 'key_page_view') then 1 else 0 end) as page_views,
        sum(case when event_type = 'key_page_view' then 1 else 0 end) as key_page_views,
        sum(case when event_type = 'search' then 1 else 0 end) as searches,
        sum(case when event_type = 'add_to_cart' then 1 else 0 end) as add_to_carts,
        sum(case when event_type = 'quote_started' then 1 else 0 end) as quotes_started,
        sum(case when event_type = 'newsletter_signup' then 1 else 0 end) as newsletter_signups,
        sum(case when event_type = 'login' then 1 else 0 end) as logins
    from numbered
    group by anonymous_id, session_number
),

clusters as (
    select source, source_record_id, customer_id from {{ source('identity', 'record_clusters') }}
),

built as (
    select
        {{ dbt.hash(dbt.concat(['s.anonymous_id', "'|'", dbt.cast('s.session_start', dbt.type_string())])) }}
            as session_id,
        s.anonymous_id,
        coalesce(cookie.customer_id, acc.customer_id) as customer_id,
        s.account_id,
        s.session_start,
        s.session_end,
        cast(s.session_start as date) as session_date,
        cast({{ seconds_between('s.session_start', 's.session_end') }} as integer) as duration_s,
        cast(s.hits as integer) as hits,
        cast(s.page_views as integer) as page_views,
        cast(s.key_page_views as integer) as key_page_views,
        cast(s.searches as integer) as searches,
        cast(s.add_to_carts as integer) as add_to_carts,
        cast(s.quotes_started as integer) as quotes_started,
        cast(s.newsletter_signups as integer) as newsletter_signups,
        s.logins > 0 as is_logged_in,
        f.landing_page,
        f.utm_source,
        f.utm_medium,
        f.utm_campaign,
        f.device
    from sessions s
    join first_hits f on f.anonymous_id = s.anonymous_id and f.session_number = s.session_number
    left join clusters cookie on cookie.source = 'web' and cookie.source_record_id = s.anonymous_id
    left join clusters acc on acc.source = 'ecommerce' and acc.source_record_id = s.account_id
)

{%- if is_incremental() %}
, changed_customers as (
    {{ identity_changed_customers('session_date') }}
),

changed_records as (
    select c.source, c.source_record_id from clusters c
    where c.source in ('web', 'ecommerce') and c.customer_id in (select customer_id from changed_customers)
)
{%- endif %}

select * from built
{% if is_incremental() %}
where session_date >= {{ incremental_since('session_date') }}

union all

-- older sessions whose person changed: re-attributed in place
select
    t.session_id, t.anonymous_id, coalesce(cookie.customer_id, acc.customer_id) as customer_id,
    t.account_id, t.session_start, t.session_end, t.session_date, t.duration_s, t.hits, t.page_views,
    t.key_page_views, t.searches, t.add_to_carts, t.quotes_started, t.newsletter_signups, t.is_logged_in,
    t.landing_page, t.utm_source, t.utm_medium, t.utm_campaign, t.device
from (
    -- only a session under, or now resolving to, a customer whose record set changed can move:
    -- those few are picked first, then joined to the clusters (joining every older session
    -- first ran out of the 4 GB memory cap at 1M customers: 9.7 M sessions)
    select * from {{ this }} o
    where o.session_date < {{ incremental_since('session_date') }}
      and (o.customer_id in (select customer_id from changed_customers)
           or o.anonymous_id in (select source_record_id from changed_records where source = 'web')
           or o.account_id in (select source_record_id from changed_records where source = 'ecommerce'))
) t
left join clusters cookie on cookie.source = 'web' and cookie.source_record_id = t.anonymous_id
left join clusters acc on acc.source = 'ecommerce' and acc.source_record_id = t.account_id
where t.customer_id is distinct from coalesce(cookie.customer_id, acc.customer_id)
{% endif %}
