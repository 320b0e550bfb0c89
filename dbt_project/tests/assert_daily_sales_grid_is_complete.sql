{{ config(meta={'dagster': {'ref': {'name': 'fct_daily_sales'}}}) }}
-- fct_daily_sales is a full grid: one row for every product x channel x day of the date spine.
-- Returns a row when the row count differs from products x channels x days.
with expected as (
    select
        (select count(*) from {{ ref('dim_products') }})
        * (select count(*) from {{ ref('dim_channels') }})
        * (select count(*) from {{ ref('int_date_spine') }}) as n_rows
),

actual as (
    select count(*) as n_rows from {{ ref('fct_daily_sales') }}
)

select expected.n_rows as expected_rows, actual.n_rows as actual_rows
from expected, actual
where expected.n_rows <> actual.n_rows
