//! English and Korean for every page: the language comes from the
//! `gaic_lang` cookie (set by the switch), else `Accept-Language`, else
//! English. Messages are a flat catalog handed to templates as `t`.

use std::collections::BTreeMap;

use axum::http::{HeaderMap, header};

pub use crate::messages::Lang;

/// The language a request asks for.
pub fn pick(headers: &HeaderMap) -> Lang {
    let cookie = crate::http::cookie(headers, "gaic_lang").and_then(|v| Lang::from_code(&v));
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
        .find_map(|tag| Lang::from_code(tag.split('-').next().unwrap_or("")))
        .unwrap_or(Lang::En)
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
    (
        "times_utc",
        "Times are in UTC, with your own time beside them where your browser shows it.",
        "시간은 한국 표준시(KST)와 UTC로 표시합니다.",
    ),
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
    ("nav_tokens", "Security", "보안"),
    ("tokens_title", "Sign-in security: API tokens, browsers, password", "로그인 보안: API 토큰, 브라우저, 비밀번호"),
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
    ("audit_log", "Audit log", "감사 기록"),
    ("audit_action", "Action", "동작"),
    ("audit_all", "all", "전체"),
    ("audit_actor", "By", "수행자"),
    ("audit_person", "About", "대상"),
    ("audit_detail", "Detail", "세부 정보"),
    ("audit_entries", "entries", "건"),
    ("access_profile", "saw your profile", "프로필을 봄"),
    ("access_export", "exported your details", "정보를 내보냄"),
    ("access_search", "found you in a search", "검색에서 찾음"),
    ("access_contact", "asked to contact you", "연락을 요청함"),
    ("token_scope", "Access", "권한"),
    ("token_scope_write", "read and write", "읽기와 쓰기"),
    ("token_scope_read", "read only", "읽기 전용"),
    ("token_expiry_days", "Expires after (days, 1–365; empty: never)", "만료 (일, 1–365; 비우면 만료 없음)"),
    ("token_expires", "Expires", "만료"),
    ("sessions_title", "Signed-in browsers", "로그인된 브라우저"),
    ("session_browser", "Browser", "브라우저"),
    ("session_this", "this browser", "이 브라우저"),
    ("session_end", "Sign out", "로그아웃"),
    (
        "log_out_everywhere",
        "Log out everywhere (every browser and every API token)",
        "모든 곳에서 로그아웃 (모든 브라우저와 API 토큰)",
    ),
    (
        "log_out_everywhere_confirm",
        "End every session and revoke every API token?",
        "모든 세션을 끝내고 모든 API 토큰을 폐기할까요?",
    ),
    ("password_change_title", "Password", "비밀번호"),
    ("password_current", "Current password", "현재 비밀번호"),
    ("password_new", "New password (at least 10 characters)", "새 비밀번호 (10자 이상)"),
    ("password_change", "Change the password", "비밀번호 바꾸기"),
    (
        "password_changed",
        "Password changed; {n} other browser sessions were signed out.",
        "비밀번호를 바꿨습니다. 다른 브라우저 세션 {n}개가 로그아웃되었습니다.",
    ),
    ("created", "Created", "생성"),
    ("last_used", "Last used", "마지막 사용"),
    ("revoke", "Revoke", "폐기"),
    ("revoked", "Revoked", "폐기됨"),
    ("unselect", "Unselect", "선택 해제"),
    ("problems", "The submission was not stored:", "제출이 저장되지 않았습니다:"),
    ("accept", "Accept", "수락"),
    ("accept_rules", "I have read the rules and accept them.", "규칙을 읽었으며 이에 동의합니다."),
    ("accept_rules_needed", "Tick the box to accept the rules before joining.", "참가하려면 규칙 동의란에 체크하세요."),
    ("add_baseline", "Add the baseline", "기준선 추가"),
    ("alive", "Alive", "정상"),
    ("all_submissions", "All submissions", "전체 제출"),
    ("apply_rescore", "Apply these changes", "이 변경 적용"),
    ("attempts", "Attempts", "시도"),
    ("back", "Back", "돌아가기"),
    (
        "not_translated",
        "Part of this task is not translated into your language yet; it is shown in English.",
        "이 과제의 일부는 아직 한국어로 번역되지 않아 원문(영어)으로 보여 드립니다.",
    ),
    ("in_english", "in English", "영어"),
    ("state_open", "Open: submissions accepted", "진행 중: 제출을 받고 있습니다"),
    ("state_upcoming", "Upcoming", "예정"),
    ("state_closed", "Closed: final ranks out", "마감: 최종 순위 발표"),
    ("time_left", "Time left", "남은 시간"),
    ("opens_in", "Opens in", "시작까지"),
    ("unit_days", " days", "일"),
    ("unit_hours", " h", "시간"),
    ("unit_minutes", " min", "분"),
    ("submissions_24h", "Submissions (24 h)", "제출 (24시간)"),
    ("new_here", "New here?", "처음이신가요?"),
    ("how_to_compete", "How to compete", "참가 방법"),
    ("build_a_model", "Build a model", "모델 만들기"),
    ("your_time", "your time", "내 시간"),
    ("gpu_task", "This task's models run only on GPU workers.", "이 과제의 모델은 GPU 워커에서만 실행됩니다."),
    ("gpu_workers", "GPU workers online", "연결된 GPU 워커"),
    ("gpu_waiting", "jobs wait until one connects", "GPU 워커가 연결될 때까지 작업이 기다립니다"),
    ("guide_abi", "The guest ABI (the contract)", "게스트 ABI (약속)"),
    ("guide_rust_example", "Example: the digits MLP in Rust", "예제: Rust로 만든 digits MLP"),
    ("guide_c_example", "Example: linear regression in C, through host ops", "예제: 호스트 연산을 쓰는 C 선형 회귀"),
    (
        "guide_wat_example",
        "Example: linear regression in the WebAssembly text format",
        "예제: WebAssembly 텍스트 형식의 선형 회귀",
    ),
    ("download_sdk", "Download the guest SDK and the example models", "게스트 SDK와 예제 모델 내려받기"),
    ("too_many_requests", "Too many requests", "요청이 너무 많습니다"),
    ("request_refused", "Request refused", "요청이 거부되었습니다"),
    (
        "try_again_in",
        "Too many tries from your address in a short time. Try again in {wait} seconds.",
        "짧은 시간에 같은 주소에서 너무 많이 시도했습니다. {wait}초 뒤에 다시 시도하세요.",
    ),
    ("bad_datetime", "Use the form YYYY-MM-DDTHH:MM (UTC).", "YYYY-MM-DDTHH:MM (UTC) 형식으로 입력하세요."),
    ("baseline_added", "Baseline added", "기준선을 추가했습니다"),
    ("baseline_name", "Baseline name", "기준선 이름"),
    ("baselines", "Baselines", "기준선"),
    ("board", "Board", "리더보드"),
    ("bundle_file", "Task bundle (.tar.gz)", "과제 번들 (.tar.gz)"),
    (
        "bundle_help",
        "A .tar.gz of a folder with task.toml, README.md, public/ and hidden/ (see tasks/README.md). The task is created as a draft; every problem in the bundle is listed if it is refused.",
        "task.toml, README.md, public/, hidden/ 이 든 폴더의 .tar.gz 파일입니다 (tasks/README.md 참고). 과제는 초안으로 만들어지며, 거부되면 번들의 모든 문제가 나열됩니다.",
    ),
    ("by", "By", "제출자"),
    ("chart_mine", "My public scores over time", "시간에 따른 내 공개 점수"),
    ("chart_over_time", "Best public score of the top teams over time", "상위 팀의 시간별 최고 공개 점수"),
    ("chart_points", "scored submissions", "채점된 제출"),
    ("choose_bundle", "Choose a bundle file to upload.", "업로드할 번들 파일을 선택하세요."),
    (
        "close_confirm",
        "Close the task now? Later submissions will not be ranked.",
        "지금 과제를 마감할까요? 이후 제출은 순위에 반영되지 않습니다.",
    ),
    ("close_now", "Close now and reveal the private board", "지금 마감하고 비공개 리더보드 공개"),
    ("create_team", "Create the team", "팀 만들기"),
    ("current_jobs", "Running submissions", "실행 중인 제출"),
    ("decline", "Decline", "거절"),
    ("device", "Device", "장치"),
    ("disqualified", "Disqualified", "실격"),
    ("disqualify", "Disqualify", "실격 처리"),
    ("draft", "Draft", "초안"),
    ("failed", "failed", "실패"),
    ("finished_hour", "Finished in the last hour", "최근 1시간 완료"),
    ("grant", "Grant", "부여"),
    ("hidden", "Hidden", "숨김"),
    ("hide", "Hide", "숨기기"),
    ("in_good_standing", "In good standing", "정상"),
    ("invite", "Invite", "초대"),
    ("invite_from", "You are invited to join", "다음 팀에서 초대했습니다:"),
    ("invite_user", "Invite by username", "사용자 이름으로 초대"),
    ("join", "Join the challenge", "챌린지 참가"),
    ("joined", "You have joined this challenge.", "이 챌린지에 참가했습니다."),
    ("joined_at", "Joined", "참가 시각"),
    ("kind", "Kind", "종류"),
    ("last", "Last submission", "마지막 제출"),
    ("last_heartbeat", "Last heartbeat", "마지막 응답"),
    ("late", "late", "마감 후"),
    ("leave_team", "Leave the team", "팀 나가기"),
    ("lost", "Lost", "연결 끊김"),
    ("manage", "Manage", "관리"),
    ("member", "Member", "팀원"),
    ("member_since", "Member since", "가입일"),
    ("members", "Members", "팀원"),
    ("memory", "Memory", "메모리"),
    (
        "merge_help",
        "Accepting merges your current team into theirs, with its submissions, if the rules allow.",
        "수락하면 규칙이 허용하는 경우 현재 팀이 제출 기록과 함께 상대 팀에 병합됩니다.",
    ),
    ("moved_down", "down", "하락"),
    ("moved_none", "no change", "변동 없음"),
    ("moved_up", "up", "상승"),
    ("movement", "Move", "변동"),
    ("my_tasks", "My tasks", "내 과제"),
    ("nav_admin", "Admin", "관리자"),
    ("nav_organize", "Organize", "과제 운영"),
    ("nav_profile", "My profile", "내 프로필"),
    ("new_labels", "Corrected labels (optional CSV with the same ids)", "수정된 정답 (같은 id의 CSV, 선택)"),
    ("new_task", "Create a task", "과제 만들기"),
    ("next", "Next", "다음"),
    (
        "no_team",
        "You have no team in this challenge yet. Create one, or submit and a team of one is made for you.",
        "이 챌린지에 아직 팀이 없습니다. 팀을 만들거나, 제출하면 1인 팀이 자동으로 만들어집니다.",
    ),
    ("page", "Page", "페이지"),
    ("pages", "Pages", "페이지"),
    ("pending_invites", "Invites sent", "보낸 초대"),
    ("predictions_csv", "Predictions CSV", "예측 CSV"),
    ("prev", "Previous", "이전"),
    ("preview", "Preview the changes", "변경 미리보기"),
    (
        "private_hidden",
        "The private leaderboard is revealed when the challenge closes at",
        "비공개 리더보드는 챌린지 마감 시 공개됩니다:",
    ),
    ("publish", "Published (visible to everyone)", "게시 (모두에게 공개)"),
    ("published", "Published", "게시됨"),
    ("queue", "Queue", "대기열"),
    ("queued", "Queued", "대기"),
    ("reason", "Reason (shown to the team)", "사유 (팀에 표시됨)"),
    ("reinstate", "Reinstate", "복권"),
    ("rename", "Rename", "이름 변경"),
    ("rescore", "Rescore", "재채점"),
    ("similar_predictions", "Similar predictions", "유사한 예측"),
    (
        "schedule_final",
        "The challenge has closed: its schedule is final. An admin may re-open it with a new close and a reason; every final selection is then voided and the private board hidden again.",
        "챌린지가 종료되어 일정을 바꿀 수 없습니다. 관리자는 새 종료 시각과 사유를 적어 다시 열 수 있으며, 이때 모든 최종 선택이 취소되고 비공개 리더보드가 다시 숨겨집니다.",
    ),
    ("reopen", "Re-open", "다시 열기"),
    ("interval", "95% interval", "95% 구간"),
    ("statistical_tie", "Statistical tie", "통계적 동률"),
    ("tied_with", "tied with", "동률:"),
    (
        "ties_help",
        "Intervals and ties come from 1,000 bootstrap resamples of the test rows, the same for every team: a team is tied with the one above when it is not better or worse in at least 97.5% of them. Tied teams keep their ranks; the difference between them may be luck.",
        "구간과 동률은 모든 팀에 같은 테스트 행 부트스트랩 재표본 1,000개로 계산합니다. 바로 위 팀과의 우열이 재표본의 97.5% 이상에서 유지되지 않으면 동률로 표시합니다. 순위는 그대로이며, 그 차이는 운일 수 있습니다.",
    ),
    (
        "similar_help",
        "Pairs of teams whose best submissions make the same mistakes far more often than their scores explain, and model files submitted by more than one team. For review only: nothing happens automatically.",
        "최고 제출물이 점수로 설명되는 것보다 훨씬 자주 같은 오류를 내는 팀 쌍과, 여러 팀이 제출한 같은 모델 파일입니다. 검토용일 뿐 자동으로 처리되지 않습니다.",
    ),
    (
        "review_sample",
        "Compared on {compared} of {rows} hidden rows, evenly spaced, the same rows for every team.",
        "과제의 숨겨진 행 {rows}개 중 고르게 떨어진 {compared}개 행으로 비교했습니다. 모든 팀에 같은 행입니다.",
    ),
    ("same_rows", "Same predictions", "같은 예측"),
    ("same_mistakes", "Same where not both right", "둘 다 맞지 않은 행 중 같은 예측"),
    ("shared_models", "Model files shared across teams", "여러 팀이 제출한 모델 파일"),
    ("run_review", "Check for near-duplicates", "유사 제출 검사"),
    ("rescore_applied", "Rescored", "재채점 완료"),
    (
        "rescore_help",
        "Rescores every scored submission, with corrected labels if you upload them. You see every team's rank change first; nothing changes until you apply.",
        "모든 채점된 제출을 (올린 경우 수정된 정답으로) 다시 채점합니다. 먼저 각 팀의 순위 변화를 보여 주며, 적용하기 전에는 아무것도 바뀌지 않습니다.",
    ),
    ("rescore_preview", "Preview", "미리보기"),
    ("results", "Results", "성적"),
    ("roles", "Roles", "역할"),
    (
        "rules_text",
        "Joining means accepting these rules: one account per person, no private sharing of code or data outside your team, and no probing of the hidden test data.",
        "참가는 다음 규칙에 동의함을 뜻합니다: 1인 1계정, 팀 밖으로 코드나 데이터를 비공개 공유하지 않기, 숨겨진 테스트 데이터를 탐색하지 않기.",
    ),
    ("running", "Running", "실행 중"),
    ("same_labels_again", "Choose the same labels file again to apply", "적용하려면 같은 정답 파일을 다시 선택하세요"),
    ("save", "Save", "저장"),
    ("schedule", "Schedule and publication", "일정 및 게시"),
    ("search", "Search", "검색"),
    ("search_users", "Username or name starts with", "사용자 이름 또는 이름 시작"),
    ("state", "State", "상태"),
    ("submissions_rescored", "submissions rescored", "개 제출 재채점"),
    (
        "submit_joins",
        "Submitting joins the challenge and accepts its rules; read them first:",
        "제출하면 챌린지에 참가하고 규칙에 동의하게 됩니다. 먼저 읽어 보세요:",
    ),
    ("tab_team", "Team", "팀"),
    ("tabs", "Sections", "섹션"),
    ("task", "Challenge", "챌린지"),
    ("team_name", "Team name", "팀 이름"),
    ("teams", "Teams", "팀"),
    (
        "teams_fixed",
        "Teams are fixed now (merger deadline or close passed).",
        "이제 팀을 바꿀 수 없습니다 (병합 마감 또는 챌린지 종료).",
    ),
    ("time", "Time", "시간"),
    ("unhide", "Show again", "다시 표시"),
    ("upload_bundle", "Upload and check", "업로드 및 검사"),
    ("users", "Users", "사용자"),
    ("with_new_labels", "with new labels", "새 정답 사용"),
    ("worker", "Worker", "워커"),
    ("workers", "Workers", "워커"),
    (
        "metric_accuracy",
        "Accuracy: the share of rows whose predicted class is right.",
        "정확도: 예측한 클래스가 맞은 행의 비율.",
    ),
    (
        "metric_balanced_accuracy",
        "Balanced accuracy: the mean of per-class recall, so rare classes count as much as common ones.",
        "균형 정확도: 클래스별 재현율의 평균으로, 드문 클래스도 흔한 클래스만큼 반영됩니다.",
    ),
    (
        "metric_macro_f1",
        "Macro F1: the mean over classes of the F1 score (harmonic mean of precision and recall).",
        "매크로 F1: 클래스별 F1 점수(정밀도와 재현율의 조화 평균)의 평균.",
    ),
    (
        "metric_roc_auc",
        "ROC AUC: the chance that a random positive row gets a higher score than a random negative one (ties count half).",
        "ROC AUC: 무작위 양성 행이 무작위 음성 행보다 높은 점수를 받을 확률 (동점은 절반).",
    ),
    (
        "metric_log_loss",
        "Log loss: the mean negative log of the probability given to the true class (probabilities clipped to 1e-15).",
        "로그 손실: 정답 클래스에 준 확률의 음의 로그 평균 (확률은 1e-15로 제한).",
    ),
    ("metric_rmse", "RMSE: the square root of the mean squared error.", "RMSE: 평균 제곱 오차의 제곱근."),
    ("metric_mae", "MAE: the mean absolute error.", "MAE: 평균 절대 오차."),
    (
        "metric_r2",
        "R²: one minus the residual sum of squares over the total sum of squares.",
        "R²: 1에서 잔차 제곱합을 전체 제곱합으로 나눈 값을 뺀 값.",
    ),
    (
        "metric_map_at_k",
        "MAP@K: the mean over rows of the average precision of the first K predictions.",
        "MAP@K: 상위 K개 예측의 평균 정밀도를 행에 대해 평균한 값.",
    ),
    (
        "metric_mean_iou",
        "Mean IoU: the mean over classes of intersection over union.",
        "평균 IoU: 클래스별 교집합/합집합 비율의 평균.",
    ),
    (
        "metric_spearman",
        "Spearman: the rank correlation of predictions and truth.",
        "스피어만: 예측과 정답의 순위 상관계수.",
    ),
    ("nav_privacy", "Profile & privacy", "프로필 및 개인정보"),
    ("nav_talent", "Talent", "인재 찾기"),
    ("saved", "Saved.", "저장했습니다."),
    ("fix_fields", "Some fields need fixing; nothing was saved.", "고쳐야 할 항목이 있어 저장하지 않았습니다."),
    ("profile", "Profile", "프로필"),
    (
        "profile_help",
        "These details are shown only under the consents below. Your results on the leaderboards are public either way.",
        "이 정보는 아래 동의에 따라서만 표시됩니다. 리더보드의 성적은 어느 경우든 공개됩니다.",
    ),
    ("city", "City", "도시"),
    ("affiliation", "Affiliation", "소속"),
    ("skills", "Skills and domains (comma-separated)", "기술 및 분야 (쉼표로 구분)"),
    (
        "birth_year",
        "Year of birth (optional; under 14 cannot be found by recruiters)",
        "출생 연도 (선택, 14세 미만은 채용 담당자 검색에 노출되지 않음)",
    ),
    ("links", "Links (one per line)", "링크 (한 줄에 하나)"),
    ("bio", "About you", "자기소개"),
    ("open_to_work", "Open to opportunities", "구직 중"),
    ("age_14_or_older", "I am 14 or older", "만 14세 이상입니다"),
    ("birth_year_instead", "Or your birth year (optional)", "또는 출생 연도 (선택)"),
    (
        "consent_renew",
        "This text changed since you agreed to an earlier version; that agreement no longer counts. Tick the box to agree to this version.",
        "동의하신 이후 이 문구가 바뀌어 이전 동의는 더 이상 효력이 없습니다. 이 버전에 동의하려면 상자를 선택하세요.",
    ),
    ("consents", "Consents", "동의"),
    (
        "consents_help",
        "Each consent is separate and off until you tick it. Untick to withdraw: it takes effect at once. Refusing has no effect on competing.",
        "각 동의는 따로이며 체크하기 전까지는 꺼져 있습니다. 체크를 해제하면 즉시 철회됩니다. 동의하지 않아도 대회 참가에는 영향이 없습니다.",
    ),
    ("text_version", "Text version", "문구 버전"),
    ("given_at", "given", "동의 시각"),
    ("consent_history", "Consent history", "동의 기록"),
    ("consent_public_profile", "Public profile", "프로필 공개"),
    ("consent_recruiters", "Discoverable by recruiters", "채용 담당자 검색 허용"),
    ("consent_abroad", "Also by recruiters abroad", "해외 채용 담당자에게도 허용"),
    ("consent_granted", "granted", "동의"),
    ("consent_withdrawn", "withdrawn", "철회"),
    ("bad_year", "Enter a year such as 1998.", "1998과 같이 연도를 입력하세요."),
    (
        "ratings_inform",
        "Ratings and ranks inform; people decide. Nobody is rejected automatically, and everyone here chose to be found.",
        "레이팅과 순위는 참고 자료일 뿐, 결정은 사람이 합니다. 자동으로 탈락시키지 않으며, 여기 있는 모든 사람은 스스로 검색되기를 선택했습니다.",
    ),
    ("final_boards", "Final leaderboards", "최종 리더보드"),
    ("people_search", "People search", "인재 검색"),
    (
        "people_help",
        "Only people who consented to be found by recruiters appear, and from other countries only those who also agreed to that.",
        "채용 담당자 검색에 동의한 사람만 나타나며, 다른 나라의 사람은 국외 제공에도 동의한 경우에만 나타납니다.",
    ),
    ("any", "Any", "전체"),
    ("min_percentile", "Best final percentile at least (0-100)", "최고 최종 백분위 이상 (0-100)"),
    ("bad_percentile", "A number from 0 to 100.", "0에서 100 사이의 숫자를 입력하세요."),
    ("open_only", "Open to opportunities only", "구직 중인 사람만"),
    ("people_found", "people found", "명 검색됨"),
    ("person_found", "person found", "명 검색됨"),
    ("person", "Person", "사람"),
    ("best_percentile", "Best percentile", "최고 백분위"),
    ("country_col", "Country", "국가"),
    ("skills_col", "Skills", "기술"),
    ("tier", "Tier", "등급"),
    ("rating", "Rating", "레이팅"),
    ("medals", "Medals", "메달"),
    ("points", "Points", "포인트"),
    ("recent_points", "Recent points (365 days)", "최근 포인트 (365일)"),
    ("rating_history", "Rating history", "레이팅 기록"),
    ("min_rating", "Rating at least", "레이팅 이상"),
    ("min_tier", "Tier at least", "등급 이상"),
    ("sort_by", "Sort by", "정렬"),
    ("tier_novice", "Novice", "입문"),
    ("tier_contributor", "Contributor", "기여자"),
    ("tier_expert", "Expert", "전문가"),
    ("tier_master", "Master", "마스터"),
    ("tier_grandmaster", "Grandmaster", "그랜드마스터"),
    ("medal_gold", "gold", "금"),
    ("medal_silver", "silver", "은"),
    ("medal_bronze", "bronze", "동"),
    (
        "ratings_explain",
        "The rating is Elo-MMR's conservative estimate μ − 2σ over rated challenges (every team member gets the team's rank); medals follow Kaggle's thresholds by team count; points decay over time. They inform; people decide.",
        "레이팅은 평가 대상 챌린지에 대한 Elo-MMR의 보수적 추정치 μ − 2σ입니다 (팀원 모두가 팀 순위를 받습니다). 메달은 팀 수에 따른 Kaggle 기준을 따르며, 포인트는 시간이 지나면 줄어듭니다. 참고 자료일 뿐, 결정은 사람이 합니다.",
    ),
    ("viewed_by", "Recruiters who saw your details", "내 정보를 본 채용 담당자"),
    ("recruiter", "Recruiter", "채용 담당자"),
    ("what", "What", "내용"),
    ("your_data", "Your data", "내 데이터"),
    ("download_data", "Download everything stored about you (JSON)", "저장된 내 정보 전체 내려받기 (JSON)"),
    (
        "delete_help",
        "Deleting your account erases your personal data at once; your results stay on the leaderboards as “deleted user”. This cannot be undone.",
        "계정을 삭제하면 개인정보가 즉시 지워지며, 성적은 리더보드에 “삭제된 사용자”로 남습니다. 되돌릴 수 없습니다.",
    ),
    ("delete_account", "Delete my account", "내 계정 삭제"),
    ("account_deleted", "Account deleted", "계정이 삭제되었습니다"),
    (
        "account_deleted_text",
        "Your personal data is erased and you are signed out. Your results remain on the leaderboards as “deleted user”.",
        "개인정보가 지워졌고 로그아웃되었습니다. 성적은 리더보드에 “삭제된 사용자”로 남습니다.",
    ),
    ("shortlists", "Shortlists and contact requests", "후보 목록 및 연락 요청"),
    ("new_shortlist", "New shortlist", "새 후보 목록"),
    ("create", "Create", "만들기"),
    ("export_csv", "Export CSV", "CSV 내보내기"),
    ("export_json", "Export JSON", "JSON 내보내기"),
    ("withdrew", "left out: they withdrew consent", "명은 동의를 철회해 제외됨"),
    ("note", "Private note", "비공개 메모"),
    ("contact_requests", "Contact requests", "연락 요청"),
    ("organisation", "Organisation", "기관"),
    ("recruiter_tools", "For recruiters", "채용 담당자용"),
    ("add_to_shortlist", "Add to shortlist", "후보 목록에 추가"),
    ("request_contact", "Request contact", "연락 요청하기"),
    (
        "contact_help",
        "Accepting shows your email to that recruiter only; declining tells them no. Either way, nothing else changes.",
        "수락하면 해당 채용 담당자에게만 이메일이 보이며, 거절하면 거절 사실만 전달됩니다. 그 밖에는 아무것도 바뀌지 않습니다.",
    ),
    ("nav_rankings", "Rankings", "랭킹"),
    ("recent_form", "Recent form (points, 365 days)", "최근 성적 (포인트, 365일)"),
    ("rated_tasks", "Rated challenges", "평가 챌린지"),
    ("domain", "Domain", "분야"),
    ("medal_at_least", "A medal of at least", "최소 메달"),
    ("active_months", "Active within months", "최근 활동 (개월)"),
    ("chart_you", "you", "나"),
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
        assert_eq!(pick(&h), Lang::En);
        h.insert(header::ACCEPT_LANGUAGE, HeaderValue::from_static("ko-KR,ko;q=0.9,en;q=0.8"));
        assert_eq!(pick(&h), Lang::Ko);
        h.insert(header::COOKIE, HeaderValue::from_static("a=b; gaic_lang=en"));
        assert_eq!(pick(&h), Lang::En);
    }

    #[test]
    fn every_message_a_page_uses_exists() {
        let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/web");
        let keys: std::collections::HashSet<&str> = MESSAGES.iter().map(|m| m.0).collect();
        let mut files: Vec<_> = std::fs::read_dir(dir.join("templates")).unwrap().map(|e| e.unwrap().path()).collect();
        files.extend(std::fs::read_dir(&dir).unwrap().map(|e| e.unwrap().path()).filter(|p| p.is_file()));
        for path in files {
            let text = std::fs::read_to_string(&path).unwrap();
            let is_rust = path.extension().is_some_and(|e| e == "rs");
            let marker = if is_rust { "page.t(\"" } else { "t." };
            for (at, _) in text.match_indices(marker) {
                let before = text[..at].chars().next_back().unwrap_or(' ');
                if !is_rust && (before.is_alphanumeric() || before == '_' || before == '.') {
                    continue;
                }
                let key: String = text[at + marker.len()..]
                    .chars()
                    .take_while(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == '_')
                    .collect();
                assert!(key.is_empty() || keys.contains(key.as_str()), "{}: no message {key:?}", path.display());
            }
        }
    }

    #[test]
    fn every_message_has_both_languages() {
        for (k, en, ko) in MESSAGES {
            assert!(!en.is_empty() && !ko.is_empty(), "{k}");
        }
    }
}
