-- The workbook's read model. One schema for SQLite and PostgreSQL: times are Unix seconds (BIGINT), so
-- the range queries and time buckets are plain integer arithmetic on both.
CREATE TABLE IF NOT EXISTS incidents (
    id        TEXT PRIMARY KEY,
    title     TEXT NOT NULL DEFAULT '',
    severity  TEXT NOT NULL DEFAULT '',
    sev_rank  INTEGER NOT NULL DEFAULT 0,
    status    TEXT NOT NULL DEFAULT '',
    created   BIGINT NOT NULL,
    closed    BIGINT,
    site      TEXT NOT NULL DEFAULT '',
    line      TEXT NOT NULL DEFAULT '',
    impact    TEXT NOT NULL DEFAULT '',
    provider  TEXT NOT NULL DEFAULT '',
    source    TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS incidents_created ON incidents (created);
CREATE INDEX IF NOT EXISTS incidents_open ON incidents (closed, status);

CREATE TABLE IF NOT EXISTS alerts (
    id          TEXT PRIMARY KEY,
    incident_id TEXT NOT NULL,
    title       TEXT NOT NULL DEFAULT '',
    severity    TEXT NOT NULL DEFAULT '',
    time        BIGINT NOT NULL,
    device_type TEXT NOT NULL DEFAULT '',
    vendor      TEXT NOT NULL DEFAULT '',
    engine      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS alerts_time ON alerts (time);
CREATE INDEX IF NOT EXISTS alerts_incident ON alerts (incident_id);

CREATE TABLE IF NOT EXISTS alert_techniques (
    alert_id  TEXT NOT NULL,
    technique TEXT NOT NULL,
    PRIMARY KEY (alert_id, technique)
);
CREATE INDEX IF NOT EXISTS alert_techniques_technique ON alert_techniques (technique);

CREATE TABLE IF NOT EXISTS alert_tactics (
    alert_id TEXT NOT NULL,
    tactic   TEXT NOT NULL,
    PRIMARY KEY (alert_id, tactic)
);
CREATE INDEX IF NOT EXISTS alert_tactics_tactic ON alert_tactics (tactic);

CREATE TABLE IF NOT EXISTS devices (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL DEFAULT '',
    type        TEXT NOT NULL DEFAULT '',
    vendor      TEXT NOT NULL DEFAULT '',
    site        TEXT NOT NULL DEFAULT '',
    zone        TEXT NOT NULL DEFAULT '',
    line        TEXT NOT NULL DEFAULT '',
    importance  TEXT NOT NULL DEFAULT '',
    incident_id TEXT NOT NULL DEFAULT ''
);
CREATE INDEX IF NOT EXISTS devices_incident ON devices (incident_id);

CREATE TABLE IF NOT EXISTS runs (
    run_id        TEXT PRIMARY KEY,
    workflow_id   TEXT NOT NULL,
    playbook      TEXT NOT NULL,
    incident_id   TEXT NOT NULL DEFAULT '',
    status        TEXT NOT NULL,
    outcome       TEXT NOT NULL DEFAULT '',
    started       BIGINT NOT NULL,
    closed        BIGINT,
    asked         INTEGER NOT NULL DEFAULT 0,
    answered_at   BIGINT,
    answer_secs   DOUBLE PRECISION,
    escalations   INTEGER NOT NULL DEFAULT 0,
    round         INTEGER NOT NULL DEFAULT 0,
    waiting_since BIGINT
);
CREATE INDEX IF NOT EXISTS runs_started ON runs (started);
CREATE INDEX IF NOT EXISTS runs_waiting ON runs (status, waiting_since);
