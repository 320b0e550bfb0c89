-- Scraped competitor offers: at most one per competitor x product x day (the latest scrape wins).
with source as (
    select
        *,
        cast(scraped_at as date) as price_date
    from {{ source('raw', 'competitor_prices') }}
),

deduped as (
    {{ latest_per_key('source', ['competitor', 'product_id', 'price_date'], order_by='scraped_at desc') }}
)

select
    competitor,
    product_id,
    price_date,
    scraped_at,
    competitor_sku,
    cast(price as double)   as competitor_price,
    upper(currency)         as currency,
    in_stock,
    _batch_date             as batch_date,
    _loaded_at              as loaded_at
from deduped
