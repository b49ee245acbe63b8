-- Interruptions by pool and week: capacity losses and spot notices, per day of capacity held.
WITH losses AS (
    SELECT pool, date_trunc('week', ts) AS week, count(*) AS interruptions
    FROM interruption_events
    WHERE kind IN ('capacity_loss', 'spot_interruption_warning') AND pool IS NOT NULL
    GROUP BY ALL
),
exposure AS (
    SELECT pool, date_trunc('week', ts) AS week,
           sum(interval_s) FILTER (WHERE capacity > 0) / 86400.0 AS available_days
    FROM capacity_observations
    GROUP BY ALL
)
SELECT
    pool,
    week::DATE AS week,
    coalesce(l.interruptions, 0) AS interruptions,
    e.available_days,
    coalesce(l.interruptions, 0) / nullif(e.available_days, 0) AS interruptions_per_available_day
FROM exposure e
FULL OUTER JOIN losses l USING (pool, week)
ORDER BY pool, week
