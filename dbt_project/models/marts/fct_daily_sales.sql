-- One row per product x channel x day over the full date spine, zero-filled where nothing sold.
-- Joins what sold, at which price, under which promotion, against which competitor price, and
-- whether stock ran out (then that day's sales are censored: demand was higher than units).
with prices as (
    select * from {{ ref('int_prices_daily') }}
),

sales as (
    select * from {{ ref('int_sales_daily') }}
),

competitor as (
    select
        price_date,
        product_id,
        min(competitor_price) as competitor_price
    from {{ ref('int_competitor_offers') }}
    where not is_suspect_price
    group by price_date, product_id
),

latest_catalog as (
    select product_id, category, list_price, unit_cost
    from {{ ref('int_products_daily') }}
    qualify row_number() over (partition by product_id order by snapshot_date desc) = 1
),

grid as (
    select
        prices.*,
        catalog.category            as category_that_day,
        catalog.list_price          as list_price_that_day,
        catalog.unit_cost           as unit_cost_that_day
    from prices
    asof left join {{ ref('int_products_daily') }} as catalog
        on prices.product_id = catalog.product_id
        and prices.date_day >= catalog.snapshot_date
)

select
    grid.date_day                                           as date,
    grid.product_id,
    grid.channel_id                                         as channel,
    coalesce(grid.category_that_day, latest_catalog.category) as category,
    coalesce(sales.units, 0)                                as units,
    coalesce(sales.revenue, 0)                              as revenue,
    coalesce(sales.orders, 0)                               as orders,
    grid.price,
    grid.regular_price,
    grid.price_source,
    coalesce(grid.list_price_that_day, latest_catalog.list_price) as list_price,
    coalesce(grid.unit_cost_that_day, latest_catalog.unit_cost)   as unit_cost,
    round(
        coalesce(sales.revenue, 0)
        - coalesce(sales.units, 0) * coalesce(grid.unit_cost_that_day, latest_catalog.unit_cost),
        2
    )                                                       as gross_margin,
    grid.promo_id is not null                               as is_promo,
    grid.promo_id,
    case
        when grid.regular_price > 0 and grid.price is not null
            then round(100 * (1 - grid.price / grid.regular_price), 2)
    end                                                     as discount_pct,
    competitor.competitor_price,
    stock.on_hand                                           as on_hand_end_of_day,
    stock.on_hand = 0                                       as is_stockout,
    spine.day_of_week,
    spine.is_weekend
from grid
inner join {{ ref('int_date_spine') }} as spine
    on grid.date_day = spine.date_day
left join latest_catalog
    on grid.product_id = latest_catalog.product_id
left join sales
    on grid.product_id = sales.product_id
    and grid.channel_id = sales.channel_id
    and grid.date_day = sales.date_day
left join competitor
    on grid.product_id = competitor.product_id
    and grid.date_day = competitor.price_date
left join {{ ref('int_stock_daily') }} as stock
    on grid.product_id = stock.product_id
    and grid.date_day = stock.date_day
