-- Serving schema read by Superset, the alert service and notebooks.
-- Applied idempotently by `infra/postgres.sh start`.
CREATE SCHEMA IF NOT EXISTS serving;

-- One row per day, town, category and channel, written by the nightly job.
CREATE TABLE IF NOT EXISTS serving.daily_counts (
    day            date        NOT NULL,
    town_code      text        NOT NULL,
    town_name      text        NOT NULL,
    category       text        NOT NULL,
    category_label text        NOT NULL,
    source         text        NOT NULL,
    source_label   text        NOT NULL,
    events         bigint      NOT NULL,
    computed_at    timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (day, town_code, category, source)
);

-- Expected event rate per spatial cell and category, written by the nightly job.
CREATE TABLE IF NOT EXISTS serving.cell_baselines (
    cell_id        text             NOT NULL,
    category       text             NOT NULL,
    town_code      text             NOT NULL,
    days_observed  integer          NOT NULL,
    events         bigint           NOT NULL,
    rate_per_hour  double precision NOT NULL,
    computed_at    timestamptz      NOT NULL DEFAULT now(),
    PRIMARY KEY (cell_id, category)
);

-- Hotspot alerts, written from the alerts topic; alert_id makes writes idempotent.
CREATE TABLE IF NOT EXISTS serving.alerts (
    alert_id      text             PRIMARY KEY,
    cell_id       text             NOT NULL,
    category      text             NOT NULL,
    category_label text            NOT NULL,
    window_start  timestamptz      NOT NULL,
    window_end    timestamptz      NOT NULL,
    observed      bigint           NOT NULL,
    expected      double precision NOT NULL,
    p_value       double precision NOT NULL,
    score         double precision NOT NULL,
    severity      text             NOT NULL,
    baseline_source text           NOT NULL,
    district_code text             NOT NULL,
    town_code     text             NOT NULL,
    town_name     text             NOT NULL,
    village_code  text             NOT NULL,
    village_name  text             NOT NULL,
    lon           double precision NOT NULL,
    lat           double precision NOT NULL,
    emitted_at    timestamptz      NOT NULL,
    stored_at     timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS alerts_window_end_idx ON serving.alerts (window_end DESC);

-- Baselines v2 (nightly job): the smoothed rate in rate_per_hour, and how it
-- was reached (features/cell_rates.py). Nullable: rows of v1 had none.
ALTER TABLE serving.cell_baselines ADD COLUMN IF NOT EXISTS exposure_hours      double precision;
ALTER TABLE serving.cell_baselines ADD COLUMN IF NOT EXISTS raw_rate_per_hour   double precision;
ALTER TABLE serving.cell_baselines ADD COLUMN IF NOT EXISTS prior_rate_per_hour double precision;

-- Emerging hot spot class of every cell of the district over the last days
-- (features/cell_trends.py), written by the nightly job.
CREATE TABLE IF NOT EXISTS serving.cell_trends (
    cell_id        text             PRIMARY KEY,
    town_code      text             NOT NULL,
    town_name      text             NOT NULL,
    lon            double precision NOT NULL,
    lat            double precision NOT NULL,
    pattern        text             NOT NULL,
    pattern_label  text             NOT NULL,
    hot_days       integer          NOT NULL,
    cold_days      integer          NOT NULL,
    mk_z           double precision NOT NULL,
    mk_p           double precision NOT NULL,
    latest_gi_z    double precision NOT NULL,
    days           integer          NOT NULL,
    first_day      date             NOT NULL,
    last_day       date             NOT NULL,
    computed_at    timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS cell_trends_town_pattern_idx ON serving.cell_trends (town_code, pattern);
