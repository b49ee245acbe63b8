-- The reconciliation daemon's own state, kept in the history so that a restart picks up
-- where it was: what it last applied per fleet, its circuit breakers, the operator's mode.
CREATE TABLE daemon_state (
    key        VARCHAR PRIMARY KEY,   -- 'applied:<fleet>', 'breaker:<fleet>', 'mode'
    value      JSON      NOT NULL,
    updated_at TIMESTAMP NOT NULL
);

-- How many nodes an action rolls (a placement change replaces the nodes whose pool left it);
-- the churn limit sums this over the last hour.
ALTER TABLE fleet_actions ADD COLUMN nodes_rolled INTEGER;
