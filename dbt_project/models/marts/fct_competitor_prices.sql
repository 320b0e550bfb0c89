-- One row per scraped competitor offer and day, next to our own effective price that day on the
-- reference channel (var our_price_channel, default 'web').
select
    price_date          as date,
    product_id,
    competitor,
    competitor_sku,
    scraped_at,
    competitor_price,
    currency,
    in_stock,
    our_price,
    our_regular_price,
    price_index,
    is_suspect_price
from {{ ref('int_competitor_offers') }}
