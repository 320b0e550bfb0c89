-- One resolved price per product x channel x day over the whole date spine.
--   price:         the pricing engine's effective price; else the average paid price in that day's
--                  order lines; else the last known price (carried forward)
--   regular_price: the same chain for the price before promotions
--   promo_id:      the pricing engine's promo id; else an order line's; else the promotion calendar's
with grid as (
    select spine.date_day, products.product_id, channels.channel_id
    from {{ ref('int_date_spine') }} as spine
    cross join (select distinct product_id from {{ ref('stg_pim__products') }}) as products
    cross join (select channel_id from {{ ref('stg_pim__channels') }}) as channels
),

joined as (
    select
        grid.date_day,
        grid.product_id,
        grid.channel_id,
        prices.price                    as engine_price,
        prices.regular_price            as engine_regular_price,
        prices.promo_id                 as engine_promo_id,
        sales.avg_paid_unit_price,
        sales.avg_regular_unit_price,
        sales.promo_id                  as sales_promo_id,
        calendar.promo_id               as calendar_promo_id,
        calendar.discount_pct           as calendar_discount_pct
    from grid
    left join {{ ref('stg_pricing__prices') }} as prices
        on grid.product_id = prices.product_id
        and grid.channel_id = prices.channel_id
        and grid.date_day = prices.price_date
    left join {{ ref('int_sales_daily') }} as sales
        on grid.product_id = sales.product_id
        and grid.channel_id = sales.channel_id
        and grid.date_day = sales.date_day
    left join {{ ref('int_promotion_calendar_daily') }} as calendar
        on grid.product_id = calendar.product_id
        and grid.channel_id = calendar.channel_id
        and grid.date_day = calendar.date_day
),

observed as (
    select
        *,
        coalesce(engine_price, avg_paid_unit_price)             as observed_price,
        coalesce(engine_regular_price, avg_regular_unit_price)  as observed_regular_price
    from joined
)

select
    date_day,
    product_id,
    channel_id,
    coalesce(
        observed_price,
        last_value(observed_price ignore nulls) over carried
    )                                                           as price,
    coalesce(
        observed_regular_price,
        last_value(observed_regular_price ignore nulls) over carried
    )                                                           as regular_price,
    case
        when engine_price is not null then 'pricing_engine'
        when avg_paid_unit_price is not null then 'order_lines'
        when last_value(observed_price ignore nulls) over carried is not null then 'carried_forward'
    end                                                         as price_source,
    coalesce(engine_promo_id, sales_promo_id, calendar_promo_id) as promo_id,
    engine_promo_id,
    calendar_promo_id,
    calendar_discount_pct
from observed
window carried as (
    partition by product_id, channel_id
    order by date_day
    rows between unbounded preceding and 1 preceding
)
