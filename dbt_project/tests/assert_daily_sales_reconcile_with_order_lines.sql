{{ config(meta={'dagster': {'ref': {'name': 'fct_daily_sales'}}}) }}
-- fct_daily_sales must account for every unit and every euro in fct_order_lines: the grid covers
-- every product, channel and day that has a sale. Returns a row when totals disagree.
with daily as (
    select sum(units) as units, sum(revenue) as revenue from {{ ref('fct_daily_sales') }}
),

lines as (
    select sum(quantity) as units, sum(line_total) as revenue from {{ ref('fct_order_lines') }}
)

select
    daily.units     as daily_units,
    lines.units     as line_units,
    daily.revenue   as daily_revenue,
    lines.revenue   as line_revenue
from daily, lines
where coalesce(daily.units, 0) <> coalesce(lines.units, 0)
   or abs(coalesce(daily.revenue, 0) - coalesce(lines.revenue, 0)) > 0.01 * greatest(1, (select count(*) from {{ ref('fct_daily_sales') }} where units > 0))
