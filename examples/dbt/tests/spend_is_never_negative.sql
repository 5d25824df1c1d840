-- A singular test: rows returned are failures.
select * from {{ ref('daily_campaign_spend') }} where spend < 0
