-- The current state of every promotion (latest version), with its length and whether it still
-- counts (cancelled promotions never apply).
select
    promo_id,
    product_id,
    channel_scope,
    discount_pct,
    starts_on,
    ends_on,
    date_diff('day', starts_on, ends_on) + 1    as duration_days,
    promo_type,
    status,
    status <> 'cancelled'                       as is_effective,
    updated_at,
    announced_on,
    last_changed_date
from {{ ref('stg_promotions__promotions') }}
