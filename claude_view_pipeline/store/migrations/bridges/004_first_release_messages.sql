-- Before 004, for an index the first release wrote: its messages table predates columns that
-- migration 001 gained later (001 was edited in place after that release shipped). A model
-- call was then the row that carried tokens, and a streamed Claude response was keyed by
-- `response_key` (message.id:requestId), the key later releases write as 'r:<key>'.

ALTER TABLE messages ADD COLUMN dedup_key VARCHAR;
ALTER TABLE messages ADD COLUMN origin_session_id VARCHAR;
ALTER TABLE messages ADD COLUMN api_call BOOLEAN NOT NULL DEFAULT false;
UPDATE messages SET api_call = (input_tokens IS NOT NULL),
                    dedup_key = CASE WHEN response_key IS NOT NULL THEN 'r:' || response_key END;
ALTER TABLE messages DROP COLUMN response_key;
