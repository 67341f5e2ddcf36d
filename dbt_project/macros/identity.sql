{#- Incremental identity inputs (int_identity__records, int_identity__record_keys).

    A night recomputes only the *candidate* records: those a staging row new since the model's
    previous build can touch (a row of a file dated after that build's night, or loaded after
    it), the records an older version of such a row belonged to (an event re-sent with another
    card, caller, recipient or cookie: looked up in raw), and the records the privacy step
    scrubbed since (their staging rows changed behind dbt's back). Each candidate's rows are
    computed from all of staging exactly as a full build computes them (aggregates over every
    event of the record), compared with the rows the table holds, and only the records whose
    rows differ are rewritten (delete+insert on the record; a record that vanished gets a
    tombstone row, deleted again by the post-hook). Every rewritten or vanished record, and a
    marker per build, go to the change log int_identity__record_changes, which the identity step
    reads instead of fingerprinting every record.

    Every candidate is recomputed from everything instead (still written only where rows differ)
    when the delta cannot be trusted: no marker of a previous build (first incremental build,
    a log rebuilt), a replay of an earlier night (DATAMART_AS_OF before the previous build's
    night), or a table built before the change-log columns existed. For an event silo (receipts,
    calls, ESP events, web events) a late or reloaded file (a row loaded since the previous
    build in a file dated on or before its night) makes every record of that silo a candidate:
    a reload deletes the raw rows it replaces, so the older versions cannot be looked up. -#}

{#- The dbt run's start (UTC), written on every row and log entry of this build. -#}
{% macro identity_stamp() -%}
    cast('{{ run_started_at.strftime("%Y-%m-%d %H:%M:%S.%f") }}' as timestamp)
{%- endmacro %}

{#- The latest build marker of `model` in the change log: dict(night, loaded_until, changed_at)
    as SQL literals, or none. Only meaningful at run time of an incremental build. -#}
{% macro identity_previous_build(model) -%}
    {%- if not execute or not is_incremental() or not this_has_column('changed_at') -%}{{ return(none) }}{%- endif -%}
    {%- set log = ref('int_identity__record_changes') -%}
    {%- set found = adapter.get_relation(database=log.database, schema=log.schema, identifier=log.identifier) -%}
    {%- if found is none -%}{{ return(none) }}{%- endif -%}
    {%- set q -%}
        select cast(night as {{ dbt.type_string() }}), cast(loaded_until as {{ dbt.type_string() }}), cast(changed_at as {{ dbt.type_string() }})
        from {{ log }}
        where model = '{{ model }}' and change in ('build', 'full_build')
        order by changed_at desc
        limit 1
    {%- endset -%}
    {%- set rows = run_query(q).rows -%}
    {%- if rows | length == 0 or rows[0][0] is none -%}{{ return(none) }}{%- endif -%}
    {%- if rows[0][0] > night_date() -%}{{ return(none) }}{%- endif -%}  {#- a replay of an earlier night -#}
    {{ return({'night': "cast('" ~ rows[0][0] ~ "' as date)",
               'loaded_until': ("cast('" ~ rows[0][1] ~ "' as timestamp)") if rows[0][1] else "cast(null as timestamp)",
               'changed_at': "cast('" ~ rows[0][2] ~ "' as timestamp)"}) }}
{%- endmacro %}

{#- A staging row the previous build did not see: dated after its night (and not after
    tonight's), or loaded since. -#}
{% macro identity_new_row(prev, date_column='file_date') -%}
    (({{ date_column }} > {{ prev.night }} and {{ date_column }} <= {{ as_of_date() }})
     or loaded_at > coalesce({{ prev.loaded_until }}, cast('1900-01-01' as timestamp)))
{%- endmacro %}

{#- A late or reloaded file in a staging relation since the previous build. -#}
{% macro identity_late_rows(relation, prev, date_column='file_date') -%}
    exists (select 1 from {{ relation }}
            where loaded_at > coalesce({{ prev.loaded_until }}, cast('1900-01-01' as timestamp))
              and {{ date_column }} <= {{ prev.night }})
{%- endmacro %}

{#- Candidate records of tonight (source, source_record_id), for both identity models. -#}
{% macro identity_candidates(prev) -%}
    {%- set new_orders -%}
        select order_id from {{ ref('stg_ecommerce__orders') }} where {{ identity_new_row(prev, 'status_date') }}
        union select source_record_id from ({{ identity_erased_since(prev) }}) e where source = 'ecommerce'
    {%- endset -%}
    select 'crm' as source, crm_id as source_record_id
    from {{ ref('stg_crm__customers') }} where {{ identity_new_row(prev) }}
    union select 'ecommerce', account_id from {{ ref('stg_ecommerce__accounts') }} where {{ identity_new_row(prev) }}
    union select 'ecommerce', order_id from ({{ new_orders }}) o
    -- forms and partner appends are small tables rebuilt whole: every record is a candidate
    union select 'forms', signup_id from {{ ref('stg_forms__signups') }}
    union select 'partners', crm_id from {{ ref('stg_partners__email_appends') }}
    union {{ identity_event_candidates(prev, 'pos', ref('stg_pos__receipt_lines'), source('raw', 'pos__receipts'),
                                       'receipt_id', 'loyalty_card_id', clean_text('loyalty_card_id')) }}
    union {{ identity_event_candidates(prev, 'callcenter', ref('stg_callcenter__calls'), source('raw', 'callcenter__calls'),
                                       'call_id', 'caller_phone_raw', 'caller_phone') }}
    union {{ identity_event_candidates(prev, 'esp', ref('stg_esp__events'), source('raw', 'esp__events'),
                                       'event_id', 'recipient_raw', 'recipient') }}
    union {{ identity_event_candidates(prev, 'web', ref('stg_web__events'), source('raw', 'web__events'),
                                       'event_id', 'anonymous_id', clean_text('anonymous_id')) }}
    -- a caller's keys come from the orders its calls are about
    union select 'callcenter', caller_phone_raw from {{ ref('stg_callcenter__calls') }}
    where order_id in ({{ new_orders }})
    union {{ identity_erased_since(prev) }}
{%- endmacro %}

{#- Record ids of an event silo touched since the previous build: the record of every new row,
    the records older versions of those rows (still in raw) belonged to, and every record of the
    silo when a late or reloaded file came in. -#}
{% macro identity_event_candidates(prev, source_name, staging, raw, event_key, record_col, raw_record_expr) -%}
    select '{{ source_name }}', {{ record_col }}
    from {{ staging }} where {{ identity_new_row(prev) }}
    union
    select '{{ source_name }}', {{ raw_record_expr }}
    from {{ raw }}
    where _file_date <= {{ prev.night }}
      and trim({{ event_key }}) in (select {{ event_key }} from {{ staging }}
                                    where file_date > {{ prev.night }} and file_date <= {{ as_of_date() }})
    union
    select '{{ source_name }}', {{ record_col }} from {{ staging }}
    where {{ identity_late_rows(staging, prev) }}
{%- endmacro %}

{#- Records the privacy step scrubbed since the previous build (it logs them). -#}
{% macro identity_erased_since(prev) -%}
    select source, source_record_id from {{ ref('int_identity__record_changes') }}
    where change = 'erasure' and changed_at > {{ prev.changed_at }}
{%- endmacro %}

{#- Restrict a source CTE to the candidate ids of one source (no-op on a whole build). -#}
{% macro identity_only(prev, source_name, id_expr) -%}
    {%- if prev is not none %}
    and {{ id_expr }} in (select source_record_id from candidates where source = '{{ source_name }}')
    {%- endif -%}
{%- endmacro %}

{#- post_hooks (each one statement): log the records this build rewrote (tonight's stamp), drop
    the tombstones of vanished records (drop_placeholders), log a marker of the build, prune the log. -#}
{% macro identity_log_rows(model) -%}
    {%- if is_incremental() -%}
    insert into {{ ref('int_identity__record_changes') }}
        (source, source_record_id, model, change, night, changed_at, loaded_until)
    select distinct source, source_record_id, '{{ model }}', 'record', {{ as_of_date() }}, {{ identity_stamp() }},
           cast(null as timestamp)
    from {{ this }} where changed_at = {{ identity_stamp() }}
    {%- endif -%}
{%- endmacro %}

{% macro identity_log_marker(model) -%}
    insert into {{ ref('int_identity__record_changes') }}
        (source, source_record_id, model, change, night, changed_at, loaded_until)
    select cast(null as {{ dbt.type_string() }}), cast(null as {{ dbt.type_string() }}), '{{ model }}',
           '{{ "build" if is_incremental() else "full_build" }}', {{ as_of_date() }}, {{ identity_stamp() }},
           (select max(t) from (
                select max(loaded_at) as t from {{ ref('stg_crm__customers') }}
                union all select max(loaded_at) from {{ ref('stg_ecommerce__accounts') }}
                union all select max(loaded_at) from {{ ref('stg_ecommerce__orders') }}
                union all select max(loaded_at) from {{ ref('stg_pos__receipt_lines') }}
                union all select max(loaded_at) from {{ ref('stg_callcenter__calls') }}
                union all select max(loaded_at) from {{ ref('stg_esp__events') }}
                union all select max(loaded_at) from {{ ref('stg_web__events') }}) loads)
{%- endmacro %}

{#- The log keeps 35 days of changes; the identity step re-reads everything when its last read
    is older than what the log still holds. -#}
{% macro identity_prune_log() -%}
    {{ return(adapter.dispatch('identity_prune_log')()) }}
{%- endmacro %}
{% macro default__identity_prune_log() -%}
    delete from {{ ref('int_identity__record_changes') }}
    where changed_at < {{ dbt.dateadd('day', -35, identity_stamp()) }}
{%- endmacro %}
{#- Spark's Parquet tables take no DELETE, and need none: there every identity model is a table
    built whole each night (incremental_materialization), the log with them. -#}
{% macro spark__identity_prune_log() -%}{%- endmacro %}
