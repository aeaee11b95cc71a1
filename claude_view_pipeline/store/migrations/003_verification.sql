-- 003: what the verification report remembers between runs: its figures, and
-- the previous run's view of every session (content hash) and of the message-kind
-- distribution, the baselines for the idempotency diff and the drift (PSI).

CREATE TABLE verification_reports (
    report_id              VARCHAR NOT NULL,
    created_at             TIMESTAMPTZ NOT NULL,
    source                 VARCHAR NOT NULL,
    metric                 VARCHAR NOT NULL,
    value                  DOUBLE
);

CREATE TABLE verification_session_snapshot (
    source                 VARCHAR NOT NULL,
    session_id             VARCHAR NOT NULL,
    file_size              BIGINT,
    file_mtime_ns          BIGINT,
    content_hash           UBIGINT NOT NULL
);

CREATE TABLE verification_kind_snapshot (
    source                 VARCHAR NOT NULL,
    kind                   VARCHAR NOT NULL,
    n                      BIGINT NOT NULL
);
