//! Rate limits and caps: quotas per client address and per account, a
//! login throttle that slows the guesser's address and never locks the
//! owner out, live streams capped per viewer and sharing one poller, and
//! bodies refused before they are read.

use reqwest::StatusCode;
use serde_json::{Value, json};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

use crate::helpers::{ADMIN_PASSWORD, PASSWORD, TestApp, assert_error, digits_right_on};
use crate::pages::{client, web_login, web_session};

/// A server that takes client addresses from `X-Forwarded-For`, with
/// `limits` (`CLASS=N/PERIOD`) over the suite's.
async fn limited(limits: &[&str], tweak: impl FnOnce(&mut gaic::server::ServeArgs)) -> TestApp {
    TestApp::spawn_with(|a| {
        a.limits.trust_forwarded_for = true;
        a.limits.rate_limits.extend(limits.iter().map(|l| l.parse::<gaic::limits::RateSetting>().unwrap()));
        tweak(a);
    })
    .await
}

fn signup(n: usize) -> Value {
    json!({
        "username": format!("user{n}"), "email": format!("user{n}@example.org"), "password": PASSWORD,
        "country": "KR", "display_name": "U", "age_14_or_older": true,
    })
}

async fn post_from(app: &TestApp, addr: &str, path: &str, body: &Value) -> reqwest::Response {
    client().post(app.url(path)).header("x-forwarded-for", addr).json(body).send().await.unwrap()
}

#[tokio::test]
async fn signups_past_the_quota_of_an_address_get_429_with_retry_after_and_other_addresses_do_not() {
    let app = limited(&["signup=2/1h"], |_| {}).await;
    for n in 0..2 {
        assert_eq!(post_from(&app, "10.0.0.1", "/api/v1/users", &signup(n)).await.status(), StatusCode::CREATED);
    }
    let res = post_from(&app, "10.0.0.1", "/api/v1/users", &signup(2)).await;
    let wait: u64 = res.headers()["retry-after"].to_str().unwrap().parse().unwrap();
    assert!((1_700..=1_800).contains(&wait), "one sign-up refills every 30 minutes: {wait}");
    assert_error(res, 429, "rate_limited", "too many signup requests").await;
    // The proxy's entry is the last one; what the client wrote before it does
    // not choose its address.
    let res = post_from(&app, "10.0.0.2, 10.0.0.1", "/api/v1/users", &signup(3)).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    assert_eq!(post_from(&app, "10.0.0.2", "/api/v1/users", &signup(4)).await.status(), StatusCode::CREATED);
    // The sign-up page's form counts in the same quota.
    let res = client()
        .post(app.url("/signup"))
        .header("x-forwarded-for", "10.0.0.1")
        .header("accept-language", "ko")
        .form(&[("csrf", "x")])
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    // A page, in the viewer's language, not the API's JSON.
    assert!(res.headers()["retry-after"].to_str().unwrap().parse::<u64>().is_ok());
    assert!(res.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let page = res.text().await.unwrap();
    assert!(page.contains("요청이 너무 많습니다") && page.contains("초 뒤에 다시 시도하세요"), "{page}");
    // Nothing was created by the refused requests.
    let me = app.login("user4", PASSWORD).await;
    assert_eq!(me.get("/api/v1/users/user2").await.status(), StatusCode::NOT_FOUND);
    assert_eq!(me.get("/api/v1/users/user3").await.status(), StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn wrong_passwords_from_one_address_slow_that_address_and_never_lock_the_owner_out() {
    let app = limited(&[], |_| {}).await;
    let wrong = json!({ "username": "admin", "password": "not the password" });
    for _ in 0..10 {
        let res = post_from(&app, "203.0.113.7", "/api/v1/tokens", &wrong).await;
        assert_eq!(res.status(), StatusCode::UNAUTHORIZED);
    }
    // The guesser's address is refused even the right password now...
    let right = json!({ "username": "admin", "password": ADMIN_PASSWORD });
    let res = post_from(&app, "203.0.113.7", "/api/v1/session", &right).await;
    assert!(res.headers().contains_key("retry-after"));
    assert_error(res, 429, "rate_limited", "from this address").await;
    // ...while the owner, from anywhere else, logs in at once, on the API
    // and on the login page.
    assert_eq!(post_from(&app, "198.51.100.1", "/api/v1/tokens", &right).await.status(), StatusCode::CREATED);
    let other_replica = app.replica(|a| a.limits.trust_forwarded_for = true).await;
    let res = post_from(&other_replica, "203.0.113.7", "/api/v1/tokens", &right).await;
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS, "the failures are shared through the database");
    assert_eq!(post_from(&other_replica, "198.51.100.2", "/api/v1/session", &right).await.status(), StatusCode::OK);
    web_login(&app, "admin", ADMIN_PASSWORD).await;
}

#[tokio::test]
async fn the_login_quota_of_an_address_counts_every_attempt() {
    let app = limited(&["login=3/1h", "token=3/1h"], |_| {}).await;
    app.competitor("ann").await;
    let ann = json!({ "username": "ann", "password": PASSWORD });
    for _ in 0..3 {
        assert_eq!(post_from(&app, "10.1.0.1", "/api/v1/session", &ann).await.status(), StatusCode::OK);
    }
    assert_eq!(post_from(&app, "10.1.0.1", "/api/v1/session", &ann).await.status(), StatusCode::TOO_MANY_REQUESTS);
    // Tokens: per address, and per account wherever the requests come from
    // (ann's first token was made when she signed up).
    for addr in ["10.1.0.2", "10.1.0.3"] {
        assert_eq!(post_from(&app, addr, "/api/v1/tokens", &ann).await.status(), StatusCode::CREATED);
    }
    let res = post_from(&app, "10.1.0.4", "/api/v1/tokens", &ann).await;
    assert_error(res, 429, "rate_limited", "token").await;
}

#[tokio::test]
async fn uploads_past_an_accounts_quota_are_refused_before_they_are_read_or_counted() {
    let app = limited(&["upload=2/1h"], |_| {}).await;
    let ann = app.competitor("ann").await;
    let csv = digits_right_on(50);
    for _ in 0..2 {
        assert_eq!(ann.submit("digits", csv.clone()).await.status(), StatusCode::CREATED);
    }
    let res = ann.submit("digits", csv.clone()).await;
    assert_error(res, 429, "rate_limited", "upload").await;
    let mine = ann.get_json("/api/v1/tasks/digits/submissions").await;
    assert_eq!(mine["total"], 2, "{mine}");
    // The web form shares the account's quota.
    let (cookies, csrf) = web_session(&app, "ann", PASSWORD).await;
    let form = reqwest::multipart::Form::new()
        .text("csrf", csrf)
        .part("file", reqwest::multipart::Part::bytes(csv.into_bytes()).file_name("p.csv"));
    let res =
        client().post(app.url("/tasks/digits/submit")).header("cookie", &cookies).multipart(form).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
}

#[tokio::test]
async fn a_web_upload_is_refused_unread_without_a_session_or_with_a_file_ahead_of_its_token() {
    let app = TestApp::spawn().await;
    app.competitor("ann").await;
    let form = || {
        reqwest::multipart::Form::new()
            .part("file", reqwest::multipart::Part::bytes(digits_right_on(50).into_bytes()).file_name("p.csv"))
    };
    let res = client().post(app.url("/tasks/digits/submit")).multipart(form()).send().await.unwrap();
    assert_eq!(res.status(), StatusCode::SEE_OTHER, "no session: to the login page");
    let (cookies, csrf) = web_session(&app, "ann", PASSWORD).await;
    let res = client()
        .post(app.url("/tasks/digits/submit"))
        .header("cookie", &cookies)
        .multipart(form().text("csrf", csrf))
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::FORBIDDEN, "the file came before the token");
    let ann = app.login("ann", PASSWORD).await;
    assert_eq!(ann.get_json("/api/v1/tasks/digits/submissions").await["total"], 0);
}

/// POSTs to `path` a head declaring 10 GiB and sends nothing more: the
/// start of the answer, which must come without waiting for a body.
async fn declare_ten_gib(app: &TestApp, path: &str) -> String {
    declare_body(&app.base, path, 10 << 30, "").await
}

/// POSTs to `path` a multipart head declaring `len` bytes, with the extra
/// header lines `headers` (each ending in CRLF), and sends nothing more: the
/// start of the answer, which must come without waiting for a body.
async fn declare_body(base: &str, path: &str, len: u64, headers: &str) -> String {
    declare_body_from(base, path, len, headers, "").await
}

/// As [`declare_body`], sending `start`, the body's first bytes.
async fn declare_body_from(base: &str, path: &str, len: u64, headers: &str, start: &str) -> String {
    let addr = base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\n{headers}Content-Type: multipart/form-data; boundary=x\r\nContent-Length: {len}\r\n\r\n{start}"
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let mut answer = vec![0u8; 16384];
    let n = tokio::time::timeout(std::time::Duration::from_secs(5), conn.read(&mut answer))
        .await
        .expect("answered before any body byte")
        .unwrap();
    String::from_utf8_lossy(&answer[..n]).into_owned()
}

#[tokio::test]
async fn a_body_declared_over_the_largest_limit_is_refused_before_it_is_sent() {
    let app = TestApp::spawn().await;
    let answer = declare_ten_gib(&app, "/api/v1/tasks/digits/submissions").await;
    assert!(answer.starts_with("HTTP/1.1 413"), "{answer}");
    assert!(answer.contains("application/json") && answer.contains("payload_too_large"), "{answer}");
    // The page's upload form: the message page, saying what is wrong (not
    // a rate limit's words).
    let answer = declare_ten_gib(&app, "/tasks/digits/submit").await;
    assert!(answer.starts_with("HTTP/1.1 413") && answer.contains("text/html"), "{answer}");
    assert!(answer.contains("bytes") && !answer.contains("Too many tries"), "{answer}");
}

#[tokio::test]
async fn a_team_out_of_quota_is_refused_before_its_file_is_sent() {
    let app = TestApp::spawn().await;
    let dan = app.competitor("dan").await;
    for _ in 0..5 {
        dan.submit_ok("digits", digits_right_on(50)).await;
    }
    let auth = format!("Authorization: Bearer {}\r\n", dan.token.as_deref().unwrap());
    let answer = declare_body(&app.base, "/api/v1/tasks/digits/submissions", 3 << 20, &auth).await;
    assert!(answer.starts_with("HTTP/1.1 429"), "{answer}");
    assert!(answer.contains("application/json") && answer.contains("all 5 submissions"), "{answer}");
    // The page's form too: its token and message (the form sends them
    // first), then the head of the file's part, and the submit tab saying
    // why comes back before the file is sent, the message kept to retry.
    let (cookies, csrf) = web_session(&app, "dan", PASSWORD).await;
    let field =
        |name: &str, value: &str| format!("--x\r\nContent-Disposition: form-data; name=\"{name}\"\r\n\r\n{value}\r\n");
    let start = format!(
        "{}{}--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"p.csv\"\r\n\r\n",
        field("csrf", &csrf),
        field("message", "gbm with 500 trees")
    );
    let headers = format!("Cookie: {cookies}\r\nAccept-Language: en\r\n");
    let answer = declare_body_from(&app.base, "/tasks/digits/submit", 3 << 20, &headers, &start).await;
    assert!(answer.starts_with("HTTP/1.1 429") && answer.contains("text/html"), "{answer}");
    assert!(answer.contains("value=\"gbm with 500 trees\""), "the message is kept: {answer}");
    // A repeated idempotency key is answered from the store, unread too.
    let key = "Idempotency-Key: k-1\r\n";
    let eve = app.competitor("eve").await;
    let res = client()
        .post(app.url("/api/v1/tasks/digits/submissions"))
        .bearer_auth(eve.token.as_deref().unwrap())
        .header("idempotency-key", "k-1")
        .multipart(
            reqwest::multipart::Form::new()
                .part("file", reqwest::multipart::Part::bytes(digits_right_on(50).into_bytes()).file_name("p.csv")),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), StatusCode::CREATED);
    let auth = format!("Authorization: Bearer {}\r\n{key}", eve.token.as_deref().unwrap());
    let answer = declare_body(&app.base, "/api/v1/tasks/digits/submissions", 3 << 20, &auth).await;
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
}

/// Opens an upload of a `size`-byte file to `digits` and sends all of it
/// but the last `left` bytes (and the form's closing line).
async fn start_upload(base: &str, token: &str, size: usize, left: usize) -> (tokio::net::TcpStream, Vec<u8>) {
    let addr = base.trim_start_matches("http://").to_owned();
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let part = "--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.wasm\"\r\n\r\n";
    let tail = "\r\n--x--\r\n";
    let head = format!(
        "POST /api/v1/tasks/digits/submissions HTTP/1.1\r\nHost: {addr}\r\nAuthorization: Bearer {token}\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\n\r\n{part}\0asm\x01\0\0\0",
        part.len() + size + tail.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    // The rest of the file, a MiB at a time (not a whole file in memory).
    let filler = vec![7u8; 1 << 20];
    let mut sent = 8;
    while sent < size - left {
        let n = filler.len().min(size - left - sent);
        conn.write_all(&filler[..n]).await.unwrap();
        sent += n;
    }
    let mut rest = vec![7u8; left];
    rest.extend_from_slice(tail.as_bytes());
    (conn, rest)
}

/// The bytes the files in `dir` hold (0 if it does not exist).
fn spooled(dir: &std::path::Path) -> u64 {
    std::fs::read_dir(dir).map(|d| d.flatten().filter_map(|e| e.metadata().ok()).map(|m| m.len()).sum()).unwrap_or(0)
}

/// Sends the rest of an upload (the server may have stopped reading) and
/// returns the answer: its head and as much of its body as its
/// `content-length` says.
async fn finish_upload(mut conn: tokio::net::TcpStream, rest: &[u8]) -> String {
    let _ = conn.write_all(rest).await;
    let mut answer = Vec::new();
    let mut buf = vec![0u8; 16384];
    loop {
        let n = tokio::time::timeout(std::time::Duration::from_secs(30), conn.read(&mut buf)).await.unwrap().unwrap();
        answer.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&answer).into_owned();
        let Some((head, body)) = text.split_once("\r\n\r\n") else {
            assert!(n > 0, "the connection closed before the answer's head: {text}");
            continue;
        };
        let length = head
            .lines()
            .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>()))
            .and_then(Result::ok);
        if n == 0 || length.is_none_or(|len| body.len() >= len) {
            return text;
        }
    }
}

/// The spool holds at most `--max-spool-mib` of uploads in flight: past it,
/// an upload is refused (a JSON 503 to retry, nothing stored, no quota or
/// refusal spent) rather than filling the disk; once the uploads in flight
/// are judged, their room is free again.
#[tokio::test]
async fn uploads_past_the_spools_budget_are_refused_until_room_is_free() {
    let app = TestApp::spawn_with(|a| a.store.max_spool_mib = Some(2)).await;
    let ann = app.competitor("ann").await;
    let token = ann.token.clone().unwrap();
    // 1.5 MiB held in the spool by an upload still arriving.
    let (held, held_rest) = start_upload(&app.base, &token, 3 << 19, 1000).await;
    let spool = app.data_dir.path().join("spool");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while spooled(&spool) < 3 << 18 {
        assert!(std::time::Instant::now() < deadline, "the first upload never reached the spool");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    // Another 1 MiB does not fit the 2 MiB.
    let (conn, rest) = start_upload(&app.base, &token, 1 << 20, 0).await;
    let answer = finish_upload(conn, &rest).await;
    assert!(answer.starts_with("HTTP/1.1 503") && answer.contains("application/json"), "{answer}");
    assert!(answer.contains("too many uploads at once"), "{answer}");
    let team = ann.get_json("/api/v1/tasks/digits/team").await;
    assert_eq!((team["quota"]["used_today"].as_i64(), team["quota"]["refused_today"].as_i64()), (Some(0), Some(0)));
    // The page's form: the message page in the viewer's language.
    let (cookies, csrf) = web_session(&app, "ann", PASSWORD).await;
    let addr = app.base.trim_start_matches("http://").to_owned();
    let mut body = format!(
        "--x\r\nContent-Disposition: form-data; name=\"csrf\"\r\n\r\n{csrf}\r\n--x\r\nContent-Disposition: form-data; name=\"file\"; filename=\"m.wasm\"\r\n\r\n"
    )
    .into_bytes();
    body.resize(body.len() + (1 << 20), 7);
    body.extend_from_slice(b"\r\n--x--\r\n");
    let mut conn = tokio::net::TcpStream::connect(&addr).await.unwrap();
    let head = format!(
        "POST /tasks/digits/submit HTTP/1.1\r\nHost: {addr}\r\nCookie: {cookies}\r\nAccept-Language: ko\r\nContent-Type: multipart/form-data; boundary=x\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    conn.write_all(head.as_bytes()).await.unwrap();
    let answer = finish_upload(conn, &body).await;
    assert!(answer.starts_with("HTTP/1.1 503") && answer.contains("text/html"), "{answer}");
    assert!(answer.contains("동시에 너무 많은 업로드"), "{answer}");
    // The first one ends (an invalid module: judged, refused), and the
    // same 1 MiB upload now gets judged too.
    let answer = finish_upload(held, &held_rest).await;
    assert!(answer.starts_with("HTTP/1.1 422") && answer.contains("invalid_model"), "{answer}");
    let (conn, rest) = start_upload(&app.base, &token, 1 << 20, 0).await;
    let answer = finish_upload(conn, &rest).await;
    assert!(answer.starts_with("HTTP/1.1 422") && answer.contains("invalid_model"), "{answer}");
    assert_eq!(std::fs::read_dir(&spool).unwrap().count(), 0);
}

/// A memory figure of process `pid` in bytes: `field` of
/// `/proc/<pid>/status` (`VmRSS`, `VmHWM`, …).
fn process_memory(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap();
    let line = status.lines().find(|l| l.split(':').next() == Some(field)).unwrap().to_owned();
    line.split_whitespace().nth(1).unwrap().parse::<u64>().unwrap() << 10
}

/// Uploads are received into files, not memory: a server with eight 40 MiB
/// models arriving at once grows by far less than the 320 MiB in flight,
/// the files sit in its spool folder meanwhile, and once each is judged
/// (refused here: they are not valid modules) the folder is empty again.
#[tokio::test]
async fn uploads_in_flight_cost_disk_not_memory() {
    const UPLOADS: usize = 8;
    const SIZE: usize = 40 << 20;
    let data = tempfile::tempdir().unwrap();
    let server = crate::serve::start(data.path(), &[]);
    let pid = server.child.id();
    let rss = || process_memory(pid, "VmRSS");
    let ann = crate::helpers::remote_user(&server.base, "ann").await;
    // Warm the route once (a small invalid model), then measure.
    let res = ann.submit("digits", b"\0asm\x01\0\0\0junk".to_vec()).await;
    assert_eq!(res.status(), StatusCode::UNPROCESSABLE_ENTITY);
    let before = rss();
    let token = ann.token.clone().unwrap();
    let mut conns = Vec::new();
    for _ in 0..UPLOADS {
        // All of the file but its last MiB.
        conns.push(start_upload(&server.base, &token, SIZE, 1 << 20).await);
    }
    let spool = data.path().join("spool");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while spooled(&spool) < (UPLOADS * (SIZE - (2 << 20))) as u64 {
        assert!(
            std::time::Instant::now() < deadline,
            "the uploads never reached the spool folder: {} bytes",
            spooled(&spool)
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let grown = rss().saturating_sub(before);
    eprintln!("{UPLOADS} uploads of {} MiB in flight: the server grew by {} MiB", SIZE >> 20, grown >> 20);
    assert!(grown < 64 << 20, "{UPLOADS} uploads of {SIZE} bytes in flight grew the server by {grown} bytes");
    for (conn, rest) in conns {
        let answer = finish_upload(conn, &rest).await;
        assert!(answer.starts_with("HTTP/1.1 422") && answer.contains("invalid_model"), "{answer}");
    }
    assert_eq!(spooled(&spool), 0, "every received file is deleted once judged");
    crate::serve::stop(server);
}

/// A task bundle of large inputs (the `shapes` generator: 6,000 images of
/// 1,024 pixels, ~36 MB of input CSVs) is checked and stored from its
/// unpacked files, never held in memory: the server's peak memory (`VmHWM`)
/// grows by less than half the inputs' size. What grows is a fixed cost
/// (the parts on their way to the store, a few buffers, the allocator's
/// arenas): 6–10 MiB. The code that held the files grew it by 38–58 MB
/// with this bundle; reading every row into records took ~5×. The server
/// runs two runtime workers whatever the machine, as each thread's arena
/// adds to the peak.
#[tokio::test]
async fn a_large_bundle_is_checked_and_stored_from_disk_not_memory() {
    let bundle_dir = crate::models::shapes_task(6000);
    let csv_bytes: u64 = ["hidden/test_inputs.csv", "public/test_inputs.csv"]
        .iter()
        .map(|f| std::fs::metadata(bundle_dir.path().join(f)).unwrap().len())
        .sum();
    let bundle = gaic::bundle::pack_dir(bundle_dir.path()).unwrap();
    let data = tempfile::tempdir().unwrap();
    let env = [("GAIC_ADMIN_PASSWORD", ADMIN_PASSWORD), ("TOKIO_WORKER_THREADS", "2")];
    let server = crate::serve::start(data.path(), &env);
    let pid = server.child.id();
    let admin = crate::helpers::remote_user_admin(&server.base).await;
    let before = process_memory(pid, "VmRSS");
    let res = admin.upload_bundle(bundle).await;
    assert_eq!(res.status(), StatusCode::CREATED, "{}", res.text().await.unwrap());
    let grown = process_memory(pid, "VmHWM").saturating_sub(before);
    eprintln!("a bundle with {} MiB of input CSVs: the server's peak grew by {} MiB", csv_bytes >> 20, grown >> 20);
    assert!(grown < csv_bytes / 2, "checking {csv_bytes} bytes of inputs took {grown} bytes at the peak");
    crate::serve::stop(server);
}

#[tokio::test]
async fn live_streams_are_capped_per_viewer_and_share_one_poller_per_board() {
    let app = limited(&["events=3/1h"], |a| a.limits.max_streams_per_viewer = 2).await;
    let open = |addr: &'static str| {
        client().get(app.url("/api/v1/tasks/digits/events")).header("x-forwarded-for", addr).send()
    };
    let a1 = open("10.2.0.1").await.unwrap();
    let a2 = open("10.2.0.1").await.unwrap();
    assert_eq!((a1.status(), a2.status()), (StatusCode::OK, StatusCode::OK));
    let res = open("10.2.0.1").await.unwrap();
    assert_error(res, 429, "rate_limited", "live streams open").await;
    let b1 = open("10.2.0.2").await.unwrap();
    assert_eq!(b1.status(), StatusCode::OK);
    assert_eq!(app.state.live.pollers(), 1, "three streams of one board, one poller");
    // The opening quota of the address (3 an hour, the refused one counted):
    // its 4th stream is refused even with places free.
    drop(a1);
    drop(a2);
    let res = open("10.2.0.1").await.unwrap();
    assert_eq!(res.status(), StatusCode::TOO_MANY_REQUESTS);
    drop(b1);
    // The poller stops once no stream is left.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while app.state.live.pollers() > 0 {
        assert!(std::time::Instant::now() < deadline, "the poller outlived its streams");
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
}
