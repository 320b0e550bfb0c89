-- The current profile per customer. The first CDP batch is a full export, later batches carry
-- new and changed profiles only, so the latest row per customer_id is the current profile.
with source as (
    select * from {{ source('raw', 'customers') }}
),

deduped as (
    {{ latest_per_key('source', ['customer_id'], order_by='updated_at desc') }}
),

first_seen as (
    select customer_id, min(_batch_date) as first_seen_date
    from source
    group by customer_id
)

select
    deduped.customer_id,
    deduped.email_sha256,
    lower(deduped.segment)              as segment,
    deduped.region,
    deduped.signup_date,
    deduped.marketing_opt_in,
    deduped.preferred_channel           as preferred_channel_id,
    deduped.updated_at,
    first_seen.first_seen_date,
    deduped._batch_date                 as last_changed_date,
    deduped._loaded_at                  as loaded_at
from deduped
inner join first_seen using (customer_id)
