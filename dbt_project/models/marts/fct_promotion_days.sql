-- The promotion calendar, one row per product x channel x day on which an effective promotion runs,
-- past and scheduled. Forecasts read the scheduled days (and, in backtests, only the promotions
-- announced by the forecast origin).
select
    date_day        as date,
    product_id,
    channel_id      as channel,
    promo_id,
    discount_pct,
    promo_type,
    announced_on
from {{ ref('int_promotion_calendar_daily') }}
