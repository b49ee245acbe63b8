-- Spot capacity by hour of week (UTC), over every pool: when is capacity scarce?
SELECT
    (isodow(ts) - 1) * 24 + hour(ts) AS hour_of_week,
    dayname(ts) AS day,
    hour(ts) AS hour,
    count(*) AS samples,
    avg((capacity > 0)::INTEGER) AS available_fraction
FROM capacity_observations
GROUP BY ALL
ORDER BY hour_of_week
