{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns') }}
-- The nights the re-attributing incremental marts were built. Each of them writes one row per
-- build from a post-hook (macros/marts.sql: log_reattribution_build); this model only creates the
-- table. identity_changed_customers() compares int_customer__record_sets.changed_on with the
-- latest of these nights: the latest date a fact holds is not its last night when the silo sent
-- nothing for a few days (e-mail campaigns are not daily), and a night after a full build would
-- then re-attribute every customer's whole history instead of tonight's changes.
select
    cast(null as {{ dbt.type_string() }}) as model,
    cast(null as date) as night,
    cast(null as {{ dbt.type_timestamp() }}) as built_at,
    cast(null as {{ dbt.type_timestamp() }}) as loaded_until
where 1 = 0
