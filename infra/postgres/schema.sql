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

-- Alert lifecycle (issue 3): one row per cluster, alert_id = cluster id, with
-- its latest update; every update is kept in serving.alert_updates.
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS cluster_id text;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS status text;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS status_label text;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS cells text[];
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS cell_stats jsonb;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS duration_minutes integer;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS llr double precision;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS p_method text;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS recurrence_interval_days double precision;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS threshold double precision;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS budget_per_town_month double precision;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS gi_star_z double precision;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS first_window_end timestamptz;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS updated_window_end timestamptz;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS looks integer;
-- Time scales (issue 16): the scale that raised the cluster and its share of the budget.
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS scale text;
ALTER TABLE serving.alerts ADD COLUMN IF NOT EXISTS budget_share double precision;

CREATE TABLE IF NOT EXISTS serving.alert_updates (
    alert_id           text             NOT NULL,
    updated_window_end timestamptz      NOT NULL,
    status             text             NOT NULL,
    observed           bigint           NOT NULL,
    expected           double precision NOT NULL,
    llr                double precision NOT NULL,
    p_value            double precision NOT NULL,
    recurrence_interval_days double precision NOT NULL,
    cells              text[]           NOT NULL,
    emitted_at         timestamptz      NOT NULL,
    PRIMARY KEY (alert_id, updated_window_end, status)
);

-- The published false-alarm budget against the alerts raised, per town and
-- month (clusters, not updates). Which alerts were false is known only after
-- duty staff close them; `zongzhi eval hotspots` measures it on a null stream.
CREATE OR REPLACE VIEW serving.alert_budget_status AS
SELECT date_trunc('month', first_window_end AT TIME ZONE 'Asia/Shanghai')::date AS month,
       town_code,
       town_name,
       count(*)                   AS clusters,
       max(budget_per_town_month) AS budget_per_town_month
FROM serving.alerts
WHERE cluster_id IS NOT NULL
GROUP BY 1, 2, 3;

-- Baselines v2 (nightly job): the smoothed rate in rate_per_hour, and how it
-- was reached (jobs/nightly/cell_rates.py). Nullable: rows of v1 had none.
ALTER TABLE serving.cell_baselines ADD COLUMN IF NOT EXISTS exposure_hours      double precision;
ALTER TABLE serving.cell_baselines ADD COLUMN IF NOT EXISTS raw_rate_per_hour   double precision;
ALTER TABLE serving.cell_baselines ADD COLUMN IF NOT EXISTS prior_rate_per_hour double precision;

-- Emerging hot spot class of every cell of the district over the last days
-- (jobs/nightly/cell_trends.py), written by the nightly job.
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

-- Watch-list alerts (issue 4): a watched vehicle read at a sensitive
-- checkpoint (pipelines/streaming/watch_alerts.py). One row per vehicle, checkpoint and
-- time slot (alert_id), with its latest read; every read is kept in
-- serving.watch_alert_reads, and reads / first / last are counted from it.
CREATE TABLE IF NOT EXISTS serving.watch_alerts (
    alert_id         text             PRIMARY KEY,
    status           text             NOT NULL,
    status_label     text             NOT NULL,
    vehicle_node     text             NOT NULL,
    plate_hash       text             NOT NULL,
    match            text             NOT NULL,
    match_label      text             NOT NULL,
    reason           text             NOT NULL,
    reason_label     text             NOT NULL,
    detail           text             NOT NULL,
    persons          text[]           NOT NULL,
    watch_as_of      text             NOT NULL,
    site_id          text             NOT NULL,
    site_name        text             NOT NULL,
    place_id         text             NOT NULL,
    place_name       text             NOT NULL,
    place_kind       text             NOT NULL,
    place_kind_label text             NOT NULL,
    distance_m       double precision NOT NULL,
    town_code        text             NOT NULL,
    town_name        text             NOT NULL,
    village_code     text             NOT NULL,
    village_name     text             NOT NULL,
    cell_id          text             NOT NULL,
    lon              double precision NOT NULL,
    lat              double precision NOT NULL,
    summary          text             NOT NULL,
    event_id         text             NOT NULL,
    event_time       timestamptz      NOT NULL,
    first_event_time timestamptz,
    reads            integer,
    emitted_at       timestamptz      NOT NULL,
    stored_at        timestamptz      NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS watch_alerts_event_time_idx ON serving.watch_alerts (event_time DESC);

CREATE TABLE IF NOT EXISTS serving.watch_alert_reads (
    alert_id    text        NOT NULL,
    event_id    text        NOT NULL,
    event_time  timestamptz NOT NULL,
    plate_hash  text        NOT NULL,
    match       text        NOT NULL,
    emitted_at  timestamptz NOT NULL,
    PRIMARY KEY (alert_id, event_id)
);

-- The alert service's closed loop (issue 13), in a schema of its own:
-- Superset reads serving.*, never the accounts' hashes or the sessions.
CREATE SCHEMA IF NOT EXISTS duty;

-- One account per person, bound to one center of the jurisdiction policy.
CREATE TABLE IF NOT EXISTS duty.accounts (
    username       text        PRIMARY KEY,
    center_id      text        NOT NULL,
    role           text        NOT NULL,
    display_name   text        NOT NULL,
    password_hash  text        NOT NULL,
    created_at     timestamptz NOT NULL DEFAULT now()
);

-- Page sessions and API tokens, by the SHA-256 of the secret the holder keeps.
CREATE TABLE IF NOT EXISTS duty.sessions (
    token_hash  text        PRIMARY KEY,
    username    text        NOT NULL REFERENCES duty.accounts (username),
    kind        text        NOT NULL,
    expires_at  timestamptz NOT NULL
);

-- Where each alert (hotspot cluster or watch alert) stands: its home center,
-- the center that holds it now, and its acknowledgement. Written with the
-- alert's own times, so that a replay of the alerts topic changes nothing.
CREATE TABLE IF NOT EXISTS duty.alert_assignments (
    alert_id         text        PRIMARY KEY,
    kind             text        NOT NULL,
    severity         text        NOT NULL,
    town_code        text,
    village_code     text,
    home_center      text        NOT NULL,
    center_id        text        NOT NULL,
    unlocated        boolean     NOT NULL,
    assigned_at      timestamptz NOT NULL,
    acknowledged_at  timestamptz,
    acknowledged_by  text
);

-- Every center told of an alert, and why (home, severity, escalation).
CREATE TABLE IF NOT EXISTS duty.alert_recipients (
    alert_id   text        NOT NULL,
    center_id  text        NOT NULL,
    reason     text        NOT NULL,
    told_at    timestamptz NOT NULL,
    PRIMARY KEY (alert_id, center_id)
);

-- Work orders (派单): an alert dispatched to a department.
CREATE TABLE IF NOT EXISTS duty.cases (
    case_id        text        PRIMARY KEY,
    alert_id       text        NOT NULL UNIQUE,
    center_id      text        NOT NULL,
    department     text        NOT NULL,
    state          text        NOT NULL,
    note           text        NOT NULL DEFAULT '',
    dispatched_by  text        NOT NULL,
    dispatched_at  timestamptz NOT NULL,
    updated_at     timestamptz NOT NULL
);

-- The audit trail: who did what to which alert or case, and when.
CREATE TABLE IF NOT EXISTS duty.audit (
    id       bigserial   PRIMARY KEY,
    at       timestamptz NOT NULL,
    actor    text        NOT NULL,
    action   text        NOT NULL,
    subject  text        NOT NULL,
    detail   jsonb       NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_subject_idx ON duty.audit (subject);

-- Webhook subscriptions of the alert service: one center's alerts, signed
-- with the subscription's secret (HMAC-SHA256), sent to one URL.
CREATE TABLE IF NOT EXISTS duty.webhook_subscriptions (
    subscription_id  text        PRIMARY KEY,
    center_id        text        NOT NULL,
    url              text        NOT NULL,
    secret           text        NOT NULL,
    created_by       text        NOT NULL,
    created_at       timestamptz NOT NULL
);

-- Each delivery's outcome: delivered, or dead-lettered with the last error.
-- A delivery carries the alerts queued for its subscription at the time.
CREATE TABLE IF NOT EXISTS duty.webhook_batches (
    delivery_id      text        PRIMARY KEY,
    subscription_id  text        NOT NULL,
    alert_ids        text[]      NOT NULL,
    status           text        NOT NULL,
    attempts         integer     NOT NULL,
    last_error       text        NOT NULL DEFAULT '',
    queued_at        timestamptz NOT NULL,
    done_at          timestamptz NOT NULL
);

-- Requests created through the Open311 GeoReport v2 endpoint. Their text,
-- name and phone travel only in the raw hotline event (pseudonymized by
-- normalization); here are the id, the service, the place and the times.
CREATE TABLE IF NOT EXISTS duty.open311_requests (
    request_id    text             PRIMARY KEY,
    event_id      text             NOT NULL UNIQUE,
    service_code  text             NOT NULL,
    lon           double precision NOT NULL,
    lat           double precision NOT NULL,
    town_code     text             NOT NULL,
    village_code  text             NOT NULL,
    place         text             NOT NULL,
    requested_by  text             NOT NULL,
    requested_at  timestamptz      NOT NULL
);

-- Work-order time limits, supervision and follow-up (features/work_orders.py).
ALTER TABLE duty.cases ADD COLUMN IF NOT EXISTS category     text;
ALTER TABLE duty.cases ADD COLUMN IF NOT EXISTS respond_by   timestamptz;
ALTER TABLE duty.cases ADD COLUMN IF NOT EXISTS due_at       timestamptz;
ALTER TABLE duty.cases ADD COLUMN IF NOT EXISTS accepted_at  timestamptz;
ALTER TABLE duty.cases ADD COLUMN IF NOT EXISTS closed_at    timestamptz;
ALTER TABLE duty.cases ADD COLUMN IF NOT EXISTS supervised_at timestamptz;
ALTER TABLE duty.cases ADD COLUMN IF NOT EXISTS supervising_center text;
ALTER TABLE duty.cases ADD COLUMN IF NOT EXISTS satisfaction integer;
ALTER TABLE duty.cases ADD COLUMN IF NOT EXISTS followed_up_at timestamptz;

-- The three rates of 12345-style platforms per month (district time),
-- center and department: 响应率 (accepted within its limit), 解决率
-- (closed), 满意率 (score >= 4 at follow-up, of those followed up).
CREATE OR REPLACE VIEW serving.case_rates AS
SELECT date_trunc('month', dispatched_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       center_id,
       department,
       count(*)                                                     AS cases,
       count(*) FILTER (WHERE accepted_at IS NOT NULL AND accepted_at <= respond_by) AS responded_in_time,
       count(*) FILTER (WHERE state = 'closed')                     AS closed,
       count(*) FILTER (WHERE satisfaction IS NOT NULL)             AS followed_up,
       count(*) FILTER (WHERE satisfaction >= 4)                    AS satisfied,
       count(*) FILTER (WHERE supervised_at IS NOT NULL)            AS supervised,
       round(count(*) FILTER (WHERE accepted_at IS NOT NULL AND accepted_at <= respond_by)::numeric
             / count(*), 4)                                         AS response_rate,
       round(count(*) FILTER (WHERE state = 'closed')::numeric / count(*), 4) AS resolution_rate,
       round(count(*) FILTER (WHERE satisfaction >= 4)::numeric
             / nullif(count(*) FILTER (WHERE satisfaction IS NOT NULL), 0), 4) AS satisfaction_rate
FROM duty.cases
GROUP BY 1, 2, 3;

-- Watch alerts name the approval that put the vehicle under watch (issue 13).
ALTER TABLE serving.watch_alerts ADD COLUMN IF NOT EXISTS approval_id text;
ALTER TABLE serving.watch_alerts ADD COLUMN IF NOT EXISTS approved_by text;

-- The watch list under human review: the nightly graph proposes, a named
-- district account approves (or rejects) with a reason; an approval lasts
-- watch_list.approval_days unless renewed. The stream watches only the
-- approved, unexpired entries (pipelines/service/watch_review.py).
CREATE TABLE IF NOT EXISTS duty.watch_proposals (
    proposal_id       text        PRIMARY KEY,
    vehicle_node      text        NOT NULL,
    reason            text        NOT NULL,
    reason_label      text        NOT NULL,
    detail            text        NOT NULL,
    persons           text[]      NOT NULL,
    shared_incidents  integer,
    via_vehicle       text,
    plate_hashes      text[]      NOT NULL,
    plate_fold_hash   text,
    as_of             text        NOT NULL,
    covered_until_ms  bigint,
    proposed_at       timestamptz NOT NULL,
    status            text        NOT NULL,
    decided_by        text,
    decision_reason   text,
    decided_at        timestamptz,
    expires_at        timestamptz
);
CREATE INDEX IF NOT EXISTS watch_proposals_status_idx ON duty.watch_proposals (status);

-- Feedback into detection: after a hotspot case closes, whether its place
-- cooled (observed against expected in the following hours;
-- pipelines/service/case_outcomes.py).
CREATE TABLE IF NOT EXISTS duty.case_outcomes (
    case_id         text             PRIMARY KEY,
    alert_id        text             NOT NULL,
    category        text             NOT NULL,
    cells           text[]           NOT NULL,
    window_start    timestamptz      NOT NULL,
    window_end      timestamptz      NOT NULL,
    observed_after  integer          NOT NULL,
    expected_after  double precision NOT NULL,
    p_value         double precision NOT NULL,
    cooled          boolean          NOT NULL,
    measured_at     timestamptz      NOT NULL
);
CREATE OR REPLACE VIEW serving.case_outcomes AS
SELECT o.case_id, o.alert_id, o.category, c.center_id, c.department, o.window_start,
       o.window_end, o.observed_after, o.expected_after, o.p_value, o.cooled,
       CASE WHEN o.cooled THEN '已降温' ELSE '仍偏高' END AS cooled_label
FROM duty.case_outcomes o JOIN duty.cases c USING (case_id);

-- 考核 of grid staff per month (district time) and grid worker, written by
-- the nightly job (jobs/nightly/grid_staff.py): reports filed, those verified
-- on handling (in a hotspot whose case was verified or closed), their
-- share, and those that qualify for the reporting reward (事件上报奖励).
CREATE TABLE IF NOT EXISTS serving.grid_staff_monthly (
    month              date             NOT NULL,
    reporter_id        text             NOT NULL,
    reports            bigint           NOT NULL,
    verified           bigint           NOT NULL,
    share_verified     double precision NOT NULL,
    reward_qualifying  bigint           NOT NULL,
    PRIMARY KEY (month, reporter_id)
);

-- 事件闭环与督办 (issue 14): one row per work order, with the place of its
-- alert (town_code, village_code: what row-level security cuts on), the
-- alert's category label, and each stage of the loop as a flag. Superset's
-- funnel, rates, time to close and overdue counts are aggregates over it.
CREATE OR REPLACE VIEW serving.case_work AS
SELECT c.case_id,
       c.alert_id,
       c.center_id,
       c.department,
       c.category,
       coalesce(al.category_label, CASE WHEN wa.alert_id IS NOT NULL THEN '布控预警' END,
                c.category)                                              AS category_label,
       a.town_code,
       a.village_code,
       coalesce(al.town_name, wa.town_name)                              AS town_name,
       c.state,
       date_trunc('month', c.dispatched_at AT TIME ZONE 'Asia/Shanghai')::date AS month,
       c.dispatched_at AT TIME ZONE 'Asia/Shanghai'                      AS dispatched_local,
       (c.accepted_at IS NOT NULL)::int                                  AS accepted,
       (c.accepted_at IS NOT NULL AND c.accepted_at <= c.respond_by)::int AS responded_in_time,
       (c.state = 'closed')::int                                         AS closed,
       (c.satisfaction IS NOT NULL)::int                                 AS followed_up,
       (c.satisfaction >= 4)::int                                        AS satisfied,
       (c.supervised_at IS NOT NULL)::int                                AS supervised,
       round((extract(epoch FROM (c.closed_at - c.dispatched_at)) / 3600)::numeric, 2)
                                                                         AS hours_to_close,
       ((c.state <> 'closed' AND c.due_at < now())
        OR (c.closed_at IS NOT NULL AND c.closed_at > c.due_at))::int    AS overdue
FROM duty.cases c
LEFT JOIN duty.alert_assignments a USING (alert_id)
LEFT JOIN serving.alerts al ON al.alert_id = c.alert_id
LEFT JOIN serving.watch_alerts wa ON wa.alert_id = c.alert_id;

-- The relation graph's serving tables, empty until the first graph night
-- (jobs/graph/serving.py replaces their rows, and remakes a table whose
-- columns no longer fit the night's). Created here so that the dashboard
-- over them says 暂无数据 before that night instead of failing.
CREATE TABLE IF NOT EXISTS serving.graph_key_entities (
    as_of text, node_id text, kind text, kind_label text, pagerank double precision,
    betweenness double precision, degree bigint, community bigint, component_size bigint,
    companions bigint, rank_in_kind double precision, reasons text
);
CREATE TABLE IF NOT EXISTS serving.graph_communities (
    community bigint, members bigint, persons bigint, vehicles bigint, incidents bigint,
    top_member text, as_of text
);
CREATE TABLE IF NOT EXISTS serving.graph_companions (
    as_of text, vehicle_a text, vehicle_b text, co_occurrences bigint, days bigint, places bigint,
    expected double precision, p_value double precision, lift double precision, companion boolean
);
CREATE TABLE IF NOT EXISTS serving.graph_network_edges (
    src text, dst text, type text, weight bigint, as_of text
);
CREATE TABLE IF NOT EXISTS serving.graph_new_links (
    src text, dst text, type text, role text, weight bigint, first_ms bigint, last_ms bigint,
    days bigint, reason text, as_of text
);

-- The 12345 reference for the closed loop's timeliness: of the answered
-- messages of a real 12345 export (`zongzhi replies FILE --publish`), how
-- many were answered within each deadline. The closed-loop dashboard sets
-- the platform's own work orders beside it. Empty until published.
CREATE TABLE IF NOT EXISTS serving.reply_baseline (
    bucket_order integer NOT NULL,
    bucket       text    NOT NULL,
    days         integer NOT NULL,
    within_count integer NOT NULL,
    total        integer NOT NULL,
    source       text    NOT NULL,
    published_at timestamptz NOT NULL DEFAULT now()
);

-- The district's hot issues (热点诉求) of the last days of hotline messages,
-- replaced by each nightly run (jobs/nightly/hot_issues.py). Created here so
-- that the chart over it says 暂无数据 before the first night.
CREATE TABLE IF NOT EXISTS serving.hot_issues (
    as_of text, rank bigint, heat double precision, messages bigint, users bigint,
    first_day text, last_day text, town_code text, town_name text, village_code text,
    village_name text, category_label text, key_phrases text, example text
);
