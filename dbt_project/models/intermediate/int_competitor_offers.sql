-- Competitor offers per competitor x product x day next to our own effective price that day on the
-- reference channel (var our_price_channel), with a flag for implausible competitor prices.
with offers as (
    select * from {{ ref('stg_scraper__competitor_prices') }}
),

ours as (
    select date_day, product_id, price, regular_price
    from {{ ref('int_prices_daily') }}
    where channel_id = '{{ var("our_price_channel") }}'
)

select
    offers.price_date,
    offers.product_id,
    offers.competitor,
    offers.competitor_sku,
    offers.scraped_at,
    offers.competitor_price,
    offers.currency,
    offers.in_stock,
    ours.price                                              as our_price,
    ours.regular_price                                      as our_regular_price,
    ours.price / nullif(offers.competitor_price, 0)         as price_index,
    -- more than 5x or less than a fifth of our price: most likely a scraping error (a price in cents)
    coalesce(
        offers.competitor_price > 5 * ours.price or offers.competitor_price < ours.price / 5,
        false
    )                                                       as is_suspect_price
from offers
left join ours
    on offers.product_id = ours.product_id
    and offers.price_date = ours.date_day
