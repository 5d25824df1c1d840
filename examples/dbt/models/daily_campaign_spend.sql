-- Daily spend per campaign, in the currency of the campaign's ad account.
-- pinads keeps spend exact, as integer micro-units (1e-6) of the account's currency (whatever
-- "micro_dollar" says, a EUR account's spend is micro-euros). Multiplying by a DECIMAL keeps
-- it exact too: no float ever touches money here.
-- The attribution windows are key columns of a pinads table; spend does not depend on them,
-- so each campaign-day is counted once whichever windows were read.
with spend_rows as (
    select distinct
        date,
        ad_account_id,
        campaign_id,
        campaign_name,
        _pinads_account_currency as currency,
        spend_in_micro_dollar
    from {{ source('pinads', 'campaign_daily') }}
)

select
    date,
    ad_account_id,
    campaign_id,
    max(campaign_name) as campaign_name,
    currency,
    sum(spend_in_micro_dollar) as spend_micro,
    cast(sum(spend_in_micro_dollar) as decimal(38, 0)) * cast(0.000001 as decimal(7, 6)) as spend,
    campaign_id || ':' || cast(date as varchar) as campaign_day
from spend_rows
group by date, ad_account_id, campaign_id, currency
