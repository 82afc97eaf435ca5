-- A per-task board version, bumped by triggers in the same transaction as
-- every change that can move a board: a submission stored, scored,
-- rescored, hidden or shown, selected or unselected, moved to another team
-- (a merger) or deleted; a team disqualified, reinstated or deleted; the
-- schedule changed. The board cache is keyed by it, so it is exact, costs
-- no query of its own (the task row is read anyway) and holds across
-- replicas. Being triggers, no write path can forget to bump it.
ALTER TABLE tasks ADD COLUMN board_version BIGINT NOT NULL DEFAULT 0;

CREATE FUNCTION bump_board_version() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        UPDATE tasks SET board_version = board_version + 1 WHERE task_id = OLD.task_id;
        RETURN OLD;
    END IF;
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = NEW.task_id;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE FUNCTION bump_own_board_version() RETURNS trigger AS $$
BEGIN
    NEW.board_version := OLD.board_version + 1;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER submissions_board
AFTER INSERT OR DELETE OR UPDATE OF status, public_score, private_score, late, selected_at, hidden_at, team_id, scored_at, fuel_used
ON submissions FOR EACH ROW EXECUTE FUNCTION bump_board_version();

CREATE TRIGGER teams_board
AFTER DELETE OR UPDATE OF disqualified_at ON teams
FOR EACH ROW EXECUTE FUNCTION bump_board_version();

CREATE TRIGGER tasks_board_schedule
BEFORE UPDATE OF opens_at, closes_at, merger_deadline_at ON tasks
FOR EACH ROW EXECUTE FUNCTION bump_own_board_version();
