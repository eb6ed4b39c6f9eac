-- When a session was last used: a session unused for the idle timeout ends
-- even before its absolute lifetime does.
ALTER TABLE sessions ADD COLUMN last_seen_at BIGINT NOT NULL DEFAULT 0;
CREATE INDEX sessions_user ON sessions(user_id);
