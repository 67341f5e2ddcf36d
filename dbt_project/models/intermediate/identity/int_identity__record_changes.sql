{{ config(materialized='incremental', incremental_strategy='append', on_schema_change='append_new_columns') }}
-- The change log of the identity inputs (macros/identity.sql). Its rows are written by the
-- post-hooks of int_identity__records / int_identity__record_keys (the records each build
-- rewrote or deleted, and a marker per build) and by the privacy step (the records it scrubbed);
-- this model only creates the table. The identity step reads the entries newer than its last
-- read instead of fingerprinting every record.
select
    cast(null as {{ dbt.type_string() }}) as source,
    cast(null as {{ dbt.type_string() }}) as source_record_id,
    cast(null as {{ dbt.type_string() }}) as model,
    cast(null as {{ dbt.type_string() }}) as change,
    cast(null as date) as night,
    cast(null as timestamp) as changed_at,
    cast(null as timestamp) as loaded_until
where 1 = 0
