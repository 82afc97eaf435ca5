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
    /// A catalog entry and its `{name}` arguments.
    Key(&'static str, Vec<(&'static str, String)>),
    /// Text that is not ours to translate (a parser's message, a name).
    Text(String),
}

/// `msg!("key", name = value, …)`: a catalog message with arguments.
#[macro_export]
macro_rules! msg {
    ($key:literal $(, $name:ident = $value:expr)* $(,)?) => {
        $crate::messages::Msg::Key($key, vec![$((stringify!($name), ($value).to_string())),*])
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

    /// The catalog key, if this is a catalog message.
    pub fn key(&self) -> Option<&'static str> {
        match self {
            Self::Key(k, _) => Some(k),
            Self::Text(_) => None,
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

/// The text of `key` in `lang`.
pub fn lookup(key: &str, lang: Lang) -> Option<&'static str> {
    CATALOG.iter().find(|(k, _, _)| *k == key).map(|(_, en, ko)| if lang == Lang::Ko { *ko } else { *en })
}

/// Fills `{name}` from `args`; an argument that is itself a catalog key
/// prefixed `@` (e.g. a thing's name) is rendered in `lang` too.
fn fill(template: &str, args: &[(&'static str, String)], lang: Lang) -> String {
    let mut out = template.to_owned();
    for (name, value) in args {
        let value = match value.strip_prefix('@') {
            Some(key) => lookup(key, lang).map(str::to_owned).unwrap_or_else(|| key.to_owned()),
            None => value.clone(),
        };
        out = out.replace(&format!("{{{name}}}"), &value);
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
    ("status.cancelled", "cancelled", "취소됨"),
    ("verdict.ok", "ok", "정상"),
    ("verdict.out_of_fuel", "out of fuel", "연료 소진"),
    ("verdict.timeout", "timeout", "시간 초과"),
    ("verdict.memory_limit", "memory limit", "메모리 한도 초과"),
    ("verdict.trap", "trap", "트랩"),
    ("verdict.invalid_output", "invalid output", "잘못된 출력"),
    ("verdict.crashed", "crashed", "평가기 중단"),
    ("verdict.invalid_module", "invalid module", "잘못된 모듈"),
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
    fn every_key_the_code_uses_is_in_the_catalog() {
        let mut missing = Vec::new();
        let mut stack = vec![std::path::PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/src"))];
        while let Some(dir) = stack.pop() {
            for entry in std::fs::read_dir(&dir).unwrap() {
                let path = entry.unwrap().path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                if path.extension().is_none_or(|e| e != "rs") {
                    continue;
                }
                let text = std::fs::read_to_string(&path).unwrap();
                let code: String =
                    text.lines().filter(|l| !l.trim_start().starts_with("//")).collect::<Vec<_>>().join("\n");
                for part in code.split("msg!(\"").skip(1) {
                    let key = part.split('"').next().unwrap();
                    if lookup(key, Lang::En).is_none() {
                        missing.push(format!("{}: {key}", path.display()));
                    }
                }
            }
        }
        assert!(missing.is_empty(), "keys missing from the catalog: {missing:?}");
    }

    #[test]
    fn messages_render_in_either_language_with_their_arguments() {
        let m = crate::msg!("not_found", thing = "@thing.team");
        assert_eq!(m.render(Lang::En), "team not found");
        assert_eq!(m.render(Lang::Ko), "팀을(를) 찾을 수 없습니다");
        assert_eq!(Msg::from("plain").render(Lang::Ko), "plain");
    }
}
