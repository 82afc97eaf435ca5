//! Queries on `talent_views` and the erasure of an account.

use sqlx::{Any, AnyConnection, Executor, FromRow};

/// Logs that `recruiter_id` saw (`profile`), exported (`export`), found
/// (`search`) or asked to contact (`contact`) `user_id`.
pub async fn log_view<'e>(
    ex: impl Executor<'e, Database = Any>,
    recruiter_id: i64,
    user_id: i64,
    what: &str,
    now: i64,
) -> sqlx::Result<()> {
    sqlx::query("INSERT INTO talent_views (recruiter_id, user_id, what, at) VALUES ($1, $2, $3, $4)")
        .bind(recruiter_id)
        .bind(user_id)
        .bind(what)
        .bind(now)
        .execute(ex)
        .await
        .map(|_| ())
}

/// A logged view, with who looked.
#[derive(Debug, Clone, FromRow)]
pub struct ViewRow {
    /// The recruiter's username.
    pub recruiter: String,
    /// Their display name.
    pub recruiter_name: String,
    /// Their organisation (profile affiliation), if given.
    pub organisation: Option<String>,
    /// `profile`, `export`, `search` or `contact`.
    pub what: String,
    /// When (ms).
    pub at: i64,
    /// When the recruiter deleted their account, if they did.
    pub recruiter_deleted_at: Option<i64>,
}

/// Who saw a person's details, newest first.
pub async fn views_of<'e>(
    ex: impl Executor<'e, Database = Any>,
    user_id: i64,
    limit: i64,
) -> sqlx::Result<Vec<ViewRow>> {
    sqlx::query_as(
        "SELECT u.username AS recruiter, u.display_name AS recruiter_name, p.affiliation AS organisation, v.what, v.at,
                u.deleted_at AS recruiter_deleted_at
         FROM talent_views v JOIN users u ON u.user_id = v.recruiter_id LEFT JOIN profiles p ON p.user_id = v.recruiter_id
         WHERE v.user_id = $1 ORDER BY v.view_id DESC LIMIT $2",
    )
    .bind(user_id)
    .bind(limit)
    .fetch_all(ex)
    .await
}

/// Erases an account's personal data in one transaction's connection: the
/// row stays (its results stay on the boards) as `deleted-ID` / "deleted
/// user" with no usable password; tokens and sessions, roles, profile,
/// consents and their log, views of them, invites to and from them, contact
/// requests and shortlists (theirs, and entries naming them) are deleted;
/// their submissions keep their scores and predictions (the boards rank
/// them) but lose their messages, file names and run logs; their result
/// credentials are revoked; a team named after the old username is renamed.
/// Returns the blobs of their finished model submissions, which the caller
/// deletes from the store after the commit where nothing else refers to them.
pub async fn erase(conn: &mut AnyConnection, user_id: i64, old_username: &str, now: i64) -> sqlx::Result<Vec<String>> {
    let anon = format!("deleted-{user_id}");
    sqlx::query(
        "UPDATE users SET username = $2, email = $3, display_name = 'deleted user', password_hash = '!', country = 'ZZ',
                          deleted_at = $4 WHERE user_id = $1",
    )
    .bind(user_id)
    .bind(&anon)
    .bind(format!("{anon}@deleted.invalid"))
    .bind(now)
    .execute(&mut *conn)
    .await?;
    sqlx::query("DELETE FROM tokens WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    sqlx::query("DELETE FROM team_invites WHERE user_id = $1 OR invited_by = $1")
        .bind(user_id)
        .execute(&mut *conn)
        .await?;
    let models: Vec<String> = sqlx::query_scalar(
        "SELECT DISTINCT blob_hash FROM submissions
         WHERE user_id = $1 AND kind = 'model' AND status IN ('scored', 'failed', 'platform_error')",
    )
    .bind(user_id)
    .fetch_all(&mut *conn)
    .await?;
    sqlx::query(
        "UPDATE submissions SET message = '', file_name = 'submission', run_log = NULL, idempotency_key = NULL
         WHERE user_id = $1",
    )
    .bind(user_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query("UPDATE credentials_issued SET revoked_reason = $2 WHERE user_id = $1 AND revoked_reason IS NULL")
        .bind(user_id)
        .bind("its holder deleted their account")
        .execute(&mut *conn)
        .await?;
    for table in ["user_roles", "profiles", "consents", "consent_log", "shortlist_entries", "contact_requests"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE user_id = $1")).bind(user_id).execute(&mut *conn).await?;
    }
    // What recruiters saw of this person goes; what this person, as a
    // recruiter, saw of others stays on those people's lists ("deleted
    // recruiter"), as it stays in the audit log.
    sqlx::query("DELETE FROM talent_views WHERE user_id = $1").bind(user_id).execute(&mut *conn).await?;
    for table in ["shortlists", "contact_requests"] {
        sqlx::query(&format!("DELETE FROM {table} WHERE recruiter_id = $1")).bind(user_id).execute(&mut *conn).await?;
    }
    sqlx::query(
        "UPDATE teams SET name = $2 WHERE name = $3 AND team_id IN (SELECT team_id FROM team_members WHERE user_id = $1)",
    )
    .bind(user_id)
    .bind(format!("deleted user {user_id}"))
    .bind(old_username)
    .execute(&mut *conn)
    .await?;
    Ok(models)
}

/// Whether any submission other than those of finished models by `user_id`
/// still refers to blob `hash` (the store is content-addressed: another
/// upload of the same bytes shares it).
pub async fn blob_still_used<'e>(
    ex: impl Executor<'e, Database = Any>,
    hash: &str,
    user_id: i64,
) -> sqlx::Result<bool> {
    let n: i64 = sqlx::query_scalar(
        "SELECT (SELECT COUNT(*) FROM submissions WHERE (blob_hash = $1 OR predictions_hash = $1)
                 AND NOT (user_id = $2 AND kind = 'model' AND blob_hash = $1 AND status IN ('scored', 'failed', 'platform_error')))
              + (SELECT COUNT(*) FROM task_files WHERE blob_hash = $1)",
    )
    .bind(hash)
    .bind(user_id)
    .fetch_one(ex)
    .await?;
    Ok(n > 0)
}

/// A contact request as the export lists it: the other side's username,
/// organisation, message, created, answered, accepted.
type ContactTuple = (String, String, String, i64, Option<i64>, Option<i64>);
/// A team invite as the export lists it: task, team, inviter, invitee,
/// created, answered, accepted.
type InviteTuple = (String, String, String, String, i64, Option<i64>, Option<i64>);

/// Everything else stored about a person that their data export lists, one
/// JSON object per row (secrets and other people's notes never included).
pub async fn export_rows<'e, E>(ex: E, user_id: i64) -> sqlx::Result<ExportRows>
where
    E: Executor<'e, Database = Any> + Copy,
{
    let contacts_received: Vec<ContactTuple> = sqlx::query_as(
        "SELECT u.username, c.organisation, c.message, c.created_at, c.answered_at, c.accepted
         FROM contact_requests c JOIN users u ON u.user_id = c.recruiter_id WHERE c.user_id = $1 ORDER BY c.request_id",
    )
    .bind(user_id)
    .fetch_all(ex)
    .await?;
    let contacts_sent: Vec<ContactTuple> = sqlx::query_as(
        "SELECT u.username, c.organisation, c.message, c.created_at, c.answered_at, c.accepted
         FROM contact_requests c JOIN users u ON u.user_id = c.user_id WHERE c.recruiter_id = $1 ORDER BY c.request_id",
    )
    .bind(user_id)
    .fetch_all(ex)
    .await?;
    let shortlists: Vec<(String, i64, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT s.name, s.created_at, u.username, e.note
         FROM shortlists s LEFT JOIN shortlist_entries e ON e.shortlist_id = s.shortlist_id
         LEFT JOIN users u ON u.user_id = e.user_id
         WHERE s.recruiter_id = $1 ORDER BY s.shortlist_id, u.username",
    )
    .bind(user_id)
    .fetch_all(ex)
    .await?;
    let invites: Vec<InviteTuple> = sqlx::query_as(
        "SELECT t.slug, tm.name, inviter.username, invitee.username, i.created_at, i.answered_at, i.accepted
         FROM team_invites i JOIN teams tm ON tm.team_id = i.team_id JOIN tasks t ON t.task_id = tm.task_id
         JOIN users inviter ON inviter.user_id = i.invited_by JOIN users invitee ON invitee.user_id = i.user_id
         WHERE i.user_id = $1 OR i.invited_by = $1 ORDER BY i.invite_id",
    )
    .bind(user_id)
    .fetch_all(ex)
    .await?;
    let credentials: Vec<(String, String, i64, i64, f64, i64)> = sqlx::query_as(
        "SELECT c.credential_id, t.slug, c.place, c.ranked, c.score, c.issued_at
         FROM credentials_issued c JOIN tasks t ON t.task_id = c.task_id WHERE c.user_id = $1 ORDER BY c.issued_at",
    )
    .bind(user_id)
    .fetch_all(ex)
    .await?;
    let ms = crate::db::ms_to_rfc3339;
    let answer = |answered: Option<i64>, accepted: Option<i64>| match (answered, accepted) {
        (None, _) => "pending",
        (Some(_), Some(1)) => "accepted",
        _ => "declined",
    };
    let contact = |(who, org, message, at, answered, accepted): ContactTuple, role: &str| {
        serde_json::json!({
            role: who, "organisation": org, "message": message, "created_at": ms(at),
            "state": answer(answered, accepted),
        })
    };
    let mut lists: Vec<serde_json::Value> = Vec::new();
    for (name, created, person, note) in shortlists {
        if lists.last().is_none_or(|l| l["name"] != name.as_str()) {
            lists.push(serde_json::json!({ "name": name, "created_at": ms(created), "people": [] }));
        }
        if let (Some(person), Some(people)) = (person, lists.last_mut().and_then(|l| l["people"].as_array_mut())) {
            people.push(serde_json::json!({ "username": person, "note": note.unwrap_or_default() }));
        }
    }
    Ok(ExportRows {
        contact_requests_received: contacts_received.into_iter().map(|c| contact(c, "from")).collect(),
        contact_requests_sent: contacts_sent.into_iter().map(|c| contact(c, "to")).collect(),
        shortlists: lists,
        invites: invites
            .into_iter()
            .map(|(task, team, by, to, at, answered, accepted)| {
                serde_json::json!({
                    "task": task, "team": team, "invited_by": by, "invitee": to, "created_at": ms(at),
                    "state": answer(answered, accepted),
                })
            })
            .collect(),
        credentials: credentials
            .into_iter()
            .map(|(id, task, place, of, score, at)| {
                serde_json::json!({
                    "credential_id": id, "task": task, "rank": place, "of": of, "private_score": score,
                    "issued_at": ms(at),
                })
            })
            .collect(),
    })
}

/// What [`export_rows`] found.
#[derive(Debug, Default)]
pub struct ExportRows {
    /// Contact requests recruiters sent this person.
    pub contact_requests_received: Vec<serde_json::Value>,
    /// Contact requests this person sent, as a recruiter.
    pub contact_requests_sent: Vec<serde_json::Value>,
    /// Shortlists this person keeps, as a recruiter, with their own notes.
    pub shortlists: Vec<serde_json::Value>,
    /// Team invites to or from this person, answered or not.
    pub invites: Vec<serde_json::Value>,
    /// Result credentials handed to this person.
    pub credentials: Vec<serde_json::Value>,
}
