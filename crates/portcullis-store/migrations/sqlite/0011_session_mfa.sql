-- When a browser session completed a second factor (milliseconds); NULL when it did not, so
-- that a later MFA requirement asks the session's user for one before answering.
ALTER TABLE sessions ADD COLUMN mfa_at INTEGER;
