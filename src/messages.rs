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
}

/// `msg!("key", name = value, …)`: a catalog message with arguments.
#[macro_export]
macro_rules! msg {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::messages::Msg::Key($key, vec![$((stringify!($name), $crate::messages::Msg::Text(($value).to_string()))),*])
    };
}

impl Msg {
    /// The text in `lang`, arguments filled in. An unknown key (a bug the
    /// tests catch) renders as the key itself rather than failing.
    pub fn render(&self, lang: Lang) -> String {
        match self {
            Self::Text(t) => t.clone(),
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
        "too many failed logins for {username}; try again in {wait} s",
        "{username}의 로그인 실패가 너무 많습니다. {wait}초 뒤에 다시 시도하세요",
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
        }
        assert!(missing.is_empty(), "keys missing from the catalog: {missing:?}");
    }

    #[test]
    fn messages_render_in_either_language_with_their_arguments() {
        let m = Msg::Key("not_found", vec![("thing", Msg::Key("thing.team", Vec::new()))]);
        assert_eq!(m.render(Lang::En), "team not found");
        assert_eq!(m.render(Lang::Ko), "팀을(를) 찾을 수 없습니다");
        assert_eq!(Msg::from("plain").render(Lang::Ko), "plain");
        // Text arguments are never looked up, whatever they look like.
        let m = crate::msg!("team_disqualified", reason = "thing.team");
        assert_eq!(m.render(Lang::Ko), "팀이 이 과제에서 실격되었습니다: thing.team");
        assert_eq!(word("status", "scored", Lang::Ko), "채점됨");
        assert_eq!(word("verdict", "trap", Lang::En), "trap");
        assert_eq!(word("verdict", "unheard_of", Lang::Ko), "unheard_of");
    }
}
