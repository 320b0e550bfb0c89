-- The promotion calendar expanded to one row per product x channel x day on which an effective
-- promotion runs. A promotion for channel 'all' applies to every channel; when promotions overlap,
-- the deepest discount wins (ties: the latest promo_id).
with promotions as (
    select * from {{ ref('int_promotions_current') }}
    where is_effective and ends_on >= starts_on
),

channels as (
    select channel_id from {{ ref('stg_pim__channels') }}
),

expanded as (
    select
        cast(t.day as date)     as date_day,
        promotions.product_id,
        channels.channel_id,
        promotions.promo_id,
        promotions.discount_pct,
        promotions.promo_type,
        promotions.announced_on
    from promotions
    inner join channels
        on promotions.channel_scope = 'all' or promotions.channel_scope = channels.channel_id,
        unnest(generate_series(cast(promotions.starts_on as timestamp), cast(promotions.ends_on as timestamp),
                               interval 1 day)) as t(day)
)

select *
from expanded
qualify row_number() over (
    partition by date_day, product_id, channel_id
    order by discount_pct desc, promo_id desc
) = 1
