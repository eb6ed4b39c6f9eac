-- Invitation reminders. A group's schedule is one row per reminder, in
-- order: after_days counts from when the invitation was sent (what the
-- admin typed, e.g. 3 and 7), gap_days from the email before it, which is
-- what the next reminder's time is computed from in SQL. No rows: off.
CREATE TABLE reminder_steps (
    group_id INTEGER NOT NULL REFERENCES learning_groups(id) ON DELETE CASCADE,
    step INTEGER NOT NULL,
    after_days INTEGER NOT NULL,
    gap_days INTEGER NOT NULL,
    PRIMARY KEY (group_id, step)
);

-- reminders_sent: how many of the schedule's steps were sent since the
-- invitation was last sent by hand (or first sent). next_reminder_at: when
-- the next one is due; NULL when none is (schedule off or done, the next
-- one would fall at or after expiry, or the invitation is no longer pending).
ALTER TABLE invitations ADD COLUMN reminders_sent INTEGER NOT NULL DEFAULT 0;
ALTER TABLE invitations ADD COLUMN next_reminder_at INTEGER;
-- The sweeper's claim walks due reminders only.
CREATE INDEX invitations_reminder_due ON invitations(next_reminder_at) WHERE next_reminder_at IS NOT NULL;
