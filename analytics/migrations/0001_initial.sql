-- The history: what the market did, what the fleet did, what the daemon decided.
-- All times are UTC, stored as TIMESTAMP. A pool is 'region/zone/instance_type'.
-- Fact tables are keyed by their natural key; ingest inserts only rows whose key is new,
-- so ingesting the same input twice changes nothing.

CREATE TABLE pools (
    pool          VARCHAR PRIMARY KEY,
    region        VARCHAR NOT NULL,
    zone          VARCHAR NOT NULL,   -- a zone name (us-east-1a), or a zone ID (use1-az1) where the source gives only that
    instance_type VARCHAR NOT NULL,
    accelerator   VARCHAR             -- the spot-traces accelerator tag (v100_1), where the pool came from a trace
);

-- DescribeSpotPriceHistory rows, keyed by (zone, instance_type, product, ts). No index: ingest
-- enforces the key with an anti-join, several times faster than an index at tens of millions of
-- rows; short key columns (not the pool string) keep that join cheap. `pool` is computed on read.
CREATE TABLE spot_prices (
    region        VARCHAR   NOT NULL,
    zone          VARCHAR   NOT NULL,
    instance_type VARCHAR   NOT NULL,
    product       VARCHAR   NOT NULL,   -- ProductDescription: 'Linux/UNIX', 'Windows', ...
    ts            TIMESTAMP NOT NULL,
    price         DOUBLE    NOT NULL,   -- $/hour
    source        VARCHAR   NOT NULL,   -- where the row came from: a file name, or 'aws:<region>'
    pool          VARCHAR GENERATED ALWAYS AS (region || '/' || zone || '/' || instance_type) VIRTUAL
);

CREATE TABLE on_demand_prices (
    region           VARCHAR   NOT NULL,
    instance_type    VARCHAR   NOT NULL,
    operating_system VARCHAR   NOT NULL,
    effective_at     TIMESTAMP NOT NULL,
    price            DOUBLE    NOT NULL,   -- $/hour
    source           VARCHAR   NOT NULL,
    PRIMARY KEY (region, instance_type, operating_system, effective_at)
);

-- How many spot instances of a pool could be held at a time (spot-traces), or were observed held.
CREATE TABLE capacity_observations (
    pool       VARCHAR   NOT NULL,
    ts         TIMESTAMP NOT NULL,
    capacity   INTEGER   NOT NULL,    -- 0 = none could be held
    interval_s INTEGER   NOT NULL,    -- the sampling interval this observation stands for
    source     VARCHAR   NOT NULL     -- e.g. 'spot-traces/availability/1-node/aws-02-15-2023'
);

-- Every kind of bad news, one row each: EventBridge envelopes (kept raw beside the parsed fields),
-- capacity losses implied by traces, and messages that could not be parsed (kind 'unparseable').
CREATE TABLE interruption_events (
    event_id    VARCHAR PRIMARY KEY,  -- the envelope's id, or a hash of the payload when it has none
    kind        VARCHAR   NOT NULL,   -- see analytics.events.Kind
    ts          TIMESTAMP NOT NULL,
    region      VARCHAR,
    pool        VARCHAR,              -- where known (from the nodes table, or the trace)
    instance_id VARCHAR,
    detail      VARCHAR,              -- instance-action, new state, health event code, or the parse error
    nodes_lost  INTEGER,              -- capacity lost, for events implied by traces
    source      VARCHAR   NOT NULL,   -- 'aws.ec2', 'aws.health', 'trace:<collection>', ...
    raw         VARCHAR               -- the message as received
);

-- The AWS Spot Instance Advisor: savings and interruption-frequency band per region, OS and type.
CREATE TABLE advisor_bands (
    region           VARCHAR NOT NULL,
    operating_system VARCHAR NOT NULL,
    instance_type    VARCHAR NOT NULL,
    savings_pct      INTEGER NOT NULL,
    band             INTEGER NOT NULL,   -- 0: <5% ... 4: >20% interrupted per month
    band_label       VARCHAR NOT NULL,
    band_max_pct     INTEGER NOT NULL,
    source           VARCHAR NOT NULL,
    PRIMARY KEY (region, operating_system, instance_type)
);

-- The interruption model's output: P(pool with capacity now loses it within horizon_s).
CREATE TABLE predictions (
    pool        VARCHAR   NOT NULL,
    ts          TIMESTAMP NOT NULL,
    horizon_s   INTEGER   NOT NULL,
    probability DOUBLE    NOT NULL,
    model_id    VARCHAR   NOT NULL,
    basis       VARCHAR   NOT NULL,   -- 'model', 'advisor_prior' (too little history), 'marked' (recent interruption)
    PRIMARY KEY (pool, ts, horizon_s, model_id)
);

CREATE TABLE decisions (
    decision_id   VARCHAR PRIMARY KEY,
    ts            TIMESTAMP NOT NULL,
    fleet         VARCHAR   NOT NULL,
    mode          VARCHAR   NOT NULL,   -- 'shadow', 'pulumi', 'local', ...
    placement     JSON,                 -- the placement of stacks/spec.py
    desired_nodes INTEGER,
    changed       BOOLEAN   NOT NULL,   -- the placement differs from the one in force
    applied       BOOLEAN   NOT NULL,
    reason        VARCHAR   NOT NULL,
    reasons       JSON                  -- per pool: why it was kept, ranked or rejected
);

CREATE TABLE fleet_actions (
    action_id   VARCHAR PRIMARY KEY,
    decision_id VARCHAR,
    ts          TIMESTAMP NOT NULL,
    fleet       VARCHAR   NOT NULL,
    kind        VARCHAR   NOT NULL,   -- 'stack_update', 'set_desired', 'launch', 'drain', ...
    target      VARCHAR,
    status      VARCHAR   NOT NULL,   -- 'planned', 'applied', 'skipped', 'failed'
    detail      VARCHAR
);

CREATE TABLE nodes (
    instance_id        VARCHAR PRIMARY KEY,
    fleet              VARCHAR,
    pool               VARCHAR,
    lifecycle          VARCHAR NOT NULL,   -- 'spot' or 'on-demand'
    state              VARCHAR NOT NULL,
    launched_at        TIMESTAMP,
    ready_at           TIMESTAMP,
    terminated_at      TIMESTAMP,
    termination_reason VARCHAR,
    hourly_price       DOUBLE,
    observed_at        TIMESTAMP NOT NULL
);

CREATE TABLE jobs (
    job_id       VARCHAR PRIMARY KEY,
    fleet        VARCHAR,
    state        VARCHAR NOT NULL,   -- 'started', 'completed', 'failed', 'released', 'dead_lettered'
    instance_id  VARCHAR,
    pool         VARCHAR,
    model        VARCHAR,
    submitted_at TIMESTAMP,
    started_at   TIMESTAMP,
    finished_at  TIMESTAMP,
    seconds      DOUBLE,
    attempts     INTEGER NOT NULL DEFAULT 0,
    error        VARCHAR,
    updated_at   TIMESTAMP NOT NULL
);
