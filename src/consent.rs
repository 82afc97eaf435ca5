//! Consent, under Korea's PIPA and the GDPR: three separate consents, all
//! off by default, each given against a versioned text that is shown in full
//! and logged with its version and time. Withdrawing is one click and takes
//! effect at once (search reads the consents in force on every query).
//! A consent counts only for the text's current version: when a text
//! changes, the person is asked again. People under 14 (by birth year), and
//! people whose age is unknown (no birth year, no 14-or-older
//! confirmation), cannot be discoverable.

use chrono::Datelike;

/// Below this age (in whole years, by birth year) nobody is discoverable.
pub const MIN_DISCOVERABLE_AGE: i64 = 14;

/// One consent a person can give.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Consent {
    /// Stable key: `public_profile`, `recruiters` or `abroad`.
    pub kind: &'static str,
    /// The version of the text; a changed text gets a new version and must be
    /// agreed to again.
    pub version: &'static str,
    /// The text in English.
    pub en: &'static str,
    /// The text in Korean.
    pub ko: &'static str,
}

impl Consent {
    /// The text in `lang` (`en` or `ko`).
    pub fn text(&self, lang: &str) -> &'static str {
        if lang == "ko" { self.ko } else { self.en }
    }
}

/// Every consent, in the order they are shown.
pub const CONSENTS: &[Consent] = &[
    Consent {
        kind: "public_profile",
        version: "2026-11-29",
        en: "Show my profile publicly: my country, city, affiliation, skills, links and bio appear on my profile page \
             next to my results, for anyone to see. Without it, only what the leaderboards already show (username, \
             display name, teams, ranks and scores) is public. You can withdraw at any time; the page changes at once.",
        ko: "내 프로필을 공개합니다: 국가, 도시, 소속, 기술, 링크, 소개가 내 성적과 함께 프로필 페이지에 누구에게나 \
             표시됩니다. 동의하지 않으면 리더보드에 이미 나오는 정보(사용자 이름, 표시 이름, 팀, 순위, 점수)만 \
             공개됩니다. 언제든지 철회할 수 있으며 즉시 반영됩니다.",
    },
    Consent {
        kind: "recruiters",
        version: "2026-11-29",
        en: "Let recruiters find me (provision of personal information to a third party). Who receives it: recruiters \
             approved on this platform and the organisations they name. What: my display name, country, city, \
             affiliation, skills, links, bio, whether I am open to opportunities, and my results, ranks, medals and \
             rating. Purpose: to consider me for jobs and to contact me through the platform (my email is revealed only \
             if I accept a contact request). Retention: recruiters may keep what they saved for at most one year, or \
             until I withdraw. Refusing has no effect on competing. You can withdraw at any time; you leave search at \
             once.",
        ko: "채용 담당자가 나를 찾을 수 있게 합니다 (개인정보 제3자 제공). 제공받는 자: 이 플랫폼에서 승인된 채용 \
             담당자와 그들이 밝힌 기관. 제공 항목: 표시 이름, 국가, 도시, 소속, 기술, 링크, 소개, 구직 의사, 성적·순위·\
             메달·레이팅. 목적: 채용 검토 및 플랫폼을 통한 연락 (이메일은 내가 연락 요청을 수락할 때만 공개). 보유 기간: \
             최대 1년 또는 동의 철회 시까지. 동의하지 않아도 대회 참가에는 아무 영향이 없습니다. 언제든지 철회할 수 \
             있으며 즉시 검색에서 제외됩니다.",
    },
    Consent {
        kind: "abroad",
        version: "2026-11-29",
        en: "Also let recruiters outside my country find me (cross-border provision). The same information as above \
             goes to recruiters whose organisation is in another country, whose data protection laws may differ from \
             mine. Without this, only recruiters in my own country see me. Refusing has no effect on competing. You \
             can withdraw at any time.",
        ko: "내 국가 밖의 채용 담당자도 나를 찾을 수 있게 합니다 (국외 제공). 위와 같은 정보가 다른 나라에 있는 기관의 \
             채용 담당자에게 제공되며, 그 나라의 개인정보 보호 법은 다를 수 있습니다. 동의하지 않으면 같은 국가의 \
             채용 담당자에게만 보입니다. 동의하지 않아도 대회 참가에는 아무 영향이 없습니다. 언제든지 철회할 수 있습니다.",
    },
];

/// The consent named `kind`.
pub fn by_kind(kind: &str) -> Option<&'static Consent> {
    CONSENTS.iter().find(|c| c.kind == kind)
}

/// Whether a consent given to `version` of `kind`'s text is in force: only
/// the current text counts; a consent to an older one is asked for again.
pub fn in_force(kind: &str, version: &str) -> bool {
    by_kind(kind).is_some_and(|c| c.version == version)
}

/// The current version of `kind`'s text.
pub fn current_version(kind: &str) -> &'static str {
    by_kind(kind).map_or("", |c| c.version)
}

/// The problem with a birth year, if it is not from 1900 to `now`'s year.
pub fn birth_year_problem(birth_year: Option<i64>, now_ms: i64) -> Option<crate::error::Problem> {
    let year = chrono::DateTime::from_timestamp_millis(now_ms).map_or(2100, |d| i64::from(d.year()));
    birth_year
        .filter(|y| !(1900..=year).contains(y))
        .map(|_| crate::error::Problem::new("", "birth_year", crate::msg!("birth_year_invalid", year = year)))
}

/// Whether someone born in `birth_year` is too young to be discoverable now
/// (counted by year, erring on the side of too young).
pub fn too_young(birth_year: Option<i64>, now_ms: i64) -> bool {
    let year = chrono::DateTime::from_timestamp_millis(now_ms).map_or(1970, |d| i64::from(d.year()));
    birth_year.is_some_and(|b| year - b <= MIN_DISCOVERABLE_AGE)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_consent_has_both_texts_and_a_version() {
        for c in CONSENTS {
            assert!(!c.en.is_empty() && !c.ko.is_empty() && !c.version.is_empty(), "{}", c.kind);
        }
        assert!(by_kind("recruiters").is_some() && by_kind("nope").is_none());
    }

    #[test]
    fn under_fourteens_are_too_young_by_birth_year() {
        let now = chrono::DateTime::parse_from_rfc3339("2026-11-29T00:00:00Z").unwrap().timestamp_millis();
        assert!(too_young(Some(2013), now), "13 this year");
        assert!(too_young(Some(2012), now), "14 this year may not have had the birthday yet");
        assert!(!too_young(Some(2011), now));
        assert!(!too_young(None, now));
    }
}
