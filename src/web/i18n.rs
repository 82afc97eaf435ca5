//! English and Korean for every page: the language comes from the
//! `gaic_lang` cookie (set by the switch), else `Accept-Language`, else
//! English. Messages are a flat catalog handed to templates as `t`.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, header};

/// A supported language.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    /// English.
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

    /// The language a request asks for.
    pub fn pick(headers: &HeaderMap) -> Self {
        let cookie = crate::auth::cookie(headers, "gaic_lang").and_then(|v| Self::from_code(&v));
        if let Some(l) = cookie {
            return l;
        }
        let accept = headers.get(header::ACCEPT_LANGUAGE).and_then(|v| v.to_str().ok()).unwrap_or("");
        // The first supported language in the header's order (q-values are
        // written in preference order by browsers).
        accept
            .split(',')
            .filter_map(|part| part.split(';').next())
            .map(|tag| tag.trim().to_ascii_lowercase())
            .find_map(|tag| Self::from_code(tag.split('-').next().unwrap_or("")))
            .unwrap_or(Self::En)
    }
}

const MESSAGES: &[(&str, &str, &str)] = &[
    ("site_name", "Global AI Challenge", "글로벌 AI 챌린지"),
    (
        "tagline",
        "Open competitions with hidden test data, sandboxed models and honest leaderboards.",
        "숨겨진 테스트 데이터, 샌드박스 모델, 정직한 리더보드로 진행되는 공개 경진대회.",
    ),
    ("nav_challenges", "Challenges", "챌린지"),
    ("nav_login", "Log in", "로그인"),
    ("nav_signup", "Sign up", "회원가입"),
    ("nav_logout", "Log out", "로그아웃"),
    ("open", "Open", "진행 중"),
    ("upcoming", "Upcoming", "예정"),
    ("closed", "Closed", "종료"),
    ("none", "None yet.", "아직 없습니다."),
    ("closes", "Closes", "마감"),
    ("opens", "Opens", "시작"),
    ("entrants", "Teams", "참가 팀"),
    ("metric", "Metric", "평가 지표"),
    ("tab_overview", "Overview", "개요"),
    ("tab_data", "Data", "데이터"),
    ("tab_rules", "Rules", "규칙"),
    ("tab_leaderboard", "Leaderboard", "리더보드"),
    ("higher_better", "higher is better", "높을수록 좋음"),
    ("lower_better", "lower is better", "낮을수록 좋음"),
    ("file", "File", "파일"),
    ("size", "Size", "크기"),
    ("daily_cap", "Submissions per team per day (UTC)", "팀당 하루 제출 횟수 (UTC)"),
    ("final_selections", "Final selections", "최종 선택 수"),
    ("team_size_cap", "Largest team", "최대 팀 인원"),
    ("public_share", "Share of test rows on the public board", "공개 리더보드에 쓰이는 테스트 비율"),
    ("merger_deadline", "Team merger deadline", "팀 병합 마감"),
    ("budget", "Model budget", "모델 예산"),
    ("rank", "Rank", "순위"),
    ("team", "Team", "팀"),
    ("score", "Score", "점수"),
    ("entries", "Entries", "제출 수"),
    ("public_board", "Public leaderboard", "공개 리더보드"),
    ("private_board", "Private leaderboard", "비공개 리더보드"),
    ("baseline", "baseline", "기준선"),
    ("username", "Username", "사용자 이름"),
    ("password", "Password", "비밀번호"),
    ("email", "Email", "이메일"),
    ("country", "Country (ISO code, e.g. KR)", "국가 (ISO 코드, 예: KR)"),
    ("display_name", "Display name", "표시 이름"),
    ("submit_login", "Log in", "로그인"),
    ("submit_signup", "Create account", "계정 만들기"),
    ("login_failed", "Wrong username or password.", "사용자 이름 또는 비밀번호가 올바르지 않습니다."),
    ("welcome", "Signed in as", "로그인:"),
    ("language", "Language", "언어"),
    ("not_found", "Not found.", "찾을 수 없습니다."),
    ("times_utc", "All times are UTC.", "모든 시간은 UTC 기준입니다."),
    ("tab_submit", "Submit", "제출"),
    ("tab_submissions", "My submissions", "내 제출"),
    ("remaining", "Submissions left today", "오늘 남은 제출 횟수"),
    ("resets", "The count resets at", "횟수 초기화 시각"),
    ("file_label", "Predictions CSV or .wasm model", "예측 CSV 또는 .wasm 모델"),
    ("message_label", "Note (optional)", "메모 (선택)"),
    ("submit_button", "Submit", "제출하기"),
    ("login_to_submit", "Log in to submit.", "제출하려면 로그인하세요."),
    ("status", "Status", "상태"),
    ("submitted", "Submitted", "제출 시각"),
    ("verdict", "Verdict", "판정"),
    ("fuel", "Fuel", "연료"),
    ("final", "Final", "최종"),
    ("select", "Select", "선택"),
    ("nav_tokens", "API tokens", "API 토큰"),
    ("tokens_title", "API tokens", "API 토큰"),
    (
        "tokens_help",
        "Tokens let the gaic command line and your scripts act as you. Revoke any you no longer use.",
        "토큰으로 gaic 명령줄 도구와 스크립트가 여러분을 대신합니다. 쓰지 않는 토큰은 폐기하세요.",
    ),
    (
        "token_once",
        "Copy this token now: it will not be shown again.",
        "지금 이 토큰을 복사하세요. 다시 표시되지 않습니다.",
    ),
    ("token_name", "Name", "이름"),
    ("token_create", "Create a token", "토큰 만들기"),
    ("created", "Created", "생성"),
    ("last_used", "Last used", "마지막 사용"),
    ("revoke", "Revoke", "폐기"),
    ("revoked", "Revoked", "폐기됨"),
    ("unselect", "Unselect", "선택 해제"),
    ("problems", "The submission was not stored:", "제출이 저장되지 않았습니다:"),
];

/// The messages of `lang`, for templates.
pub fn catalog(lang: Lang) -> BTreeMap<&'static str, &'static str> {
    MESSAGES.iter().map(|(k, en, ko)| (*k, if lang == Lang::Ko { *ko } else { *en })).collect()
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    #[test]
    fn the_cookie_wins_then_accept_language_then_english() {
        let mut h = HeaderMap::new();
        assert_eq!(Lang::pick(&h), Lang::En);
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("ko-KR,ko;q=0.9,en;q=0.8"));
        assert_eq!(Lang::pick(&h), Lang::Ko);
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; gaic_lang=en"));
        assert_eq!(Lang::pick(&h), Lang::En);
    }

    #[test]
    fn every_message_has_both_languages() {
        for (k, en, ko) in MESSAGES {
            assert!(!en.is_empty() && !ko.is_empty(), "{k}");
        }
    }
}
