-- What the daemon decided, by hour and fleet: how many decisions changed the placement, and why.
SELECT
    date_trunc('hour', ts) AS hour,
    fleet,
    count(*) AS decisions,
    count(*) FILTER (WHERE changed) AS changed,
    count(*) FILTER (WHERE applied) AS applied,
    arg_max(reason, ts) AS last_reason
FROM decisions
GROUP BY ALL
ORDER BY hour, fleet
