-- One row per product per catalog snapshot day. The PIM exports the full catalog every day, so
-- this keeps the history (unit cost moves over time); dim_products takes the latest row.
with source as (
    select * from {{ source('raw', 'products') }}
),

deduped as (
    {{ latest_per_key('source', ['product_id', '_batch_date'], order_by='updated_at desc') }}
)

select
    product_id,
    _batch_date                         as snapshot_date,
    sku,
    name                                as product_name,
    category,
    brand,
    cast(list_price as double)          as list_price,
    cast(unit_cost as double)           as unit_cost,
    upper(currency)                     as currency,
    cast(weight_kg as double)           as weight_kg,
    nullif(trim(description), '')       as description,
    cast(image_count as integer)        as image_count,
    case when attributes is null or trim(attributes) in ('', 'null', '{}') then null
         else attributes end            as attributes_json,
    lower(status)                       as status,
    launched_on,
    updated_at,
    _batch_id                           as batch_id,
    _run_id                             as run_id,
    _loaded_at                          as loaded_at
from deduped
