-- Declared socio-demographics per customer: age and age band at the night (from the declared
-- birth date), household size, children, occupation, income band (latest CRM record). Erased
-- people keep a row with every attribute null.
select
    customer_id,
    cast({{ years_between('birth_date', as_of_date()) }} as integer) as age,
    case
        when birth_date is null then null
        when {{ years_between('birth_date', as_of_date()) }} < 18 then 'under_18'
        when {{ years_between('birth_date', as_of_date()) }} < 25 then '18-24'
        when {{ years_between('birth_date', as_of_date()) }} < 35 then '25-34'
        when {{ years_between('birth_date', as_of_date()) }} < 45 then '35-44'
        when {{ years_between('birth_date', as_of_date()) }} < 55 then '45-54'
        when {{ years_between('birth_date', as_of_date()) }} < 65 then '55-64'
        else '65+'
    end as age_band,
    case when is_erased then null else household_size end as household_size,
    case when is_erased then null else children_count end as children_count,
    occupation,
    income_band
from {{ ref('dim_customer') }}
