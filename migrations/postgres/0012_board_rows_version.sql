-- Boards are served whole from memory, rows and all: a row carries its
-- team's name and its members' usernames, and baselines slot in between
-- the teams. So a change to any of those bumps the task's board version
-- too, in the same transaction, and a cached board is never stale.
CREATE TRIGGER teams_board_rename
AFTER UPDATE OF name ON teams FOR EACH ROW EXECUTE FUNCTION bump_board_version();

CREATE TRIGGER team_members_board
AFTER INSERT OR DELETE OR UPDATE OF team_id, user_id ON team_members FOR EACH ROW EXECUTE FUNCTION bump_board_version();

CREATE TRIGGER baselines_board
AFTER INSERT OR DELETE OR UPDATE ON baselines FOR EACH ROW EXECUTE FUNCTION bump_board_version();

CREATE FUNCTION bump_board_versions_of_member() RETURNS trigger AS $$
BEGIN
    UPDATE tasks SET board_version = board_version + 1
    WHERE task_id IN (SELECT task_id FROM team_members WHERE user_id = NEW.user_id);
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER users_board_rename
AFTER UPDATE OF username ON users FOR EACH ROW EXECUTE FUNCTION bump_board_versions_of_member();
