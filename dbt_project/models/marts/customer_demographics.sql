-- Declared socio-demographics per customer: age and age band at the night (from the declared
-- birth date), household size, children, occupation, income band (latest CRM record). Erased
-- people keep a row with every attribute null. A birth date the contract keeps but no age can
-- come from (in the future, or over 120 years ago) gives no age: flagged by a warning test.
with aged as (
    select
        customer_id,
        case when birth_date is not null and {{ years_between('birth_date', as_of_date()) }} between 0 and 120
            then {{ years_between('birth_date', as_of_date()) }} end as age,
        is_erased,
        household_size,
        children_count,
        occupation,
        income_band
    from {{ ref('dim_customer') }}
)

select
    customer_id,
    cast(age as integer) as age,
    case
        when age is null then null
        when age < 18 then 'under_18'
        when age < 25 then '18-24'
        when age < 35 then '25-34'
        when age < 45 then '35-44'
        when age < 55 then '45-54'
        when age < 65 then '55-64'
        else '65+'
    end as age_band,
    case when is_erased then null else household_size end as household_size,
    case when is_erased then null else children_count end as children_count,
    occupation,
    income_band
from aged
