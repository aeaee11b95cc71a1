-- 012: a message's text is kept whole up to 1,048,576 characters and cut there beyond it (a
-- tool output of hundreds of MB would cost the index several times its size in memory to
-- write); text_truncated marks a cut text. No text indexed before was cut.

ALTER TABLE messages ADD COLUMN text_truncated BOOLEAN DEFAULT false;

COMMENT ON COLUMN messages.text IS 'The message text (cut at 1,048,576 characters: see text_truncated); a tool call''s input as JSON with sorted keys.';
COMMENT ON COLUMN messages.text_truncated IS 'The text was longer than 1,048,576 characters and is cut there (the session file holds the whole).';
