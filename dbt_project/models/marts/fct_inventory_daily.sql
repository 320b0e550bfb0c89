-- One row per day x product x warehouse with an end-of-day stock snapshot, its value at that
-- day's unit cost, and how many days it covers at the recent pace of sales.
with product_days as (
    -- units per product per day over the whole spine (zero where nothing sold), all channels
    select
        spine.date_day,
        products.product_id,
        cast(coalesce(sum(sales.units), 0) as bigint) as units
    from {{ ref('int_date_spine') }} as spine
    cross join (select distinct product_id from {{ ref('stg_pim__products') }}) as products
    left join {{ ref('int_sales_daily') }} as sales
        on spine.date_day = sales.date_day
        and products.product_id = sales.product_id
    group by spine.date_day, products.product_id
),

demand as (
    select
        date_day,
        product_id,
        avg(units) over (
            partition by product_id
            order by date_day
            rows between {{ var('days_of_cover_window') - 1 }} preceding and current row
        ) as trailing_mean_daily_units
    from product_days
),

snapshots as (
    select * from {{ ref('stg_wms__inventory_snapshots') }}
),

costed as (
    select
        snapshots.*,
        catalog.unit_cost
    from snapshots
    asof left join {{ ref('int_products_daily') }} as catalog
        on snapshots.product_id = catalog.product_id
        and snapshots.snapshot_date >= catalog.snapshot_date
)

select
    costed.snapshot_date                                        as date,
    costed.product_id,
    costed.warehouse_id,
    costed.on_hand,
    costed.on_order,
    costed.received_today,
    costed.on_hand = 0                                          as is_stockout,
    demand.trailing_mean_daily_units,
    case
        when demand.trailing_mean_daily_units > 0
            then costed.on_hand / demand.trailing_mean_daily_units
    end                                                         as days_of_cover,
    costed.unit_cost,
    round(costed.on_hand * costed.unit_cost, 2)                 as stock_value
from costed
left join demand
    on costed.product_id = demand.product_id
    and costed.snapshot_date = demand.date_day
