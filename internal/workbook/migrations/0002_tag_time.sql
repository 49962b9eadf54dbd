-- The matrix, its links and the tactic series count tags by their alert's time. A copy of that time
-- and of the incident on every tag row, under covering indexes, lets those queries read one index
-- range instead of joining every alert of the range; the bars read alerts_bars the same way.
DROP INDEX IF EXISTS alert_techniques_technique;
DROP INDEX IF EXISTS alert_tactics_tactic;
ALTER TABLE alert_techniques ADD COLUMN time BIGINT NOT NULL DEFAULT 0;
ALTER TABLE alert_techniques ADD COLUMN incident_id TEXT NOT NULL DEFAULT '';
ALTER TABLE alert_tactics ADD COLUMN time BIGINT NOT NULL DEFAULT 0;
UPDATE alert_techniques SET
    time = COALESCE((SELECT a.time FROM alerts a WHERE a.id = alert_techniques.alert_id), 0),
    incident_id = COALESCE((SELECT a.incident_id FROM alerts a WHERE a.id = alert_techniques.alert_id), '');
UPDATE alert_tactics SET
    time = COALESCE((SELECT a.time FROM alerts a WHERE a.id = alert_tactics.alert_id), 0);
CREATE INDEX IF NOT EXISTS alert_techniques_time ON alert_techniques (time, technique, incident_id);
CREATE INDEX IF NOT EXISTS alert_techniques_technique_time ON alert_techniques (technique, time, incident_id);
CREATE INDEX IF NOT EXISTS alert_tactics_time ON alert_tactics (time, tactic);
CREATE INDEX IF NOT EXISTS alerts_bars ON alerts (time, title, severity, device_type, vendor);
