-- Boards are served whole from memory, rows and all: a row carries its
-- team's name and its members' usernames, and baselines slot in between
-- the teams. So a change to any of those bumps the task's board version
-- too, in the same transaction, and a cached board is never stale.
CREATE TRIGGER teams_board_rename AFTER UPDATE OF name ON teams
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = NEW.task_id;
END;

CREATE TRIGGER team_members_board_insert AFTER INSERT ON team_members
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = NEW.task_id;
END;

CREATE TRIGGER team_members_board_update AFTER UPDATE OF team_id, user_id ON team_members
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = NEW.task_id;
END;

CREATE TRIGGER team_members_board_delete AFTER DELETE ON team_members
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = OLD.task_id;
END;

CREATE TRIGGER baselines_board_insert AFTER INSERT ON baselines
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = NEW.task_id;
END;

CREATE TRIGGER baselines_board_update AFTER UPDATE ON baselines
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = NEW.task_id;
END;

CREATE TRIGGER baselines_board_delete AFTER DELETE ON baselines
BEGIN
    UPDATE tasks SET board_version = board_version + 1 WHERE task_id = OLD.task_id;
END;

CREATE TRIGGER users_board_rename AFTER UPDATE OF username ON users
BEGIN
    UPDATE tasks SET board_version = board_version + 1
    WHERE task_id IN (SELECT task_id FROM team_members WHERE user_id = NEW.user_id);
END;
