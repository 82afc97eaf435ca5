//! Words the rules say to people, in English and Korean.
//!
//! A [`Msg`] is a stable key with named arguments; it renders in the
//! reader's [`Lang`] from one catalog, so the API (English, plus the error's
//! `code`) and the pages (the reader's language) say the same thing.
//! Invariants, checked by the tests below: every key used in the code is in
//! the catalog, once, with an English and a Korean text that name the same
//! `{arguments}`. A message that only repeats text from outside (a parser's
//! own words, a file name) is [`Msg::Text`] and renders as it is.

use std::fmt;

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Lang {
    /// English.
    #[default]
    En,
    /// Korean.
    Ko,
}

impl Lang {
    /// The BCP 47 code.
    pub fn code(self) -> &'static str {
        match self {
            Self::En => "en",
            Self::Ko => "ko",
        }
    }

    /// Parses a code.
    pub fn from_code(code: &str) -> Option<Self> {
        match code {
            "en" => Some(Self::En),
            "ko" => Some(Self::Ko),
            _ => None,
        }
    }
}

/// Something to say: a catalog key with arguments, or text from outside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Msg {
    /// A catalog entry and its `{name}` arguments (each rendered in the
    /// same language: an argument may itself be a catalog message).
    Key(&'static str, Vec<(&'static str, Msg)>),
    /// Text that is not ours to translate (a parser's message, a name).
    Text(String),
    /// Parts of one sentence, joined by "; ".
    List(Vec<Msg>),
}

/// `msg!("key", name = value, …)`: a catalog message with arguments.
#[macro_export]
macro_rules! msg {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::messages::Msg::Key($key, vec![$((stringify!($name), $crate::messages::Msg::Text(($value).to_string()))),*])
    };
}

impl Msg {
    /// The catalog key, if this is a catalog message (not outside text).
    pub fn key(&self) -> Option<&'static str> {
        match self {
            Self::Key(k, _) => Some(k),
            Self::Text(_) | Self::List(_) => None,
        }
    }

    /// The text in `lang`, arguments filled in. An unknown key (a bug the
    /// tests catch) renders as the key itself rather than failing.
    pub fn render(&self, lang: Lang) -> String {
        match self {
            Self::Text(t) => t.clone(),
            Self::List(parts) => parts.iter().map(|m| m.render(lang)).collect::<Vec<_>>().join("; "),
            Self::Key(key, args) => {
                let template = lookup(key, lang).unwrap_or(key);
                fill(template, args, lang)
            }
        }
    }
}

impl fmt::Display for Msg {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.render(Lang::En))
    }
}

impl From<String> for Msg {
    fn from(t: String) -> Self {
        Self::Text(t)
    }
}

impl From<&str> for Msg {
    fn from(t: &str) -> Self {
        Self::Text(t.to_owned())
    }
}

impl serde::Serialize for Msg {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.to_string())
    }
}

/// The word for a stored value (`status.scored`, `verdict.trap`) in
/// `lang`; a value the catalog does not know shows as it is.
pub fn word(kind: &str, value: &str, lang: Lang) -> String {
    lookup(&format!("{kind}.{value}"), lang).map_or_else(|| value.to_owned(), str::to_owned)
}

/// Every catalog entry whose key starts with one of `prefixes`, in `lang`
/// (for a page's script to show stored values in the reader's language).
pub fn words(prefixes: &[&str], lang: Lang) -> std::collections::BTreeMap<&'static str, &'static str> {
    CATALOG
        .iter()
        .filter(|(k, _, _)| prefixes.iter().any(|p| k.starts_with(p)))
        .map(|(k, en, ko)| (*k, if lang == Lang::Ko { *ko } else { *en }))
        .collect()
}

/// The text of `key` in `lang`.
pub fn lookup(key: &str, lang: Lang) -> Option<&'static str> {
    CATALOG.iter().find(|(k, _, _)| *k == key).map(|(_, en, ko)| if lang == Lang::Ko { *ko } else { *en })
}

/// The catalog's own copy of `key`, if the catalog has it.
pub fn catalog_key(key: &str) -> Option<&'static str> {
    CATALOG.iter().find(|(k, _, _)| *k == key).map(|(k, _, _)| *k)
}

/// Fills `{name}` from `args`, each rendered in `lang`.
fn fill(template: &str, args: &[(&'static str, Msg)], lang: Lang) -> String {
    let mut out = template.to_owned();
    for (name, value) in args {
        out = out.replace(&format!("{{{name}}}"), &value.render(lang));
    }
    out
}

/// Every message: key, English, Korean.
pub const CATALOG: &[(&str, &str, &str)] = &[
    // Errors of the platform itself.
    ("internal", "internal server error", "서버 내부 오류"),
    ("already_exists", "already exists", "이미 있습니다"),
    ("db_busy", "the database is busy; try again", "데이터베이스가 바쁩니다. 다시 시도하세요"),
    (
        "uploads_busy",
        "the server is receiving too many uploads at once; nothing was stored, try again in a minute",
        "서버가 동시에 너무 많은 업로드를 받고 있습니다. 아무것도 저장되지 않았으니 1분 뒤에 다시 시도하세요",
    ),
    (
        "store_unavailable",
        "the file store does not answer; nothing was stored, try again",
        "파일 저장소가 응답하지 않습니다. 아무것도 저장되지 않았으니 다시 시도하세요",
    ),
    ("json_too_large", "the JSON body is over the 1 MiB limit", "JSON 본문이 1 MiB 한도를 넘습니다"),
    ("upload_too_large", "the upload is over the size limit: {detail}", "업로드가 크기 한도를 넘습니다: {detail}"),
    ("bad_multipart", "malformed multipart body: {detail}", "잘못된 multipart 본문: {detail}"),
    // Who is asking.
    (
        "log_in_first",
        "log in first: send `Authorization: Bearer <token>`",
        "먼저 로그인하세요: `Authorization: Bearer <토큰>`을 보내세요",
    ),
    (
        "token_invalid",
        "the token is invalid, expired or revoked; log in again",
        "토큰이 잘못되었거나 만료 또는 폐기되었습니다. 다시 로그인하세요",
    ),
    ("account_gone", "the account no longer exists", "계정이 더 이상 없습니다"),
    (
        "login_throttled",
        "too many failed logins for {username} from this address; try again in {wait} s",
        "이 주소에서 {username}의 로그인 실패가 너무 많습니다. {wait}초 뒤에 다시 시도하세요",
    ),
    (
        "token_read_only",
        "this token is read-only: it may only read (GET)",
        "읽기 전용 토큰입니다. 읽기(GET)만 할 수 있습니다",
    ),
    (
        "csrf_header_needed",
        "a change through the API with the session cookie needs the X-CSRF-Token header (the gaic_csrf cookie's value), or use an API token",
        "세션 쿠키로 API를 통해 변경하려면 X-CSRF-Token 헤더(gaic_csrf 쿠키 값)가 필요합니다. 아니면 API 토큰을 쓰세요",
    ),
    ("token_expiry_range", "a token's expiry is 1 to 365 days", "토큰 유효 기간은 1일에서 365일 사이입니다"),
    ("current_password_wrong", "the current password is wrong", "현재 비밀번호가 틀립니다"),
    (
        "bad_audit_action",
        "{got} is not an audited action; the actions are {actions}",
        "{got}은(는) 감사 기록 동작이 아닙니다. 동작: {actions}",
    ),
    (
        "rate_limited",
        "too many {what} requests; try again in {wait} s",
        "{what} 요청이 너무 많습니다. {wait}초 뒤에 다시 시도하세요",
    ),
    (
        "too_many_streams",
        "you already have {max} live streams open; close one first",
        "이미 실시간 스트림을 {max}개 열어 두었습니다. 하나를 닫고 다시 시도하세요",
    ),
    (
        "server_streams_full",
        "the server has no room for another live stream now; try again soon",
        "지금은 서버에 실시간 스트림을 더 열 수 없습니다. 잠시 뒤에 다시 시도하세요",
    ),
    // Teams.
    (
        "team_name_invalid",
        "name: a team name is 1-64 printable characters",
        "이름: 팀 이름은 출력 가능한 문자 1~64자입니다",
    ),
    ("reason_invalid", "reason: 1-500 characters, shown to the team", "사유: 1~500자이며 해당 팀에 표시됩니다"),
    ("task_closed", "the task has closed", "과제가 종료되었습니다"),
    (
        "already_in_team",
        "you are already in team {team}; rename it instead",
        "이미 {team} 팀에 속해 있습니다. 대신 팀 이름을 바꾸세요",
    ),
    ("team_name_taken", "a team named {name} already exists in this task", "이 과제에 {name} 팀이 이미 있습니다"),
    ("already_member", "{user} is already in your team", "{user} 님은 이미 팀원입니다"),
    ("your_team_full", "your team is full ({max} members at most)", "팀 정원이 찼습니다 (최대 {max}명)"),
    ("team_full", "the team is full ({max} members at most)", "팀 정원이 찼습니다 (최대 {max}명)"),
    (
        "invite_pending",
        "{user} already has a pending invite from your team",
        "{user} 님에게 보낸 초대가 이미 대기 중입니다",
    ),
    ("teams_fixed", "the task has closed; teams are fixed", "과제가 종료되어 팀을 바꿀 수 없습니다"),
    ("invite_answered", "this invite was already answered", "이미 응답한 초대입니다"),
    ("merger_deadline_passed", "the team merger deadline ({at}) has passed", "팀 병합 마감({at})이 지났습니다"),
    (
        "merge_too_big",
        "the merged team would have {size} members; at most {max} are allowed",
        "병합된 팀은 {size}명이 됩니다. 최대 {max}명까지 허용됩니다",
    ),
    (
        "merge_too_many",
        "the merged team would have {total} submissions, more than the daily cap ({cap}) × days run allows",
        "병합된 팀의 제출이 {total}개가 되어 일일 한도({cap}) × 진행 일수를 넘습니다",
    ),
    ("only_member", "you are the team's only member", "팀의 유일한 구성원입니다"),
    (
        "disqualified_stays",
        "team {team} is disqualified ({reason}); its members cannot leave it, merge or join another team",
        "{team} 팀은 실격되었습니다 ({reason}). 팀원은 팀을 떠나거나 병합하거나 다른 팀에 들어갈 수 없습니다",
    ),
    (
        "disqualified_team_closed",
        "team {team} is disqualified; it cannot take new members",
        "{team} 팀은 실격되어 새 팀원을 받을 수 없습니다",
    ),
    (
        "organizer_only_disqualify",
        "only the task's organizer or an admin can disqualify a team",
        "과제 주최자나 관리자만 팀을 실격시킬 수 있습니다",
    ),
    (
        "thing.team_not_joined",
        "team (you have not joined this task; submit or create a team first)",
        "팀 (이 과제에 참가하지 않았습니다. 먼저 제출하거나 팀을 만드세요)",
    ),
    // Submissions.
    ("task_opens_at", "the task opens at {at}", "과제는 {at}에 시작합니다"),
    ("message_too_long", "message: at most {max} characters", "메시지: 최대 {max}자"),
    ("file_empty", "the file is empty", "파일이 비어 있습니다"),
    (
        "models_not_accepted",
        "this task does not accept models; submit a predictions CSV",
        "이 과제는 모델을 받지 않습니다. 예측 CSV를 제출하세요",
    ),
    ("models_only", "this task accepts models only (a .wasm file)", "이 과제는 모델(.wasm 파일)만 받습니다"),
    (
        "team_disqualified",
        "your team is disqualified from this task: {reason}",
        "팀이 이 과제에서 실격되었습니다: {reason}",
    ),
    (
        "quota_used",
        "your team has used all {cap} submissions for today (UTC); the count resets at {at}",
        "팀이 오늘(UTC) 제출 {cap}회를 모두 사용했습니다. {at}에 초기화됩니다",
    ),
    (
        "refusals_used",
        "this team already had {cap} uploads refused today, the most allowed (3 × the daily cap); try again after {at}",
        "이 팀은 오늘 이미 업로드가 {cap}번 거부되어 한도(일일 한도의 3배)에 이르렀습니다. {at} 이후에 다시 시도하세요",
    ),
    ("members_select", "only the team's members select its final submissions", "팀원만 최종 제출을 선택할 수 있습니다"),
    (
        "selections_fixed",
        "the task has closed; final selections are fixed",
        "과제가 종료되어 최종 선택을 바꿀 수 없습니다",
    ),
    (
        "select_scored_only",
        "only a scored, visible submission can be selected",
        "채점되고 공개된 제출만 선택할 수 있습니다",
    ),
    (
        "selections_full",
        "your team has already selected {cap} submission(s); unselect one first",
        "팀이 이미 {cap}개를 선택했습니다. 먼저 하나를 해제하세요",
    ),
    (
        "submission_problems",
        "the submission has {count} problem(s); nothing was stored and it does not count",
        "제출에 문제가 {count}개 있습니다. 저장되지 않았고 횟수에 포함되지 않습니다",
    ),
    // Accounts, roles and more submission rules.
    (
        "username_invalid",
        "must be 3-32 characters: letters, digits, '_' or '-'",
        "영문자, 숫자, '_', '-'로 된 3~32자여야 합니다",
    ),
    ("username_reserved", "is reserved: choose another name", "예약된 이름입니다. 다른 이름을 고르세요"),
    ("email_invalid", "is not a valid email address", "올바른 이메일 주소가 아닙니다"),
    ("password_short", "must be at least {min} characters", "{min}자 이상이어야 합니다"),
    ("password_long", "must be at most 1024 bytes", "1024바이트 이하여야 합니다"),
    (
        "country_invalid",
        "{country} is not an ISO 3166-1 alpha-2 code such as KR or US",
        "{country}은(는) KR, US 같은 ISO 3166-1 alpha-2 코드가 아닙니다",
    ),
    ("display_name_invalid", "must be 1-64 printable characters", "출력 가능한 문자 1~64자여야 합니다"),
    ("username_registered", "that username is already registered", "이미 등록된 사용자 이름입니다"),
    ("unknown_role", "unknown role {role}; roles: {roles}", "알 수 없는 역할 {role}. 역할: {roles}"),
    ("last_admin", "cannot remove the last admin", "마지막 관리자는 해제할 수 없습니다"),
    ("wrong_login", "wrong username or password", "사용자 이름 또는 비밀번호가 틀렸습니다"),
    ("token_name_long", "name: at most 100 characters", "이름: 최대 100자"),
    ("model_refused", "{verdict}: {detail}", "{verdict}: {detail}"),
    (
        "idempotency_busy",
        "a submission with this Idempotency-Key is being stored",
        "이 Idempotency-Key의 제출을 저장하는 중입니다",
    ),
    (
        "idempotency_other_task",
        "this Idempotency-Key was already used for another task",
        "이 Idempotency-Key는 이미 다른 과제에 사용되었습니다",
    ),
    (
        "organizer_only_all_submissions",
        "only the task's organizer or an admin sees every submission",
        "과제 주최자나 관리자만 모든 제출을 볼 수 있습니다",
    ),
    ("bad_scope", "scope must be team or all, got {got}", "scope는 team 또는 all이어야 합니다. 받은 값: {got}"),
    (
        "organizer_only_hide",
        "only the task's organizer or an admin can hide a submission",
        "과제 주최자나 관리자만 제출을 숨길 수 있습니다",
    ),
    (
        "organizer_only_unhide",
        "only the task's organizer or an admin can unhide a submission",
        "과제 주최자나 관리자만 숨긴 제출을 다시 보일 수 있습니다",
    ),
    (
        "recruiter_role_needed",
        "searching people needs the recruiter role; an admin can grant it",
        "사람 검색에는 채용 담당자 역할이 필요합니다. 관리자가 부여할 수 있습니다",
    ),
    ("role_needed", "this needs the {role} role", "{role} 역할이 필요합니다"),
    // Tasks, boards and the queue.
    ("slug_taken", "a task with slug {slug} already exists", "슬러그가 {slug}인 과제가 이미 있습니다"),
    (
        "bad_task_state",
        "state must be open, upcoming, closed or all, got {got}",
        "state는 open, upcoming, closed, all 중 하나여야 합니다. 받은 값: {got}",
    ),
    ("bad_sort", "sort must be one of {names}, got {got}", "sort는 {names} 중 하나여야 합니다. 받은 값: {got}"),
    ("bundle_problems", "the bundle has {count} problem(s)", "번들에 문제가 {count}개 있습니다"),
    ("closes_before_opens", "closes_at must be after opens_at", "closes_at은 opens_at보다 뒤여야 합니다"),
    (
        "merger_outside_schedule",
        "merger_deadline must lie between opens_at and closes_at",
        "merger_deadline은 opens_at과 closes_at 사이여야 합니다",
    ),
    (
        "organizer_only_change",
        "only the task's organizer or an admin can change it",
        "과제 주최자나 관리자만 바꿀 수 있습니다",
    ),
    ("already_closed", "the task already closed at {at}", "과제는 이미 {at}에 종료되었습니다"),
    (
        "schedule_final",
        "the task closed at {at}; its schedule is final (an admin may re-open it with POST /api/v1/tasks/SLUG/reopen)",
        "과제가 {at}에 종료되어 일정을 바꿀 수 없습니다 (관리자는 POST /api/v1/tasks/SLUG/reopen 으로 다시 열 수 있습니다)",
    ),
    ("not_closed", "the task is still open", "과제가 아직 진행 중입니다"),
    ("threshold_range", "threshold must be above 0 and at most 1", "threshold는 0보다 크고 1 이하여야 합니다"),
    ("admin_only_reopen", "only an admin can re-open a closed task", "종료된 과제는 관리자만 다시 열 수 있습니다"),
    ("reopen_in_future", "closes_at must be in the future", "closes_at은 미래여야 합니다"),
    (
        "bad_board",
        "board must be public or private, got {got}",
        "board는 public 또는 private이어야 합니다. 받은 값: {got}",
    ),
    (
        "private_board_later",
        "the private leaderboard is revealed when the task closes at {at}",
        "비공개 리더보드는 과제가 종료되는 {at}에 공개됩니다",
    ),
    ("baseline_name_needed", "the baseline needs a name", "기준 모델에 이름이 필요합니다"),
    ("one_to_64_chars", "1-64 characters", "1~64자"),
    ("baseline_problems", "the baseline file has {count} problem(s)", "기준 모델 파일에 문제가 {count}개 있습니다"),
    ("baseline_taken", "a baseline named {name} already exists", "{name} 기준 모델이 이미 있습니다"),
    (
        "labels_ids_differ",
        "the new labels must have exactly the ids of the current test set",
        "새 레이블은 현재 테스트 세트와 정확히 같은 id를 가져야 합니다",
    ),
    ("labels_unusable", "the new labels cannot be used", "새 레이블을 사용할 수 없습니다"),
    ("organizer_only", "only the task's organizer or an admin can do this", "과제 주최자나 관리자만 할 수 있습니다"),
    (
        "organizer_only_queue",
        "only the task's organizer or an admin controls the queue",
        "과제 주최자나 관리자만 대기열을 제어할 수 있습니다",
    ),
    ("queue_models_only", "only model submissions are evaluated in the queue", "대기열에서는 모델 제출만 평가됩니다"),
    ("not_pending", "the submission is not queued or running", "제출이 대기 중이거나 실행 중이 아닙니다"),
    ("still_pending", "the submission is still queued or running", "제출이 아직 대기 중이거나 실행 중입니다"),
    (
        "organizer_only_task_queue",
        "only the task's organizer or an admin sees and controls its queue",
        "과제 주최자나 관리자만 대기열을 보고 제어할 수 있습니다",
    ),
    // Profiles, privacy and recruiting.
    ("at_most_chars", "at most {max} characters", "최대 {max}자"),
    (
        "skills_invalid",
        "at most 20 tags, each at most 40 characters without commas",
        "태그는 최대 20개, 각각 쉼표 없이 최대 40자",
    ),
    ("links_too_many", "at most 5 links", "링크는 최대 5개"),
    (
        "link_invalid",
        "{link} is not an http(s) URL of at most 300 characters",
        "{link}은(는) 300자 이하의 http(s) URL이 아닙니다",
    ),
    ("birth_year_invalid", "a year from 1900 to {year}", "1900년부터 {year}년 사이의 연도"),
    (
        "age_confirm_needed",
        "confirm that you are 14 or older, or give your birth year",
        "만 14세 이상임을 확인하거나 출생 연도를 입력하세요",
    ),
    (
        "age_unknown",
        "recruiters can find only people known to be {age} or older: confirm your age or give your birth year on your profile first",
        "채용 담당자는 {age}세 이상으로 확인된 사람만 찾을 수 있습니다. 먼저 프로필에서 나이를 확인하거나 출생 연도를 입력하세요",
    ),
    ("profile_problems", "the profile has {count} problem(s)", "프로필에 문제가 {count}개 있습니다"),
    (
        "bad_tier",
        "tier must be novice, contributor, expert, master or grandmaster, not {got}",
        "tier는 novice, contributor, expert, master, grandmaster 중 하나여야 합니다. 받은 값: {got}",
    ),
    (
        "bad_medal",
        "medal must be gold, silver or bronze, not {got}",
        "medal은 gold, silver, bronze 중 하나여야 합니다. 받은 값: {got}",
    ),
    (
        "bad_talent_sort",
        "sort must be percentile, rating or points, not {got}",
        "sort는 percentile, rating, points 중 하나여야 합니다. 받은 값: {got}",
    ),
    (
        "recruiter_role_to_view",
        "viewing people needs the recruiter role; an admin can grant it",
        "사람을 보려면 채용 담당자 역할이 필요합니다. 관리자가 부여할 수 있습니다",
    ),
    (
        "delete_wrong_password",
        "the password is not right; the account was not deleted",
        "비밀번호가 맞지 않습니다. 계정을 삭제하지 않았습니다",
    ),
    (
        "last_admin_delete",
        "the last admin cannot delete their account; make someone else admin first",
        "마지막 관리자는 계정을 삭제할 수 없습니다. 먼저 다른 사람을 관리자로 지정하세요",
    ),
    ("bad_rankings_by", "by must be rating or points, not {got}", "by는 rating 또는 points여야 합니다. 받은 값: {got}"),
    ("bad_page_200", "page starts at 1 and per_page is 1-200", "page는 1부터, per_page는 1~200입니다"),
    (
        "recruiter_role",
        "this needs the recruiter role; an admin can grant it",
        "채용 담당자 역할이 필요합니다. 관리자가 부여할 수 있습니다",
    ),
    ("shortlist_name_needed", "the shortlist needs a name", "후보 목록에 이름이 필요합니다"),
    ("one_to_100_chars", "1-100 characters", "1~100자"),
    ("shortlist_taken", "you already have a shortlist named {name}", "{name} 후보 목록이 이미 있습니다"),
    ("note_too_long", "note: at most 2,000 characters", "메모: 최대 2,000자"),
    (
        "organisation_invalid",
        "1-200 characters: the person sees who is asking",
        "1~200자: 상대방이 누가 요청하는지 봅니다",
    ),
    ("one_to_2000_chars", "1-2,000 characters", "1~2,000자"),
    ("request_incomplete", "the request is incomplete", "요청이 완전하지 않습니다"),
    ("request_pending", "you already have a pending request to {user}", "{user} 님에게 보낸 요청이 이미 대기 중입니다"),
    // Problems in a submitted CSV.
    ("csv_unreadable", "not a readable CSV: {error}", "읽을 수 있는 CSV가 아닙니다: {error}"),
    ("header_must_be", "the header must be `{columns}`", "헤더는 `{columns}`이어야 합니다"),
    ("header_missing", "missing {columns}", "빠진 열: {columns}"),
    ("header_unexpected", "unexpected {columns}", "예상하지 않은 열: {columns}"),
    ("header_repeated", "repeated {columns}", "반복된 열: {columns}"),
    ("row_unreadable", "not readable as CSV: {error}", "CSV로 읽을 수 없습니다: {error}"),
    ("field_count", "has {got} fields; the header has {want}", "필드가 {got}개입니다. 헤더에는 {want}개가 있습니다"),
    ("id_not_utf8", "the id is not valid UTF-8", "id가 올바른 UTF-8이 아닙니다"),
    ("duplicate_id", "duplicate id {id}", "중복된 id {id}"),
    ("cell_not_utf8", "column {column}: not valid UTF-8", "{column} 열: 올바른 UTF-8이 아닙니다"),
    ("bad_cell", "column {column}: {cell} {why}", "{column} 열: {cell} {why}"),
    ("not_a_class", "is not one of the classes ({classes})", "은(는) 클래스({classes}) 중 하나가 아닙니다"),
    ("not_a_probability", "is not a probability between 0 and 1", "은(는) 0과 1 사이의 확률이 아닙니다"),
    ("not_finite", "is not a finite number", "은(는) 유한한 숫자가 아닙니다"),
    ("no_rows", "the file has a header but no rows", "파일에 헤더만 있고 행이 없습니다"),
    (
        "unknown_ids",
        "{count} ids are not in the test set, e.g. {examples}",
        "id {count}개가 테스트 세트에 없습니다. 예: {examples}",
    ),
    ("missing_ids", "missing {count} ids, e.g. {examples}", "id {count}개가 빠졌습니다. 예: {examples}"),
    ("more_problems", "… and {count} more problems", "… 그리고 문제 {count}개 더"),
    // Problems in a task bundle.
    ("statement_empty", "the task statement is empty", "과제 설명이 비어 있습니다"),
    (
        "device_invalid",
        "{value} is not a device: use \"any\" or \"cuda\"",
        "{value}은(는) 장치가 아닙니다: \"any\" 또는 \"cuda\"를 쓰세요",
    ),
    (
        "language_unknown",
        "no translation into \"{code}\" is shown on this site (languages: {known})",
        "이 사이트는 \"{code}\" 번역을 보여 주지 않습니다 (언어: {known})",
    ),
    ("folder_missing", "folder missing", "폴더가 없습니다"),
    (
        "too_many_files",
        "{count} files; at most {max} are allowed",
        "파일이 {count}개입니다. 최대 {max}개까지 허용됩니다",
    ),
    ("not_utf8_text", "not valid UTF-8 text", "올바른 UTF-8 텍스트가 아닙니다"),
    ("file_missing", "file missing", "파일이 없습니다"),
    ("unreadable", "cannot be read: {error}", "읽을 수 없습니다: {error}"),
    ("no_links", "links are not allowed in a bundle", "번들에는 링크를 넣을 수 없습니다"),
    ("regular_files_only", "only regular files are allowed in a bundle", "번들에는 일반 파일만 넣을 수 있습니다"),
    ("field_required", "required field missing", "필수 필드가 없습니다"),
    ("must_not_be_empty", "must not be empty", "비어 있으면 안 됩니다"),
    ("must_be_string", "must be a string, found {found}", "문자열이어야 합니다. 받은 형식: {found}"),
    ("must_be_bool", "must be true or false, found {found}", "true 또는 false여야 합니다. 받은 형식: {found}"),
    (
        "out_of_range",
        "{value} is out of range; must be between {min} and {max}",
        "{value}은(는) 범위를 벗어납니다. {min}과 {max} 사이여야 합니다",
    ),
    ("must_be_integer", "must be an integer, found {found}", "정수여야 합니다. 받은 형식: {found}"),
    ("must_be_number", "must be a number, found {found}", "숫자여야 합니다. 받은 형식: {found}"),
    ("listed_twice", "{item} is listed twice", "{item}이(가) 두 번 나옵니다"),
    ("must_be_strings", "must be a list of strings", "문자열 목록이어야 합니다"),
    (
        "must_be_strings_found",
        "must be a list of strings, found {found}",
        "문자열 목록이어야 합니다. 받은 형식: {found}",
    ),
    (
        "must_be_datetime",
        "must be a date-time such as 2027-01-31T23:59:59Z, found {found}",
        "2027-01-31T23:59:59Z 같은 날짜-시간이어야 합니다. 받은 형식: {found}",
    ),
    (
        "not_rfc3339",
        "{text} is not an RFC 3339 date-time with a zone, such as 2027-01-31T23:59:59Z",
        "{text}은(는) 2027-01-31T23:59:59Z 같은 시간대가 있는 RFC 3339 날짜-시간이 아닙니다",
    ),
    ("must_be_table", "must be a table [{name}], found {found}", "[{name}] 테이블이어야 합니다. 받은 형식: {found}"),
    (
        "unknown_field",
        "unknown field; known fields here: {known}",
        "알 수 없는 필드입니다. 여기서 쓸 수 있는 필드: {known}",
    ),
    (
        "slug_invalid",
        "{slug} must be 2-64 lower-case letters, digits or '-', starting with a letter or digit",
        "{slug}은(는) 영문 소문자나 숫자로 시작하는 2~64자의 영문 소문자, 숫자, '-'여야 합니다",
    ),
    ("public_board_invalid", "{value} is not plain or ladder", "{value}은(는) plain 또는 ladder가 아닙니다"),
    ("domain_invalid", "{domain} is not one of {known}", "{domain}은(는) {known} 중 하나가 아닙니다"),
    ("table_missing", "the [{name}] table is missing", "[{name}] 테이블이 없습니다"),
    (
        "unknown_metric",
        "unknown metric {name}; known metrics: {known}",
        "알 수 없는 지표 {name}. 쓸 수 있는 지표: {known}",
    ),
    ("two_classes", "a classification task needs at least two classes", "분류 과제에는 클래스가 두 개 이상 필요합니다"),
    (
        "shape_invalid",
        "must be a non-empty list of positive integers, e.g. [1, 8, 8]",
        "[1, 8, 8]처럼 양의 정수로 된 비어 있지 않은 목록이어야 합니다",
    ),
    (
        "shape_not_list",
        "must be a list of positive integers, found {found}",
        "양의 정수 목록이어야 합니다. 받은 형식: {found}",
    ),
    ("single_target", "a classification task has a single target column", "분류 과제의 대상 열은 하나입니다"),
    (
        "unknown_kind",
        "unknown kind {kind}; use \"predictions\" and/or \"model\"",
        "알 수 없는 종류 {kind}. \"predictions\"나 \"model\"을 쓰세요",
    ),
    ("closes_after_opens", "must be after schedule.opens", "schedule.opens보다 뒤여야 합니다"),
    (
        "merger_in_schedule",
        "must lie between schedule.opens and schedule.closes",
        "schedule.opens와 schedule.closes 사이여야 합니다",
    ),
    ("fraction_invalid", "{value} must be strictly between 0 and 1", "{value}은(는) 0과 1 사이(양 끝 제외)여야 합니다"),
    ("not_readable", "not readable: {error}", "읽을 수 없습니다: {error}"),
    (
        "inputs_missing",
        "file missing: the hidden test inputs (id + feature columns)",
        "파일이 없습니다: 숨겨진 테스트 입력(id + 특징 열)",
    ),
    (
        "labels_missing",
        "file missing: the hidden test labels (id + target columns)",
        "파일이 없습니다: 숨겨진 테스트 레이블(id + 대상 열)",
    ),
    ("no_id_column", "no id column {column}", "id 열 {column}이(가) 없습니다"),
    ("inputs_have_target", "the inputs must not contain a target column", "입력에 대상 열이 있으면 안 됩니다"),
    ("feature_missing", "feature column missing from the header", "헤더에 특징 열이 없습니다"),
    ("no_features", "no feature columns", "특징 열이 없습니다"),
    (
        "shape_mismatch",
        "{shape} holds {product} values but the inputs have {features} feature columns",
        "{shape}에는 값이 {product}개 있지만 입력의 특징 열은 {features}개입니다",
    ),
    ("cell_not_finite", "{cell} is not a finite number", "{cell}은(는) 유한한 숫자가 아닙니다"),
    ("rows_none", "no rows", "행이 없습니다"),
    ("target_missing", "target column missing from the header", "헤더에 대상 열이 없습니다"),
    ("label_not_class", "label is not one of data.classes", "레이블이 data.classes 중 하나가 아닙니다"),
    ("label_not_finite", "label is not a finite number", "레이블이 유한한 숫자가 아닙니다"),
    ("label_empty", "label is empty", "레이블이 비어 있습니다"),
    (
        "public_inputs_have_target",
        "the public test inputs must not contain a target column",
        "공개 테스트 입력에 대상 열이 있으면 안 됩니다",
    ),
    (
        "public_inputs_missing",
        "file missing: a task that accepts predictions must publish its test inputs (a copy of hidden/test_inputs.csv)",
        "파일이 없습니다: 예측을 받는 과제는 테스트 입력(hidden/test_inputs.csv의 사본)을 공개해야 합니다",
    ),
    (
        "labels_leak",
        "is a copy of the hidden labels; it would leak them",
        "숨겨진 레이블의 사본입니다. 레이블이 유출됩니다",
    ),
    ("empty_id", "empty id", "id가 비어 있습니다"),
    (
        "ids_missing_vs",
        "missing {count} ids that {other} has (e.g. {examples})",
        "{other}에 있는 id {count}개가 없습니다 (예: {examples})",
    ),
    (
        "ids_extra_vs",
        "{count} ids that {other} lacks (e.g. {examples})",
        "{other}에 없는 id가 {count}개 있습니다 (예: {examples})",
    ),
    ("more_row_problems", "… and {count} more row problems", "… 그리고 행 문제 {count}개 더"),
    ("not_tar", "not a tar archive: {error}", "tar 아카이브가 아닙니다: {error}"),
    ("not_targz", "not a valid .tar.gz: {error}", "올바른 .tar.gz가 아닙니다: {error}"),
    ("too_many_entries", "more than {max} entries", "항목이 {max}개를 넘습니다"),
    (
        "unsafe_path",
        "unsafe path: absolute paths and '..' are not allowed",
        "안전하지 않은 경로: 절대 경로와 '..'는 허용되지 않습니다",
    ),
    (
        "files_and_folders_only",
        "only regular files and folders are allowed (no links or devices)",
        "일반 파일과 폴더만 허용됩니다 (링크나 장치 불가)",
    ),
    ("unpacks_too_big", "unpacks to more than {max} bytes", "풀면 {max}바이트를 넘습니다"),
    ("cannot_unpack", "cannot unpack: {error}", "풀 수 없습니다: {error}"),
    ("corrupt", "truncated or corrupt: {error}", "잘렸거나 손상되었습니다: {error}"),
    ("archive_empty", "the archive is empty", "아카이브가 비어 있습니다"),
    // Labels and their split.
    (
        "split_empty",
        "the public/private split leaves a board with no rows; change split.public_fraction",
        "공개/비공개 분할로 행이 없는 보드가 생깁니다. split.public_fraction을 바꾸세요",
    ),
    (
        "split_unscorable",
        "the metric cannot score the {board} rows ({error}); change split.seed or the data",
        "지표가 {board} 행을 채점할 수 없습니다({error}). split.seed나 데이터를 바꾸세요",
    ),
    (
        "metric_error",
        "the metric cannot score these predictions: {error}",
        "지표가 이 예측을 채점할 수 없습니다: {error}",
    ),
    ("board.public", "public", "공개"),
    ("board.private", "private", "비공개"),
    (
        "toml_not_found",
        "not found at the top of the archive or in its only folder",
        "아카이브 최상위나 유일한 폴더에 없습니다",
    ),
    // More refusals.
    (
        "too_young",
        "people under {age} cannot be discoverable by recruiters",
        "{age}세 미만은 채용 담당자에게 검색되도록 할 수 없습니다",
    ),
    (
        "organizer_role_needed",
        "organizing needs the organizer role; an admin can grant it",
        "과제를 주최하려면 주최자 역할이 필요합니다. 관리자가 부여할 수 있습니다",
    ),
    (
        "organizer_only_manage",
        "only the task's organizer or an admin can manage it",
        "과제 주최자나 관리자만 관리할 수 있습니다",
    ),
    ("thing.invite_answer", "invite answer (accept or decline)", "초대 응답 (accept 또는 decline)"),
    ("thing.answer", "answer (accept or decline)", "응답 (accept 또는 decline)"),
    ("thing.pending_request", "pending contact request", "대기 중인 연락 요청"),
    (
        "thing.person_unfindable",
        "person (no such user, or they have not agreed to be found)",
        "사람 (없는 사용자이거나 검색에 동의하지 않았습니다)",
    ),
    (
        "thing.consent",
        "consent (public_profile, recruiters or abroad)",
        "동의 (public_profile, recruiters 또는 abroad)",
    ),
    // Things that can be missing (`AppError::NotFound`).
    ("not_found", "{thing} not found", "{thing}을(를) 찾을 수 없습니다"),
    ("thing.record", "record", "기록"),
    ("thing.task", "task", "과제"),
    ("thing.team", "team", "팀"),
    ("thing.user", "user", "사용자"),
    ("thing.submission", "submission", "제출"),
    ("thing.invite", "invite", "초대"),
    ("thing.file", "file", "파일"),
    ("thing.token", "token", "토큰"),
    ("thing.session", "session", "세션"),
    ("thing.baseline", "baseline", "기준 모델"),
    ("thing.shortlist", "shortlist", "후보 목록"),
    ("thing.request", "contact request", "연락 요청"),
    ("thing.profile", "profile", "프로필"),
    ("thing.person", "person", "사람"),
    ("thing.worker", "worker", "워커"),
    ("thing.job", "job", "작업"),
    ("thing.route", "route", "경로"),
    ("thing.blob", "blob", "파일"),
    ("thing.role", "role", "역할"),
    ("thing.entry", "entry", "항목"),
    // Submission statuses and verdicts, as the pages show them.
    ("status.queued", "queued", "대기 중"),
    ("status.running", "running", "실행 중"),
    ("status.scored", "scored", "채점됨"),
    ("status.failed", "failed", "실패"),
    ("status.platform_error", "platform error (refunded)", "플랫폼 오류 (환불됨)"),
    ("verdict.ok", "ok", "정상"),
    ("verdict.out_of_fuel", "out of fuel", "연료 소진"),
    ("verdict.timeout", "timeout", "시간 초과"),
    ("verdict.memory_limit", "memory limit", "메모리 한도 초과"),
    ("verdict.trap", "trap", "트랩"),
    ("verdict.invalid_output", "invalid output", "잘못된 출력"),
    ("verdict.crashed", "crashed", "평가기 중단"),
    ("verdict.invalid_module", "invalid module", "잘못된 모듈"),
    ("verdict.stack_overflow", "stack overflow", "스택 오버플로"),
];

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use super::*;

    fn placeholders(s: &str) -> Vec<&str> {
        let mut out: Vec<&str> = s.split('{').skip(1).filter_map(|p| p.split_once('}').map(|(n, _)| n)).collect();
        out.sort_unstable();
        out
    }

    #[test]
    fn the_catalog_has_each_key_once_with_the_same_arguments_in_both_languages() {
        let mut seen = HashSet::new();
        for (key, en, ko) in CATALOG {
            assert!(seen.insert(*key), "{key} twice");
            assert!(!en.is_empty() && !ko.is_empty(), "{key} has an empty text");
            assert_eq!(placeholders(en), placeholders(ko), "{key}: English and Korean name different arguments");
        }
    }

    #[test]
    fn every_status_and_verdict_has_words() {
        // The pages put these in a script as JSON: no `<` may end it early.
        assert!(words(&["status.", "verdict."], Lang::Ko).values().all(|w| !w.contains('<')));
        assert!(words(&["status.", "verdict."], Lang::En).values().all(|w| !w.contains('<')));
        use crate::status::SubmissionStatus as S;
        use gaic_sandbox::Verdict as V;
        for s in [S::Queued, S::Running, S::Scored, S::Failed, S::PlatformError] {
            assert!(lookup(&format!("status.{}", s.as_str()), Lang::Ko).is_some(), "{s:?}");
        }
        for v in [
            V::Ok,
            V::OutOfFuel,
            V::Timeout,
            V::MemoryLimit,
            V::StackOverflow,
            V::Trap,
            V::InvalidModule,
            V::InvalidOutput,
            V::Crashed,
        ] {
            assert!(lookup(&format!("verdict.{}", v.as_str()), Lang::Ko).is_some(), "{v:?}");
        }
    }

    #[test]
    fn every_key_the_code_uses_is_in_the_catalog() {
        let mut missing = Vec::new();
        for (module, code) in crate::layering::sources() {
            for part in code.split("msg!(\"").skip(1) {
                let key = part.split('"').next().unwrap_or_default();
                if lookup(key, Lang::En).is_none() {
                    missing.push(format!("{module}: {key}"));
                }
            }
            for part in code.split("NotFound(\"").skip(1) {
                let thing = part.split('"').next().unwrap_or_default();
                if lookup(&format!("thing.{thing}"), Lang::En).is_none() {
                    missing.push(format!("{module}: thing.{thing}"));
                }
            }
        }
        assert!(missing.is_empty(), "keys missing from the catalog: {missing:?}");
    }

    #[test]
    fn messages_render_in_either_language_with_their_arguments() {
        let m = Msg::Key("not_found", vec![("thing", Msg::Key("thing.team", Vec::new()))]);
        assert_eq!(m.render(Lang::En), "team not found");
        assert_eq!(m.render(Lang::Ko), "팀을(를) 찾을 수 없습니다");
        assert_eq!(Msg::from("plain").render(Lang::Ko), "plain");
        let list = Msg::List(vec![
            crate::msg!("header_must_be", columns = "id,label"),
            crate::msg!("header_missing", columns = "\"label\""),
        ]);
        assert_eq!(list.render(Lang::En), "the header must be `id,label`; missing \"label\"");
        assert_eq!(list.render(Lang::Ko), "헤더는 `id,label`이어야 합니다; 빠진 열: \"label\"");
        // Text arguments are never looked up, whatever they look like.
        let m = crate::msg!("team_disqualified", reason = "thing.team");
        assert_eq!(m.render(Lang::Ko), "팀이 이 과제에서 실격되었습니다: thing.team");
        assert_eq!(word("status", "scored", Lang::Ko), "채점됨");
        assert_eq!(word("verdict", "trap", Lang::En), "trap");
        assert_eq!(word("verdict", "unheard_of", Lang::Ko), "unheard_of");
    }
}
