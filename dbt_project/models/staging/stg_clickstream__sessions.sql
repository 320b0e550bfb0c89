-- Web and app sessions: one row per session_id.
with source as (
    select * from {{ source('raw', 'sessions') }}
),

deduped as (
    {{ latest_per_key('source', ['session_id']) }}
)

select
    session_id,
    customer_id,
    channel                                         as channel_id,
    device,
    started_at,
    ended_at,
    cast(ended_at as date)                          as session_date,
    date_diff('second', started_at, ended_at)       as duration_seconds,
    cast(page_views as integer)                     as page_views,
    cart_id,
    order_id,
    order_id is not null                            as is_converted,
    _batch_date                                     as batch_date,
    _loaded_at                                      as loaded_at
from deduped
