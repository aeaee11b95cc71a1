-- Before 011, for an index written between two releases: migration 010 first named the time
-- of a plan-window report `event_at`, then (before it shipped) `at`, as the table's contract
-- names it.

ALTER TABLE rate_limits RENAME COLUMN event_at TO "at";
