-- 007: the verification report keeps its snapshots per UTC day, so its drift (PSI) and
-- idempotency figures compare with the last report of an earlier day, not with one made
-- minutes before. Snapshots already held are dated by the last report that wrote them.

ALTER TABLE verification_session_snapshot ADD COLUMN taken_on DATE;
ALTER TABLE verification_kind_snapshot ADD COLUMN taken_on DATE;
UPDATE verification_session_snapshot SET taken_on = (SELECT max(created_at AT TIME ZONE 'UTC')::DATE FROM verification_reports);
UPDATE verification_kind_snapshot SET taken_on = (SELECT max(created_at AT TIME ZONE 'UTC')::DATE FROM verification_reports);
