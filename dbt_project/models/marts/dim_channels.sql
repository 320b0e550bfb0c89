-- One row per sales channel (latest channel list).
select
    channel_id,
    channel_name    as name,
    channel_type,
    fee_rate
from {{ ref('stg_pim__channels') }}
