-- The current list of sales channels: latest version of each channel (the PIM re-sends the
-- full list every day).
with source as (
    select * from {{ source('raw', 'channels') }}
),

deduped as (
    {{ latest_per_key('source', ['channel_id']) }}
)

select
    channel_id,
    name                        as channel_name,
    lower(channel_type)         as channel_type,
    cast(fee_rate as double)    as fee_rate,
    _batch_date                 as last_seen_date,
    _loaded_at                  as loaded_at
from deduped
