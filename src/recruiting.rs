//! Recruiters' tools: shortlists with private notes, their export (only
//! consented fields, logged per person), and contact requests the person
//! accepts or declines — their email is revealed only on acceptance.
//!
//! Invariants: only recruiters (and admins) use these; everyone on a
//! shortlist is re-checked against their consents on every read, so a
//! withdrawal hides them at once; a person a recruiter may not find is
//! "not found" (never telling whether they exist).

use serde::{Deserialize, Serialize};
use sqlx::FromRow;
use utoipa::{IntoParams, ToSchema};

use crate::auth::CurrentUser;
use crate::db::{self, users};
use crate::error::{AppError, AppResult, Problem};
use crate::msg;
use crate::platform::Platform;
use crate::talent;

fn recruiter(me: &CurrentUser) -> AppResult<()> {
    if me.has_role("recruiter") || me.is_admin() { Ok(()) } else { Err(AppError::Forbidden(msg!("recruiter_role"))) }
}

/// A shortlist.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShortlistSummary {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// People on it who may still be seen.
    pub people: usize,
}

/// Someone on a shortlist, with the consented fields only.
#[derive(Debug, Serialize, ToSchema)]
pub struct ShortlistEntry {
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// Country.
    pub country: String,
    /// Affiliation.
    pub affiliation: String,
    /// Skills.
    pub skills: Vec<String>,
    /// Open to opportunities.
    pub open_to_work: bool,
    /// Displayed rating.
    pub rating: Option<f64>,
    /// Tier.
    pub tier: String,
    /// Best final percentile.
    pub best_percentile: Option<f64>,
    /// Your private note.
    pub note: String,
}

/// A shortlist's people.
#[derive(Debug, Serialize, ToSchema)]
pub struct Shortlist {
    /// Id.
    pub id: i64,
    /// Name.
    pub name: String,
    /// The people who may still be seen.
    pub people: Vec<ShortlistEntry>,
    /// How many were left out because they withdrew consent (or can no
    /// longer be seen by you).
    pub withdrawn: usize,
}

#[derive(FromRow)]
struct EntryRow {
    user_id: i64,
    note: String,
}

async fn own_shortlist(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<String> {
    let name: Option<String> =
        sqlx::query_scalar("SELECT name FROM shortlists WHERE shortlist_id = $1 AND recruiter_id = $2")
            .bind(id)
            .bind(me.user_id)
            .fetch_optional(&state.db.pool)
            .await?;
    name.ok_or(AppError::NotFound("shortlist"))
}

/// A shortlist with everyone re-checked against their consents.
pub async fn shortlist(state: &Platform, me: &CurrentUser, id: i64) -> AppResult<Shortlist> {
    recruiter(me)?;
    let name = own_shortlist(state, me, id).await?;
    let rows: Vec<EntryRow> =
        sqlx::query_as("SELECT user_id, note FROM shortlist_entries WHERE shortlist_id = $1 ORDER BY added_at")
            .bind(id)
            .fetch_all(&state.db.pool)
            .await?;
    let pool = state.talent.pool().await?;
    let (mut people, mut withdrawn) = (Vec::new(), 0);
    for r in rows {
        let Some(user) = users::by_id(&state.db.pool, r.user_id).await? else { continue };
        if !talent::discoverable(&state.db, me, &user).await? {
            withdrawn += 1;
            continue;
        }
        let profile = db::profiles::get(&state.db.pool, r.user_id).await?;
        let standing = pool.people.get(&user.username).cloned().unwrap_or_default();
        people.push(ShortlistEntry {
            tier: standing.tier(talent::profile_complete(&profile)).name().into(),
            rating: standing.display().map(f64::round),
            best_percentile: standing.results.first().map(|x| x.percentile),
            username: user.username,
            display_name: user.display_name,
            country: user.country,
            affiliation: profile.affiliation,
            skills: crate::profiles::split_list(&profile.skills, ','),
            open_to_work: profile.open_to_work == 1,
            note: r.note,
        });
    }
    Ok(Shortlist { id, name, people, withdrawn })
}

/// Your shortlists.
pub async fn list_shortlists(state: &Platform, me: &CurrentUser) -> AppResult<Vec<ShortlistSummary>> {
    recruiter(me)?;
    let ids: Vec<i64> = sqlx::query_scalar("SELECT shortlist_id FROM shortlists WHERE recruiter_id = $1 ORDER BY name")
        .bind(me.user_id)
        .fetch_all(&state.db.pool)
        .await?;
    let mut out = Vec::new();
    for id in ids {
        let s = shortlist(state, me, id).await?;
        out.push(ShortlistSummary { id, name: s.name, people: s.people.len() });
    }
    Ok(out)
}

/// A shortlist's name.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ShortlistName {
    /// 1–100 characters, unique among yours.
    pub name: String,
}

/// Creates a shortlist.
pub async fn create_shortlist(state: &Platform, me: &CurrentUser, body: ShortlistName) -> AppResult<ShortlistSummary> {
    new_shortlist(state, me, &body.name).await
}

/// Creates a shortlist named `name` for recruiter `me`.
pub async fn new_shortlist(state: &Platform, me: &CurrentUser, name: &str) -> AppResult<ShortlistSummary> {
    recruiter(me)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(AppError::Invalid {
            code: "invalid_shortlist",
            message: msg!("shortlist_name_needed"),
            details: vec![Problem::new("", "name", msg!("one_to_100_chars"))],
        });
    }
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO shortlists (recruiter_id, name, created_at) VALUES ($1, $2, $3) RETURNING shortlist_id",
    )
    .bind(me.user_id)
    .bind(name)
    .bind(db::now_ms())
    .fetch_one(&state.db.pool)
    .await
    .map_err(|e| match AppError::from(e) {
        AppError::Conflict(_) => AppError::Conflict(msg!("shortlist_taken", name = format!("{name:?}"))),
        other => other,
    })?;
    Ok(ShortlistSummary { id, name: name.into(), people: 0 })
}

/// Export format.
#[derive(Debug, Default, Deserialize, IntoParams)]
pub struct ShortlistQuery {
    /// `json` (default) or `csv`: an export, logged for each person on it.
    pub format: Option<String>,
    /// Set to true to export as JSON (logged) rather than view.
    pub export: Option<bool>,
}

/// A private note.
#[derive(Debug, Default, Deserialize, ToSchema)]
#[serde(default)]
pub struct Note {
    /// At most 2,000 characters; only you see it.
    pub note: String,
}

/// Adds someone you may see to a shortlist (or changes your note on them).
pub async fn add_to_shortlist(
    state: &Platform,
    me: &CurrentUser,
    (id, username): (i64, String),
    body: Note,
) -> AppResult<()> {
    shortlist_person(state, me, id, &username, &body.note).await?;
    Ok(())
}

/// Puts a person `me` may find on one of `me`'s shortlists, with a private note.
pub async fn shortlist_person(
    state: &Platform,
    me: &CurrentUser,
    id: i64,
    username: &str,
    note: &str,
) -> AppResult<()> {
    recruiter(me)?;
    own_shortlist(state, me, id).await?;
    if note.chars().count() > 2000 {
        return Err(AppError::invalid("invalid_note", msg!("note_too_long")));
    }
    let user = findable(state, me, username).await?;
    sqlx::query(
        "INSERT INTO shortlist_entries (shortlist_id, user_id, note, added_at) VALUES ($1, $2, $3, $4)
         ON CONFLICT (shortlist_id, user_id) DO UPDATE SET note = $3",
    )
    .bind(id)
    .bind(user.user_id)
    .bind(note.trim())
    .bind(db::now_ms())
    .execute(&state.db.pool)
    .await?;
    Ok(())
}

/// A person `me` may find, or "not found" (never telling whether they exist).
async fn findable(state: &Platform, me: &CurrentUser, username: &str) -> AppResult<users::UserRow> {
    let hidden = AppError::NotFound("person_unfindable");
    let Some(user) = users::by_username(&state.db.pool, &username.to_ascii_lowercase()).await? else {
        return Err(hidden);
    };
    if !talent::discoverable(&state.db, me, &user).await? {
        return Err(hidden);
    }
    Ok(user)
}

/// Removes someone from a shortlist.
pub async fn remove_from_shortlist(state: &Platform, me: &CurrentUser, (id, username): (i64, String)) -> AppResult<()> {
    recruiter(me)?;
    own_shortlist(state, me, id).await?;
    sqlx::query("DELETE FROM shortlist_entries WHERE shortlist_id = $1 AND user_id = (SELECT user_id FROM users WHERE username = $2)")
        .bind(id)
        .bind(username.to_ascii_lowercase())
        .execute(&state.db.pool)
        .await?;
    Ok(())
}

/// A contact request.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ContactRequest {
    /// The organisation you recruit for (shown to the person).
    pub organisation: String,
    /// Why you write (shown to the person).
    pub message: String,
}

/// A contact request as either side sees it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ContactView {
    /// Id.
    pub id: i64,
    /// The recruiter.
    pub recruiter: String,
    /// The person.
    pub username: String,
    /// The recruiter's organisation.
    pub organisation: String,
    /// The message.
    pub message: String,
    /// pending, accepted or declined.
    pub state: String,
    /// RFC 3339.
    pub created_at: String,
    /// The person's email: only to the recruiter, only once accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
}

/// Asks someone you may find whether they want to be contacted; they see
/// your organisation and message and accept or decline.
pub async fn request_contact(
    state: &Platform,
    me: &CurrentUser,
    username: String,
    body: ContactRequest,
) -> AppResult<ContactView> {
    send_request(state, me, &username, &body).await
}

/// Sends a contact request to a person `me` may find (one pending request per person).
pub async fn send_request(
    state: &Platform,
    me: &CurrentUser,
    username: &str,
    body: &ContactRequest,
) -> AppResult<ContactView> {
    recruiter(me)?;
    let mut problems = Vec::new();
    if body.organisation.trim().is_empty() || body.organisation.chars().count() > 200 {
        problems.push(Problem::new("", "organisation", msg!("organisation_invalid")));
    }
    if body.message.trim().is_empty() || body.message.chars().count() > 2000 {
        problems.push(Problem::new("", "message", msg!("one_to_2000_chars")));
    }
    if !problems.is_empty() {
        return Err(AppError::Invalid {
            code: "invalid_request",
            message: msg!("request_incomplete"),
            details: problems,
        });
    }
    let user = findable(state, me, username).await?;
    let pending: i64 = sqlx::query_scalar(
        "SELECT COUNT(*) FROM contact_requests WHERE recruiter_id = $1 AND user_id = $2 AND answered_at IS NULL",
    )
    .bind(me.user_id)
    .bind(user.user_id)
    .fetch_one(&state.db.pool)
    .await?;
    if pending > 0 {
        return Err(AppError::Conflict(msg!("request_pending", user = &user.username)));
    }
    let now = db::now_ms();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO contact_requests (recruiter_id, user_id, organisation, message, created_at)
         VALUES ($1, $2, $3, $4, $5) RETURNING request_id",
    )
    .bind(me.user_id)
    .bind(user.user_id)
    .bind(body.organisation.trim())
    .bind(body.message.trim())
    .bind(now)
    .fetch_one(&state.db.pool)
    .await?;
    let detail = serde_json::json!({ "request": id, "organisation": body.organisation.trim() });
    crate::audit::log(state, me, crate::audit::Action::TalentContact, None, &[user.user_id], detail).await?;
    Ok(ContactView {
        id,
        recruiter: me.username.clone(),
        username: user.username,
        organisation: body.organisation.trim().into(),
        message: body.message.trim().into(),
        state: "pending".into(),
        created_at: db::ms_to_rfc3339(now),
        email: None,
    })
}

#[derive(FromRow)]
struct ContactRow {
    request_id: i64,
    recruiter: String,
    username: String,
    email: String,
    organisation: String,
    message: String,
    created_at: i64,
    accepted: Option<i64>,
}

/// Contact requests: those sent to you, and (recruiters) those you sent —
/// with the email of each person who accepted.
pub async fn list_contact_requests(state: &Platform, me: &CurrentUser) -> AppResult<Vec<ContactView>> {
    contact_requests(state, me).await
}

/// The contact requests `me` sent or received.
pub async fn contact_requests(state: &Platform, me: &CurrentUser) -> AppResult<Vec<ContactView>> {
    let rows: Vec<ContactRow> = sqlx::query_as(
        "SELECT c.request_id, r.username AS recruiter, u.username, u.email, c.organisation, c.message, c.created_at, c.accepted
         FROM contact_requests c JOIN users r ON r.user_id = c.recruiter_id JOIN users u ON u.user_id = c.user_id
         WHERE c.user_id = $1 OR c.recruiter_id = $1 ORDER BY c.request_id DESC",
    )
    .bind(me.user_id)
    .fetch_all(&state.db.pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|r| {
            let state = match r.accepted {
                None => "pending",
                Some(1) => "accepted",
                Some(_) => "declined",
            };
            let mine_sent = r.recruiter == me.username;
            ContactView {
                id: r.request_id,
                email: (mine_sent && r.accepted == Some(1)).then_some(r.email),
                recruiter: r.recruiter,
                username: r.username,
                organisation: r.organisation,
                message: r.message,
                state: state.into(),
                created_at: db::ms_to_rfc3339(r.created_at),
            }
        })
        .collect())
}

/// Accepts (your email is shown to the recruiter) or declines a request
/// sent to you.
pub async fn answer_contact_request(state: &Platform, me: &CurrentUser, (id, answer): (i64, String)) -> AppResult<()> {
    answer_request(state, me, id, &answer).await?;
    Ok(())
}

/// Accepts or declines a contact request sent to `me`.
pub async fn answer_request(state: &Platform, me: &CurrentUser, id: i64, answer: &str) -> AppResult<()> {
    let accepted = match answer {
        "accept" => 1,
        "decline" => 0,
        _ => return Err(AppError::NotFound("answer")),
    };
    let res = sqlx::query(
        "UPDATE contact_requests SET answered_at = $3, accepted = $4
         WHERE request_id = $1 AND user_id = $2 AND answered_at IS NULL",
    )
    .bind(id)
    .bind(me.user_id)
    .bind(db::now_ms())
    .bind(accepted)
    .execute(&state.db.pool)
    .await?;
    if res.rows_affected() == 0 {
        return Err(AppError::NotFound("pending_request"));
    }
    Ok(())
}
