-- Every calendar day from the first to the last day with commerce data (orders, prices or stock),
-- including days in between that have no data at all, so daily grids have no holes.
with data_days as (
    select min(order_date) as first_date, max(order_date) as last_date from {{ ref('stg_oms__orders') }}
    union all
    select min(price_date), max(price_date) from {{ ref('stg_pricing__prices') }}
    union all
    select min(snapshot_date), max(snapshot_date) from {{ ref('stg_wms__inventory_snapshots') }}
),

bounds as (
    select min(first_date) as first_date, max(last_date) as last_date
    from data_days
)

select
    cast(day as date)                       as date_day,
    cast(isodow(day) as integer)            as day_of_week,
    dayname(day)                            as day_name,
    isodow(day) in (6, 7)                   as is_weekend,
    cast(date_trunc('week', day) as date)   as week_start,
    cast(date_trunc('month', day) as date)  as month_start
from bounds,
    unnest(generate_series(cast(first_date as timestamp), cast(last_date as timestamp), interval 1 day)) as t(day)
where first_date is not null
