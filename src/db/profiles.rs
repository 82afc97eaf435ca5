//! Queries on `profiles`, `consents` and `consent_log`.

use sqlx::{Any, AnyConnection, Executor, FromRow};

/// A row of `profiles`.
#[derive(Debug, Clone, Default, FromRow)]
pub struct ProfileRow {
    /// The person.
    pub user_id: i64,
    /// City (optional).
    pub city: String,
    /// School, company or lab.
    pub affiliation: String,
    /// Comma-separated skills/tags.
    pub skills: String,
    /// Newline-separated links.
    pub links: String,
    /// Free text.
    pub bio: String,
    /// 1 when open to opportunities.
    pub open_to_work: i64,
    /// Year of birth, if given (for the age limit on discoverability).
    pub birth_year: Option<i64>,
    /// Last change (ms).
    pub updated_at: i64,
}

/// A person a recruiter may find, with their profile (empty if never saved).
#[derive(Debug, Clone, FromRow)]
pub struct DiscoverableRow {
    /// Who they are.
    #[sqlx(flatten)]
    pub person: PersonRow,
    /// The profile (`user_id` is the person's).
    #[sqlx(flatten)]
    pub profile: ProfileRow,
}

/// A person's public names.
#[derive(Debug, Clone, FromRow)]
pub struct PersonRow {
    /// Username.
    pub username: String,
    /// Display name.
    pub display_name: String,
    /// ISO country code.
    pub country: String,
}

/// Everyone who consented to recruiters (to the text's current version
/// `recruiters`) and lives in `home` or also consented to recruiters abroad
/// (version `abroad`), whose age is known (a birth year or the 14-or-older
/// confirmation), with their profiles, in one query.
pub async fn discoverable<'e>(
    ex: impl Executor<'e, Database = Any>,
    home: &str,
    recruiters: &str,
    abroad: &str,
) -> sqlx::Result<Vec<DiscoverableRow>> {
    sqlx::query_as(
        "SELECT u.user_id, u.username, u.display_name, u.country,
                COALESCE(p.city, '') AS city, COALESCE(p.affiliation, '') AS affiliation,
                COALESCE(p.skills, '') AS skills, COALESCE(p.links, '') AS links, COALESCE(p.bio, '') AS bio,
                COALESCE(p.open_to_work, 0) AS open_to_work, p.birth_year, COALESCE(p.updated_at, 0) AS updated_at
         FROM consents c
         JOIN users u ON u.user_id = c.user_id
         LEFT JOIN profiles p ON p.user_id = u.user_id
         WHERE c.kind = 'recruiters' AND c.text_version = $2
           AND (p.birth_year IS NOT NULL OR u.age_confirmed_at IS NOT NULL)
           AND (u.country = $1 OR EXISTS (SELECT 1 FROM consents a
                                         WHERE a.user_id = u.user_id AND a.kind = 'abroad' AND a.text_version = $3))
         ORDER BY u.user_id",
    )
    .bind(home)
    .bind(recruiters)
    .bind(abroad)
    .fetch_all(ex)
    .await
}

/// The version of who recruiters can find (see migration 0014).
pub async fn people_version<'e>(ex: impl Executor<'e, Database = Any>) -> sqlx::Result<i64> {
    sqlx::query_scalar("SELECT version FROM people_version WHERE id = 1").fetch_one(ex).await
}

/// A person's profile; an empty one if never saved.
pub async fn get<'e>(ex: impl Executor<'e, Database = Any>, user_id: i64) -> sqlx::Result<ProfileRow> {
    let row: Option<ProfileRow> = sqlx::query_as(
        "SELECT user_id, city, affiliation, skills, links, bio, open_to_work, birth_year, updated_at
         FROM profiles WHERE user_id = $1",
    )
    .bind(user_id)
    .fetch_optional(ex)
    .await?;
    Ok(row.unwrap_or(ProfileRow { user_id, ..ProfileRow::default() }))
}

/// Inserts or replaces a profile.
pub async fn put<'e>(ex: impl Executor<'e, Database = Any>, p: &ProfileRow, now: i64) -> sqlx::Result<()> {
    sqlx::query(
        "INSERT INTO profiles (user_id, city, affiliation, skills, links, bio, open_to_work, birth_year, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (user_id) DO UPDATE SET city = $2, affiliation = $3, skills = $4, links = $5, bio = $6,
             open_to_work = $7, birth_year = $8, updated_at = $9",
    )
    .bind(p.user_id)
    .bind(&p.city)
    .bind(&p.affiliation)
    .bind(&p.skills)
    .bind(&p.links)
    .bind(&p.bio)
    .bind(p.open_to_work)
    .bind(p.birth_year)
    .bind(now)
    .execute(ex)
    .await
    .map(|_| ())
}

/// A consent in force.
#[derive(Debug, Clone, FromRow)]
pub struct ConsentRow {
    /// Which.
    pub kind: String,
    /// The text version agreed to.
    pub text_version: String,
    /// When (ms).
    pub granted_at: i64,
}

/// The consents a person has in force.
pub async fn consents<'e>(ex: impl Executor<'e, Database = Any>, user_id: i64) -> sqlx::Result<Vec<ConsentRow>> {
    sqlx::query_as("SELECT kind, text_version, granted_at FROM consents WHERE user_id = $1 ORDER BY kind")
        .bind(user_id)
        .fetch_all(ex)
        .await
}

/// Grants (`Some(version)`) or withdraws (`None`) one consent, logging the
/// change; a no-op change is not logged. Returns whether anything changed.
pub async fn set_consent(
    conn: &mut AnyConnection,
    user_id: i64,
    kind: &str,
    version: Option<&str>,
    now: i64,
) -> sqlx::Result<bool> {
    let current: Option<String> =
        sqlx::query_scalar("SELECT text_version FROM consents WHERE user_id = $1 AND kind = $2")
            .bind(user_id)
            .bind(kind)
            .fetch_optional(&mut *conn)
            .await?;
    let (action, logged_version) = match (version, &current) {
        (Some(v), Some(c)) if v == c => return Ok(false),
        (None, None) => return Ok(false),
        (Some(v), _) => {
            sqlx::query(
                "INSERT INTO consents (user_id, kind, text_version, granted_at) VALUES ($1, $2, $3, $4)
                 ON CONFLICT (user_id, kind) DO UPDATE SET text_version = $3, granted_at = $4",
            )
            .bind(user_id)
            .bind(kind)
            .bind(v)
            .bind(now)
            .execute(&mut *conn)
            .await?;
            ("granted", v.to_owned())
        }
        (None, Some(c)) => {
            sqlx::query("DELETE FROM consents WHERE user_id = $1 AND kind = $2")
                .bind(user_id)
                .bind(kind)
                .execute(&mut *conn)
                .await?;
            ("withdrawn", c.clone())
        }
    };
    sqlx::query("INSERT INTO consent_log (user_id, kind, action, text_version, at) VALUES ($1, $2, $3, $4, $5)")
        .bind(user_id)
        .bind(kind)
        .bind(action)
        .bind(logged_version)
        .bind(now)
        .execute(&mut *conn)
        .await?;
    Ok(true)
}

/// A logged consent change.
#[derive(Debug, Clone, FromRow)]
pub struct ConsentEvent {
    /// Which consent.
    pub kind: String,
    /// granted or withdrawn.
    pub action: String,
    /// The text version.
    pub text_version: String,
    /// When (ms).
    pub at: i64,
}

/// A person's consent history, newest first.
pub async fn consent_log<'e>(ex: impl Executor<'e, Database = Any>, user_id: i64) -> sqlx::Result<Vec<ConsentEvent>> {
    sqlx::query_as("SELECT kind, action, text_version, at FROM consent_log WHERE user_id = $1 ORDER BY log_id DESC")
        .bind(user_id)
        .fetch_all(ex)
        .await
}
