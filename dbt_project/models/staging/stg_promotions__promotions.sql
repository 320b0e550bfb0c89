-- The promotion calendar: the latest version of each promotion (the calendar exports promotions
-- created or changed that day). `channel` is a channel id or 'all'. `announced_on` is the first
-- batch that carried the promotion: what the shop knew about its own plans, and since when.
with source as (
    select
        *,
        min(_batch_date) over (partition by promo_id)   as first_batch_date
    from {{ source('raw', 'promotions') }}
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
    first_batch_date                as announced_on,
    _batch_date                     as last_changed_date,
    _loaded_at                      as loaded_at
from deduped
