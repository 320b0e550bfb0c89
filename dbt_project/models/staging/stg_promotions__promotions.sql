-- The promotion calendar: the latest version of each promotion (the calendar exports promotions
-- created or changed that day). `channel` is a channel id or 'all'.
with source as (
    select * from {{ source('raw', 'promotions') }}
),

deduped as (
    {{ latest_per_key('source', ['promo_id'], order_by='updated_at desc') }}
)

select
    promo_id,
    product_id,
    channel                         as channel_scope,
    cast(discount_pct as double)    as discount_pct,
    starts_on,
    ends_on,
    lower(promo_type)               as promo_type,
    lower(status)                   as status,
    updated_at,
    _batch_date                     as last_changed_date,
    _loaded_at                      as loaded_at
from deduped
