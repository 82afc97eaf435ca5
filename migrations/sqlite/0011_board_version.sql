-- A per-task board version, bumped by triggers in the same transaction as
-- every change that can move a board: a submission stored, scored,
-- rescored, hidden or shown, selected or unselected, moved to another team
-- (a merger) or deleted; a team disqualified, reinstated or deleted; the
-- schedule changed. The board cache is keyed by it, so it is exact, costs
-- no query of its own (the task row is read anyway) and holds across
-- replicas. Being triggers, no write path can forget to bump it.
ALTER TABLE tasks ADD COLUMN board_version BIGINT NOT NULL DEFAULT 0;

CREATE TRIGGER submissions_board_insert AFTER INSERT ON submissions
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = NEW.task_id;
END;

CREATE TRIGGER submissions_board_update
AFTER UPDATE OF status, public_score, private_score, late, selected_at, hidden_at, team_id, scored_at, fuel_used
ON submissions
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = NEW.task_id;
END;

CREATE TRIGGER submissions_board_delete AFTER DELETE ON submissions
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = OLD.task_id;
END;

CREATE TRIGGER teams_board_update AFTER UPDATE OF disqualified_at ON teams
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = NEW.task_id;
END;

CREATE TRIGGER teams_board_delete AFTER DELETE ON teams
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = OLD.task_id;
END;

CREATE TRIGGER tasks_board_schedule AFTER UPDATE OF opens_at, closes_at, merger_deadline_at ON tasks
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = NEW.task_id;
END;
