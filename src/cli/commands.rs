//! The client commands: log in, tasks, submit and follow, submissions and
//! finals, leaderboards, teams, organizer and admin actions, the talent
//! search. Each speaks only HTTP to a server; every listing takes `--json`,
//! which prints the API's own JSON (documented at `/api/v1/openapi.json`).

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use futures::StreamExt;
use indicatif::{ProgressBar, ProgressStyle};
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{
    CliError, CliResult, Config, Conn, Remote, json_of, load_config, print_json, save_config, table, text, tint,
};

/// Log in: create an API token and store it (with the server) in
/// `$XDG_CONFIG_HOME/gaic/config.toml`, readable only by you.
///
/// Example: echo "$PASSWORD" | gaic login --server https://gaic.example.org --username ana --password-stdin
#[derive(Debug, clap::Args)]
pub struct LoginArgs {
    /// The server's base URL.
    #[arg(long, env = "GAIC_SERVER")]
    pub server: String,
    /// Your username.
    #[arg(long)]
    pub username: String,
    /// Read the password from standard input instead of prompting.
    #[arg(long)]
    pub password_stdin: bool,
}

impl LoginArgs {
    /// Runs it.
    pub async fn run(self) -> CliResult {
        let password = if self.password_stdin {
            let mut s = String::new();
            std::io::stdin().read_to_string(&mut s)?;
            s.trim_end_matches(['\n', '\r']).to_owned()
        } else {
            rpassword::prompt_password(format!("Password for {}: ", self.username))?
        };
        let conn = Conn::with(&self.server, None)?;
        let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "cli".into());
        let body = json!({"username": self.username, "password": password, "name": format!("gaic CLI on {host}")});
        let created = conn.call(Method::POST, "/api/v1/tokens", Some(&body), false).await.map_err(|e| {
            if e.message.contains("password") || e.message.contains("username") {
                CliError::new(e.message).hint("check the username and password (`gaic login` asks again)")
            } else {
                e
            }
        })?;
        let cfg = Config {
            server: Some(conn.base.clone()),
            token: created["token"].as_str().map(str::to_owned),
            username: Some(self.username.to_ascii_lowercase()),
            token_id: created["id"].as_i64(),
        };
        save_config(&cfg)?;
        println!(
            "Logged in to {} as {}; token stored in {}",
            conn.base,
            self.username,
            super::client::config_path().display()
        );
        Ok(())
    }
}

/// Log out: revoke the stored token on the server and forget it here.
pub async fn logout(remote: &Remote) -> CliResult {
    let mut cfg = load_config();
    if cfg.token.is_none() {
        println!("Not logged in.");
        return Ok(());
    }
    let conn = Conn::new(remote, true)?;
    if let Some(id) = cfg.token_id {
        match conn.call(Method::DELETE, &format!("/api/v1/tokens/{id}"), None, true).await {
            Ok(_) => {}
            Err(e) if e.message.contains("revoked") || e.hint.as_deref().is_some_and(|h| h.contains("login")) => {}
            Err(e) => return Err(e),
        }
    }
    cfg.token = None;
    cfg.token_id = None;
    save_config(&cfg)?;
    println!("Logged out; the token is revoked.");
    Ok(())
}

/// Who the token belongs to.
pub async fn whoami(remote: &Remote, json: bool) -> CliResult {
    let me = Conn::new(remote, true)?.get("/api/v1/me").await?;
    if json {
        print_json(&me);
    } else {
        let roles: Vec<String> = me["roles"].as_array().into_iter().flatten().map(text).collect();
        println!(
            "{} ({}) · {} · roles: {}",
            text(&me["username"]),
            text(&me["display_name"]),
            text(&me["country"]),
            roles.join(", ")
        );
    }
    Ok(())
}

/// Tasks: list, show, download; organizers create, publish, close, rescore.
#[derive(Debug, clap::Subcommand)]
pub enum TasksCmd {
    /// List tasks. Example: gaic tasks list --state open
    List {
        /// open, upcoming, closed or all.
        #[arg(long, default_value = "all")]
        state: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// A task's statement, rules and files. Example: gaic tasks show digits --lang ko
    Show {
        /// The task.
        slug: String,
        /// Title, summary and statement in this language (`en` or `ko`),
        /// where the task has a translation; English otherwise, with a note.
        #[arg(long, default_value = "en")]
        lang: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Download a task's public files (atomic: no half files are left).
    /// Example: gaic tasks download digits --path data/
    Download {
        /// The task.
        slug: String,
        /// Folder to write into [default: ./SLUG].
        #[arg(long)]
        path: Option<PathBuf>,
    },
    /// Organizers: create a task (a draft) from a bundle folder or .tar.gz;
    /// every problem is printed. Example: gaic tasks create ./my-task
    Create {
        /// A bundle folder (packed here) or a .tar.gz.
        bundle: PathBuf,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Organizers: publish a draft. Example: gaic tasks publish my-task
    Publish {
        /// The task.
        slug: String,
    },
    /// Organizers: close a task now (the private board is revealed).
    Close {
        /// The task.
        slug: String,
    },
    /// Organizers: rescore every submission (optionally with corrected labels);
    /// shows each team's rank change and applies only with --apply.
    /// Example: gaic tasks rescore my-task --labels fixed.csv --apply
    Rescore {
        /// The task.
        slug: String,
        /// Corrected labels: a CSV `id,<target>` with the same ids.
        #[arg(long)]
        labels: Option<PathBuf>,
        /// Write the new scores (without it: a preview).
        #[arg(long)]
        apply: bool,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
}

impl TasksCmd {
    /// Runs it.
    pub async fn run(self, remote: &Remote) -> CliResult {
        match self {
            Self::List { state, json } => {
                let conn = Conn::new(remote, false)?;
                let page = conn.get(&format!("/api/v1/tasks?state={state}&per_page=100")).await?;
                if json {
                    print_json(&page);
                    return Ok(());
                }
                let rows = rows_of(&page["items"], |t| {
                    vec![
                        text(&t["slug"]),
                        text(&t["title"]),
                        text(&t["state"]),
                        text(&t["metric"]),
                        text(&t["closes_at"]),
                    ]
                });
                table(&["SLUG", "TITLE", "STATE", "METRIC", "CLOSES"], &rows);
            }
            Self::Show { slug, lang, json } => {
                if !["en", "ko"].contains(&lang.as_str()) {
                    return Err(CliError::new(format!("--lang {lang}: the site speaks en and ko")));
                }
                let t = Conn::new(remote, false)?.get(&format!("/api/v1/tasks/{slug}")).await?;
                if json {
                    print_json(&t);
                    return Ok(());
                }
                let words = &t["translations"][&lang];
                let statement = &t["statement_translations"][&lang];
                let pick = |translated: &Value, original: &Value| {
                    text(if translated.is_string() { translated } else { original })
                };
                println!(
                    "{} — {}\n{}\n",
                    super::client::bold(&pick(&words["title"], &t["title"])),
                    text(&t["slug"]),
                    pick(&words["summary"], &t["summary"])
                );
                if lang != "en" && (!words.is_object() || !statement.is_string()) {
                    println!("(no {lang} translation of all of this task yet: the rest is in English)\n");
                }
                let dir = if t["higher_is_better"] == true { "higher is better" } else { "lower is better" };
                println!(
                    "metric: {} ({dir}) · state: {} · opens {} · closes {}",
                    text(&t["metric"]),
                    text(&t["state"]),
                    text(&t["opens_at"]),
                    text(&t["closes_at"])
                );
                let r = &t["rules"];
                println!(
                    "rules: {} submissions a day (UTC) · {} final selections · teams of up to {}",
                    text(&r["daily_cap"]),
                    text(&r["final_selections"]),
                    text(&r["team_size_cap"])
                );
                println!("\n{}\n", pick(statement, &t["statement"]).trim());
                let rows = rows_of(&t["files"], |f| vec![text(&f["path"]), text(&f["size"])]);
                table(&["FILE", "BYTES"], &rows);
            }
            Self::Download { slug, path } => download(remote, &slug, path).await?,
            Self::Create { bundle, json } => {
                let conn = Conn::new(remote, true)?;
                let bytes = if bundle.is_dir() {
                    crate::bundle::pack_dir(&bundle)
                        .map_err(|e| CliError::new(format!("packing {}: {e}", bundle.display())))?
                } else {
                    std::fs::read(&bundle).map_err(|e| CliError::new(format!("reading {}: {e}", bundle.display())))?
                };
                let res = conn
                    .send(false, || {
                        let part = reqwest::multipart::Part::bytes(bytes.clone()).file_name("bundle.tar.gz");
                        conn.req(Method::POST, "/api/v1/tasks")
                            .multipart(reqwest::multipart::Form::new().part("bundle", part))
                    })
                    .await?;
                let t = json_of(res).await?;
                if json {
                    print_json(&t);
                } else {
                    println!(
                        "Created {} ({}) as a draft; publish it with `gaic tasks publish {}`",
                        text(&t["slug"]),
                        text(&t["title"]),
                        text(&t["slug"])
                    );
                }
            }
            Self::Publish { slug } => {
                let conn = Conn::new(remote, true)?;
                conn.call(Method::PATCH, &format!("/api/v1/tasks/{slug}"), Some(&json!({"published": true})), true)
                    .await?;
                println!("Published {slug}.");
            }
            Self::Close { slug } => {
                let conn = Conn::new(remote, true)?;
                let r = conn.call(Method::POST, &format!("/api/v1/tasks/{slug}/close"), None, false).await?;
                println!("Closed {slug} at {}; the private leaderboard is revealed.", text(&r["closed_at"]));
            }
            Self::Rescore { slug, labels, apply, json } => {
                rescore(remote, &slug, labels.as_deref(), apply, json).await?
            }
        }
        Ok(())
    }
}

fn bar(len: u64, what: &str) -> ProgressBar {
    let pb = if std::io::IsTerminal::is_terminal(&std::io::stderr()) {
        ProgressBar::new(len)
    } else {
        ProgressBar::hidden()
    };
    pb.set_style(
        ProgressStyle::with_template("{msg:20!} [{bar:30}] {bytes}/{total_bytes} {bytes_per_sec}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    pb.set_message(what.to_owned());
    pb
}

async fn download(remote: &Remote, slug: &str, path: Option<PathBuf>) -> CliResult {
    let conn = Conn::new(remote, false)?;
    let t = conn.get(&format!("/api/v1/tasks/{slug}")).await?;
    let dir = path.unwrap_or_else(|| PathBuf::from(slug));
    let files = t["files"].as_array().cloned().unwrap_or_default();
    for f in &files {
        let rel = text(&f["path"]);
        // Only plain relative paths below the folder.
        if rel.split('/').any(|c| c.is_empty() || c == "." || c == "..") || rel.starts_with('/') {
            return Err(CliError::new(format!("the server sent an unsafe file name {rel:?}")));
        }
        let target = dir.join(&rel);
        let parent = target.parent().unwrap_or(&dir).to_owned();
        std::fs::create_dir_all(&parent).map_err(|e| CliError::new(format!("creating {}: {e}", parent.display())))?;
        let url = format!("/api/v1/tasks/{slug}/files/{rel}");
        let res = conn.send(true, || conn.req(Method::GET, &url)).await?;
        if !res.status().is_success() {
            return Err(json_of(res).await.err().unwrap_or_else(|| CliError::new("download failed")));
        }
        let pb = bar(res.content_length().or(f["size"].as_u64()).unwrap_or(0), &rel);
        // Written to a temporary file beside the target, renamed when whole.
        let mut tmp = tempfile::NamedTempFile::new_in(&parent)?;
        let mut stream = res.bytes_stream();
        while let Some(chunk) = stream.next().await {
            let chunk =
                chunk.map_err(|e| CliError::new(format!("downloading {rel}: {e}")).hint("run the command again"))?;
            tmp.write_all(&chunk)?;
            pb.inc(chunk.len() as u64);
        }
        pb.finish_and_clear();
        tmp.persist(&target).map_err(|e| CliError::new(format!("writing {}: {e}", target.display())))?;
        println!("{}  {}", target.display(), text(&f["size"]));
    }
    println!("{} file(s) in {}", files.len(), dir.display());
    Ok(())
}

async fn rescore(remote: &Remote, slug: &str, labels: Option<&Path>, apply: bool, json: bool) -> CliResult {
    let conn = Conn::new(remote, true)?;
    let labels = match labels {
        Some(p) => Some(std::fs::read(p).map_err(|e| CliError::new(format!("reading {}: {e}", p.display())))?),
        None => None,
    };
    let res = conn
        .send(!apply, || {
            let mut form = reqwest::multipart::Form::new().text("apply", if apply { "true" } else { "false" });
            if let Some(l) = &labels {
                form = form.part("labels", reqwest::multipart::Part::bytes(l.clone()).file_name("labels.csv"));
            }
            conn.req(Method::POST, &format!("/api/v1/tasks/{slug}/rescore")).multipart(form)
        })
        .await?;
    let r = json_of(res).await?;
    if json {
        print_json(&r);
        return Ok(());
    }
    let fmt_rank = |v: &Value| v.as_u64().map_or_else(|| "–".to_owned(), |r| r.to_string());
    let rows = rows_of(&r["changes"], |c| {
        vec![
            text(&c["team"]),
            format!("{} → {}", fmt_rank(&c["public_rank"][0]), fmt_rank(&c["public_rank"][1])),
            format!("{} → {}", text(&c["public_score"][0]), text(&c["public_score"][1])),
            format!("{} → {}", fmt_rank(&c["private_rank"][0]), fmt_rank(&c["private_rank"][1])),
            if c["changed"] == true { "*".into() } else { String::new() },
        ]
    });
    table(&["TEAM", "PUBLIC RANK", "PUBLIC SCORE", "PRIVATE RANK", "CHANGED"], &rows);
    let n = text(&r["submissions"]);
    if r["applied"] == true {
        println!("Applied: {n} submissions rescored, {} failed.", text(&r["failed"]));
    } else {
        println!(
            "Preview only: {n} submissions would be rescored ({} would fail). Add --apply to write it.",
            text(&r["failed"])
        );
    }
    Ok(())
}

/// Upload a predictions CSV or a `.wasm` model (with a progress bar).
///
/// With --wait it follows the submission: its place in the queue, running,
/// then the score or the verdict. Exit codes: 0 scored (or stored, without
/// --wait), 2 the submission failed, 1 an error (nothing stored).
/// A retried upload carries the same idempotency key, so it never counts twice.
///
/// Example: gaic submit digits predictions.csv -m "first try" --wait
#[derive(Debug, clap::Args)]
pub struct SubmitArgs {
    /// Which server and token to use.
    #[command(flatten)]
    pub remote: Remote,
    /// The task.
    pub slug: String,
    /// A CSV of predictions or a .wasm model.
    pub file: PathBuf,
    /// A note kept with the submission.
    #[arg(short, long, default_value = "")]
    pub message: String,
    /// Follow it until it is scored or fails.
    #[arg(long)]
    pub wait: bool,
    /// Print the API's JSON (the final state with --wait).
    #[arg(long)]
    pub json: bool,
}

impl SubmitArgs {
    /// Runs it; the exit code on success paths (0 or 2).
    pub async fn run(self, remote: &Remote) -> CliResult<u8> {
        let conn = Conn::new(remote, true)?;
        let bytes =
            std::fs::read(&self.file).map_err(|e| CliError::new(format!("reading {}: {e}", self.file.display())))?;
        let name = self.file.file_name().map_or_else(|| "submission".into(), |n| n.to_string_lossy().into_owned());
        let key = format!("cli-{}", hex::encode(rand::random::<[u8; 16]>()));
        let pb = bar(bytes.len() as u64, &name);
        let res = conn
            .send(true, || {
                let (pb, total) = (pb.clone(), bytes.len() as u64);
                pb.set_position(0);
                let chunks: Vec<Vec<u8>> = bytes.chunks(64 << 10).map(<[u8]>::to_vec).collect();
                let stream = futures::stream::iter(chunks).map(move |c| {
                    pb.inc(c.len() as u64);
                    Ok::<_, std::io::Error>(c)
                });
                let part = reqwest::multipart::Part::stream_with_length(reqwest::Body::wrap_stream(stream), total)
                    .file_name(name.clone());
                let form = reqwest::multipart::Form::new().text("message", self.message.clone()).part("file", part);
                conn.req(Method::POST, &format!("/api/v1/tasks/{}/submissions", self.slug))
                    .header("Idempotency-Key", &key)
                    .multipart(form)
            })
            .await;
        pb.finish_and_clear();
        let created = json_of(res?).await?;
        let sub = &created["submission"];
        let id = sub["id"].as_i64().unwrap_or_default();
        if !self.json {
            let q = &created["quota"];
            println!(
                "Submission {id} stored ({}); {} of {} left today (resets {}).",
                text(&sub["status"]),
                text(&q["remaining_today"]),
                text(&q["daily_cap"]),
                text(&q["resets_at"])
            );
        }
        let last = if self.wait { follow(&conn, id, self.json).await? } else { sub.clone() };
        let failed = last["status"] == "failed" || last["status"] == "platform_error";
        if self.json {
            print_json(if self.wait { &last } else { &created });
        } else {
            report(&last, shown_decimals(&conn, &self.slug).await);
        }
        Ok(if failed { 2 } else { 0 })
    }
}

/// Polls a submission until it leaves the queue; prints each change.
async fn follow(conn: &Conn, id: i64, quiet: bool) -> CliResult<Value> {
    let started = Instant::now();
    let mut last_line = String::new();
    loop {
        let s = conn.get(&format!("/api/v1/submissions/{id}")).await?;
        let status = text(&s["status"]);
        let line = match status.as_str() {
            "queued" => format!(
                "queued{}",
                s["queue_position"].as_i64().map(|p| format!(" (#{p} in the queue)")).unwrap_or_default()
            ),
            "running" => {
                format!("running{}", s["running"]["worker"].as_str().map(|w| format!(" on {w}")).unwrap_or_default())
            }
            other => other.to_owned(),
        };
        let live = matches!(status.as_str(), "queued" | "running");
        if line != last_line && !quiet && (live || !last_line.is_empty()) {
            eprintln!("[{:>5.1}s] {line}", started.elapsed().as_secs_f64());
            last_line = line;
        }
        if !live {
            return Ok(s);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}

/// The decimals `slug`'s scores are shown with (the board's), if the task
/// says.
async fn shown_decimals(conn: &Conn, slug: &str) -> Option<usize> {
    let task = conn.get(&format!("/api/v1/tasks/{slug}")).await.ok()?;
    task["score_decimals"].as_u64().map(|d| d as usize)
}

/// A score as the board shows it: `decimals` places (five when unknown).
fn score_text(v: &Value, decimals: Option<usize>) -> String {
    match (v.as_f64(), decimals) {
        (Some(f), Some(d)) => format!("{f:.d$}"),
        _ => text(v),
    }
}

/// One line on how a submission ended, its scores to `decimals` places.
fn report(s: &Value, decimals: Option<usize>) {
    match s["status"].as_str().unwrap_or("") {
        "scored" => {
            let mut line = format!("Scored: public {}", score_text(&s["public_score"], decimals));
            if !s["private_score"].is_null() {
                line.push_str(&format!(", private {}", score_text(&s["private_score"], decimals)));
            }
            if !s["fuel_used"].is_null() {
                let wall = s["wall_ms"].as_u64().map(crate::submissions::wall_time).unwrap_or_default();
                line.push_str(&format!(" · fuel {} · {wall}", text(&s["fuel_used"])));
                if let Some(device) = s["device"].as_str() {
                    line.push_str(&format!(" on {device}"));
                }
            }
            if s["late"] == true {
                line.push_str(" · late: made after the close, so it is never ranked");
            }
            println!("{}", tint(&line, true));
        }
        "failed" | "platform_error" => {
            let verdict = s["verdict"].as_str().map(|v| format!(" ({v})")).unwrap_or_default();
            println!("{}", tint(&format!("Failed{verdict}: {}", text(&s["error"])), false));
        }
        other => println!("Status: {other}"),
    }
}

/// Your team's submissions to a task.
pub async fn submissions(remote: &Remote, slug: &str, json: bool) -> CliResult {
    let conn = Conn::new(remote, true)?;
    let page = conn.get(&format!("/api/v1/tasks/{slug}/submissions?per_page=100")).await?;
    if json {
        print_json(&page);
        return Ok(());
    }
    let d = shown_decimals(&conn, slug).await;
    let rows = rows_of(&page["items"], |s| {
        vec![
            text(&s["id"]),
            text(&s["created_at"]),
            text(&s["kind"]),
            text(&s["status"]),
            score_text(&s["public_score"], d),
            score_text(&s["private_score"], d),
            if s["selected"] == true { "✓".into() } else { String::new() },
            text(&s["message"]),
        ]
    });
    table(&["ID", "SUBMITTED", "KIND", "STATUS", "PUBLIC", "PRIVATE", "FINAL", "MESSAGE"], &rows);
    Ok(())
}

/// Selects (or unselects) final submissions.
pub async fn select(remote: &Remote, slug: &str, ids: &[i64], on: bool) -> CliResult {
    let conn = Conn::new(remote, true)?;
    let method = if on { Method::PUT } else { Method::DELETE };
    for id in ids {
        let s = conn.call(method.clone(), &format!("/api/v1/submissions/{id}/selection"), None, true).await?;
        if s["task"].as_str().is_some_and(|t| t != slug) {
            return Err(CliError::new(format!("submission {id} belongs to {}, not {slug}", text(&s["task"]))));
        }
        println!("{} {id}", if on { "Selected" } else { "Unselected" });
    }
    Ok(())
}

/// A task's leaderboard.
#[derive(Debug, clap::Args)]
pub struct LeaderboardArgs {
    /// Which server and token to use.
    #[command(flatten)]
    pub remote: Remote,
    /// The task.
    pub slug: String,
    /// public or private (private: after the close).
    #[arg(long, default_value = "public")]
    pub board: String,
    /// Rows to show.
    #[arg(long, default_value_t = 20)]
    pub top: u32,
    /// Print the whole board as CSV.
    #[arg(long)]
    pub csv: bool,
    /// Print the API's JSON.
    #[arg(long)]
    pub json: bool,
    /// Statistical ties on the public board too (the private board always
    /// shows them).
    #[arg(long)]
    pub ties: bool,
}

impl LeaderboardArgs {
    /// Runs it.
    pub async fn run(self, remote: &Remote) -> CliResult {
        let conn = Conn::new(remote, false)?;
        let base = format!("/api/v1/tasks/{}/leaderboard?board={}", self.slug, self.board);
        if self.csv {
            print!("{}", fetch_text(&conn, &format!("{base}&format=csv")).await?);
            return Ok(());
        }
        let ties = if self.ties { "&ties=true" } else { "" };
        let b = conn.get(&format!("{base}&per_page={}{ties}", self.top.clamp(1, 500))).await?;
        if self.json {
            print_json(&b);
            return Ok(());
        }
        let d = shown_decimals(&conn, &self.slug).await;
        let closed = b["closed"] == true;
        let with_ties = b["entries"].as_array().is_some_and(|es| es.iter().any(|e| e.get("interval").is_some()));
        let rows = rows_of(&b["entries"], |e| {
            let team =
                if e["baseline"] == true { format!("{} (baseline)", text(&e["team"])) } else { text(&e["team"]) };
            let moved = match e["movement"].as_i64() {
                Some(0) => "=".into(),
                Some(m) if m > 0 => format!("▲{m}"),
                Some(m) => format!("▼{}", -m),
                None => String::new(),
            };
            let mut row = vec![text(&e["rank"]), team, score_text(&e["score"], d), text(&e["entries"])];
            if closed {
                row.push(moved);
            }
            if with_ties {
                let interval = e["interval"].as_array().map_or(String::new(), |i| {
                    format!("{:.4} – {:.4}", i[0].as_f64().unwrap_or(f64::NAN), i[1].as_f64().unwrap_or(f64::NAN))
                });
                row.push(interval);
                row.push(e["tied_with"].as_u64().map_or(String::new(), |r| format!("tied with #{r}")));
            }
            row
        });
        let mut head = vec!["RANK", "TEAM", "SCORE", "ENTRIES"];
        if closed {
            head.push("MOVE");
        }
        if with_ties {
            head.extend(["95% INTERVAL", "TIE"]);
        }
        table(&head, &rows);
        println!("{} board · {} teams", text(&b["board"]), text(&b["total"]));
        Ok(())
    }
}

/// Teams. Example: gaic team invite digits bob
#[derive(Debug, clap::Subcommand)]
pub enum TeamCmd {
    /// Your team in a task.
    Show {
        /// The task.
        slug: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Join a task with a named team.
    Create {
        /// The task.
        slug: String,
        /// The team's name.
        name: String,
    },
    /// Invite someone (they join, or their team merges into yours).
    Invite {
        /// The task.
        slug: String,
        /// Their username.
        username: String,
    },
    /// Your pending invites, across tasks.
    Invites {
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Accept an invite (by its id from `gaic team invites`).
    Accept {
        /// The invite.
        id: i64,
    },
    /// Decline an invite.
    Decline {
        /// The invite.
        id: i64,
    },
    /// Leave your team (you continue alone).
    Leave {
        /// The task.
        slug: String,
    },
}

impl TeamCmd {
    /// Runs it.
    pub async fn run(self, remote: &Remote) -> CliResult {
        let conn = Conn::new(remote, true)?;
        let team = match self {
            Self::Show { slug, json } => {
                let t = conn.get(&format!("/api/v1/tasks/{slug}/team")).await?;
                if json {
                    print_json(&t);
                    return Ok(());
                }
                t
            }
            Self::Create { slug, name } => {
                conn.call(Method::POST, &format!("/api/v1/tasks/{slug}/team"), Some(&json!({"name": name})), false)
                    .await?
            }
            Self::Invite { slug, username } => {
                let i = conn
                    .call(
                        Method::POST,
                        &format!("/api/v1/tasks/{slug}/team/invites"),
                        Some(&json!({"username": username})),
                        false,
                    )
                    .await?;
                println!("Invited {} to {} (invite {}).", text(&i["username"]), text(&i["team"]), text(&i["id"]));
                return Ok(());
            }
            Self::Invites { json } => {
                let list = conn.get("/api/v1/invites").await?;
                if json {
                    print_json(&list);
                    return Ok(());
                }
                let rows = rows_of(&list, |i| {
                    vec![text(&i["id"]), text(&i["task"]), text(&i["team"]), text(&i["invited_by"])]
                });
                table(&["ID", "TASK", "TEAM", "FROM"], &rows);
                return Ok(());
            }
            Self::Accept { id } => {
                conn.call(Method::POST, &format!("/api/v1/invites/{id}/accept"), None, false).await?
            }
            Self::Decline { id } => {
                conn.call(Method::POST, &format!("/api/v1/invites/{id}/decline"), None, true).await?;
                println!("Declined invite {id}.");
                return Ok(());
            }
            Self::Leave { slug } => {
                conn.call(Method::POST, &format!("/api/v1/tasks/{slug}/team/leave"), None, false).await?
            }
        };
        let members: Vec<String> =
            team["members"].as_array().into_iter().flatten().map(|m| text(&m["username"])).collect();
        println!("{} in {}: {}", super::client::bold(&text(&team["name"])), text(&team["task"]), members.join(", "));
        if let Some(r) = team["disqualified_reason"].as_str() {
            println!("{}", tint(&format!("Disqualified: {r}"), false));
        }
        Ok(())
    }
}

/// Organizers: a task's evaluation queue.
pub async fn queue(remote: &Remote, slug: &str, json: bool) -> CliResult {
    let q = Conn::new(remote, true)?.get(&format!("/api/v1/tasks/{slug}/queue")).await?;
    if json {
        print_json(&q);
        return Ok(());
    }
    println!(
        "queued {} · running {} · finished in the last hour {}",
        text(&q["queued"]),
        text(&q["running"]),
        text(&q["finished_last_hour"])
    );
    let rows = rows_of(&q["jobs"], |j| {
        vec![text(&j["submission_id"]), text(&j["team"]), text(&j["state"]), text(&j["attempts"]), text(&j["worker"])]
    });
    table(&["SUBMISSION", "TEAM", "STATE", "ATTEMPTS", "WORKER"], &rows);
    Ok(())
}

/// Recruiters: people who agreed to be found.
#[derive(Debug, clap::Subcommand)]
pub enum TalentCmd {
    /// Search. Example: gaic talent search --country KR --min-percentile 90
    Search {
        /// ISO country code.
        #[arg(long)]
        country: Option<String>,
        /// Entered this (closed) task.
        #[arg(long)]
        task: Option<String>,
        /// Best final percentile at least this (100 = first).
        #[arg(long)]
        min_percentile: Option<f64>,
        /// Only people open to opportunities.
        #[arg(long)]
        open: bool,
        /// At least this tier: novice, contributor, expert, master, grandmaster.
        #[arg(long)]
        tier: Option<String>,
        /// Entered a closed task of this domain (tabular, vision, nlp, …).
        #[arg(long)]
        domain: Option<String>,
        /// At least one medal of this kind or better: gold, silver, bronze.
        #[arg(long)]
        medal: Option<String>,
        /// A final result within this many months.
        #[arg(long)]
        active_months: Option<u32>,
        /// A rating (μ − 2σ) at least this.
        #[arg(long)]
        min_rating: Option<f64>,
        /// percentile, rating or points (recent form).
        #[arg(long, default_value = "percentile")]
        sort: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// One person's profile and final results. Example: gaic talent show ana
    Show {
        /// Their username.
        username: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Shortlists with private notes. Example: gaic talent shortlist add 3 ana --note "strong NLP"
    #[command(subcommand)]
    Shortlist(ShortlistCmd),
    /// Ask someone you found to get in touch; they see your organisation.
    /// Example: gaic talent contact ana --organisation "Acme" --message "Hello"
    Contact {
        /// Their username.
        username: String,
        /// The organisation you recruit for.
        #[arg(long)]
        organisation: String,
        /// Why you write.
        #[arg(long)]
        message: String,
    },
    /// Contact requests: sent (with the email of those who accepted) and
    /// received. Example: gaic talent requests
    Requests {
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Accept or decline a contact request sent to you. Example: gaic talent answer 4 accept
    Answer {
        /// The request's id.
        id: i64,
        /// accept or decline.
        answer: String,
    },
}

/// Shortlists.
#[derive(Debug, clap::Subcommand)]
pub enum ShortlistCmd {
    /// Your shortlists.
    List,
    /// Create one.
    Create {
        /// Its name.
        name: String,
    },
    /// Add someone (or change your note).
    Add {
        /// The shortlist's id.
        id: i64,
        /// Their username.
        username: String,
        /// A private note.
        #[arg(long, default_value = "")]
        note: String,
    },
    /// Show one; --csv exports it (each person sees the export logged).
    Show {
        /// The shortlist's id.
        id: i64,
        /// Export as CSV.
        #[arg(long)]
        csv: bool,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
}

impl TalentCmd {
    /// Runs it.
    pub async fn run(self, remote: &Remote) -> CliResult {
        let conn = Conn::new(remote, true)?;
        match self {
            Self::Search {
                country,
                task,
                min_percentile,
                open,
                tier,
                domain,
                medal,
                active_months,
                min_rating,
                sort,
                json,
            } => {
                let mut q = url::form_urlencoded::Serializer::new(String::new());
                q.append_pair("per_page", "200").append_pair("sort", &sort);
                if let Some(t) = tier {
                    q.append_pair("tier", &t);
                }
                if let Some(r) = min_rating {
                    q.append_pair("min_rating", &r.to_string());
                }
                for (k, v) in
                    [("domain", domain), ("medal", medal), ("active_months", active_months.map(|m| m.to_string()))]
                {
                    if let Some(v) = v {
                        q.append_pair(k, &v);
                    }
                }
                if let Some(c) = country {
                    q.append_pair("country", &c);
                }
                if let Some(t) = task {
                    q.append_pair("task", &t);
                }
                if let Some(p) = min_percentile {
                    q.append_pair("min_percentile", &p.to_string());
                }
                if open {
                    q.append_pair("open", "true");
                }
                let page = conn.get(&format!("/api/v1/talent?{}", q.finish())).await?;
                if json {
                    print_json(&page);
                    return Ok(());
                }
                let rows = rows_of(&page["people"], |p| {
                    let best = p["best_percentile"].as_f64().map(|b| format!("{b:.1}")).unwrap_or_default();
                    let results: Vec<String> = p["results"].as_array().into_iter().flatten().map(text).collect();
                    let m = &p["medals"];
                    vec![
                        text(&p["username"]),
                        text(&p["display_name"]),
                        text(&p["country"]),
                        p["rating"].as_f64().map(|r| format!("{r:.0}")).unwrap_or_default(),
                        text(&p["tier"]),
                        format!("{}/{}/{}", text(&m[0]), text(&m[1]), text(&m[2])),
                        best,
                        results.join(", "),
                    ]
                });
                table(&["USERNAME", "NAME", "COUNTRY", "RATING", "TIER", "G/S/B", "BEST %", "RESULTS"], &rows);
                println!("{} people · ratings inform, people decide", text(&page["total"]));
            }
            Self::Shortlist(cmd) => return shortlist(&conn, cmd).await,
            Self::Contact { username, organisation, message } => {
                let body = json!({"organisation": organisation, "message": message});
                let r =
                    conn.call(Method::POST, &format!("/api/v1/talent/{username}/contact"), Some(&body), false).await?;
                println!(
                    "Asked {} (request {}); you will see their email if they accept.",
                    text(&r["username"]),
                    text(&r["id"])
                );
            }
            Self::Requests { json } => {
                let list = conn.get("/api/v1/contact-requests").await?;
                if json {
                    print_json(&list);
                    return Ok(());
                }
                let rows = rows_of(&list, |r| {
                    vec![
                        text(&r["id"]),
                        text(&r["recruiter"]),
                        text(&r["username"]),
                        text(&r["organisation"]),
                        text(&r["state"]),
                        text(&r["email"]),
                    ]
                });
                table(&["ID", "FROM", "TO", "ORGANISATION", "STATE", "EMAIL"], &rows);
            }
            Self::Answer { id, answer } => {
                conn.call(Method::POST, &format!("/api/v1/contact-requests/{id}/{answer}"), None, false).await?;
                println!("Request {id}: {}.", if answer == "accept" { "accepted" } else { "declined" });
            }
            Self::Show { username, json } => {
                let p = conn.get(&format!("/api/v1/talent/{username}")).await?;
                if json {
                    print_json(&p);
                    return Ok(());
                }
                println!(
                    "{} (@{}) · {}",
                    super::client::bold(&text(&p["display_name"])),
                    text(&p["username"]),
                    text(&p["country"])
                );
                for (k, v) in [("city", &p["city"]), ("affiliation", &p["affiliation"])] {
                    if !text(v).is_empty() {
                        println!("{k}: {}", text(v));
                    }
                }
                let skills: Vec<String> = p["skills"].as_array().into_iter().flatten().map(text).collect();
                if !skills.is_empty() {
                    println!("skills: {}", skills.join(", "));
                }
                println!("open to opportunities: {}", if p["open_to_work"] == true { "yes" } else { "no" });
                let m = &p["medals"];
                println!(
                    "tier: {} · rating: {} · medals: {} gold, {} silver, {} bronze · points: {}",
                    text(&p["tier"]),
                    p["rating"].as_f64().map_or_else(|| "–".to_owned(), |r| format!("{r:.0}")),
                    text(&m[0]),
                    text(&m[1]),
                    text(&m[2]),
                    p["points"].as_f64().map(|x| format!("{x:.0}")).unwrap_or_default()
                );
                for r in p["results"].as_array().into_iter().flatten() {
                    println!("  {}", text(r));
                }
            }
        }
        Ok(())
    }
}

/// Admins: roles and worker tokens.
#[derive(Debug, clap::Subcommand)]
pub enum AdminCmd {
    /// Grant a role (admin, organizer or recruiter). Example: gaic admin grant ana organizer
    Grant {
        /// The user.
        username: String,
        /// The role.
        role: String,
    },
    /// Remove a role (the last admin keeps theirs).
    Revoke {
        /// The user.
        username: String,
        /// The role.
        role: String,
    },
    /// Worker tokens for remote evaluation workers.
    #[command(subcommand)]
    WorkerToken(WorkerTokenCmd),
}

/// Worker tokens.
#[derive(Debug, clap::Subcommand)]
pub enum WorkerTokenCmd {
    /// Create one (printed once). Example: gaic admin worker-token create gpu-01
    Create {
        /// A label for the worker.
        name: String,
    },
    /// Revoke one by id.
    Revoke {
        /// The token's id.
        id: i64,
    },
}

impl AdminCmd {
    /// Runs it.
    pub async fn run(self, remote: &Remote) -> CliResult {
        let conn = Conn::new(remote, true)?;
        match self {
            Self::Grant { username, role } => {
                let u = conn.call(Method::PUT, &format!("/api/v1/users/{username}/roles/{role}"), None, true).await?;
                println!("{} now has roles: {}", text(&u["username"]), roles(&u));
            }
            Self::Revoke { username, role } => {
                let u =
                    conn.call(Method::DELETE, &format!("/api/v1/users/{username}/roles/{role}"), None, true).await?;
                println!("{} now has roles: {}", text(&u["username"]), roles(&u));
            }
            Self::WorkerToken(WorkerTokenCmd::Create { name }) => {
                let t =
                    conn.call(Method::POST, "/api/v1/admin/worker-tokens", Some(&json!({"name": name})), false).await?;
                println!("Worker token {} ({}), shown once:\n{}", text(&t["id"]), text(&t["name"]), text(&t["token"]));
            }
            Self::WorkerToken(WorkerTokenCmd::Revoke { id }) => {
                conn.call(Method::DELETE, &format!("/api/v1/admin/worker-tokens/{id}"), None, true).await?;
                println!("Revoked worker token {id}.");
            }
        }
        Ok(())
    }
}

fn roles(u: &Value) -> String {
    u["roles"].as_array().into_iter().flatten().map(text).collect::<Vec<_>>().join(", ")
}

/// Check a result credential: its signature over the signed bytes, with
/// the issuer's public key given (--public-key, offline) or fetched from the
/// server by the key id the credential names; then, when a server is known
/// and not --offline, whether the issuer has revoked it (the result was
/// disqualified, hidden or rescored). Exit codes: 0 valid, 2 not valid
/// (changed, or signed by another key), 3 revoked, 1 an error.
///
/// Example: gaic verify ana-digits.json --server https://gaic.example
#[derive(Debug, clap::Args)]
pub struct VerifyArgs {
    /// Which server and token to use.
    #[command(flatten)]
    pub remote: Remote,
    /// The credential file (JSON).
    pub file: PathBuf,
    /// The issuer's public key (base64), or a file holding it.
    #[arg(long)]
    pub public_key: Option<String>,
    /// Do not ask any server (the signature only).
    #[arg(long)]
    pub offline: bool,
}

impl VerifyArgs {
    /// Runs it; 0 valid, 2 not valid, 3 revoked.
    pub async fn run(self, remote: &Remote) -> CliResult<u8> {
        let body = std::fs::read_to_string(&self.file)
            .map_err(|e| CliError::new(format!("reading {}: {e}", self.file.display())))?;
        let signed: crate::credentials::Signed = serde_json::from_str(&body).map_err(|e| {
            let old = serde_json::from_str::<Value>(&body)
                .is_ok_and(|v| v.get("credential").is_some() && v.get("payload").is_none());
            let e = CliError::new(format!("{} is not a gaic credential: {e}", self.file.display()));
            if old {
                e.hint(
                    "this is the older format, which could fail to verify: download it again with `gaic credentials`",
                )
            } else {
                e
            }
        })?;
        let conn = if self.offline { None } else { Conn::new(remote, false).ok() };
        let key = match (self.public_key, &conn) {
            (Some(k), _) if Path::new(&k).is_file() => std::fs::read_to_string(&k)?.trim().to_owned(),
            (Some(k), _) => k,
            (None, Some(conn)) => {
                let keys = conn.get("/.well-known/gaic-credential-key").await?;
                let found =
                    keys["keys"].as_array().into_iter().flatten().find(|k| k["key_id"] == signed.key_id.as_str());
                match found {
                    Some(k) => text(&k["public_key"]),
                    None => {
                        println!("{}: the issuer has no key {}", tint("NOT valid", false), signed.key_id);
                        return Ok(2);
                    }
                }
            }
            (None, None) => {
                return Err(CliError::new("no public key to verify with")
                    .hint("pass --public-key KEY to verify offline, or --server URL to fetch the issuer's key"));
            }
        };
        let c = match crate::credentials::verify(&signed, &key) {
            Ok(c) => c,
            Err(why) => {
                println!("{}: {why}", tint("NOT valid", false));
                return Ok(2);
            }
        };
        let statement = format!(
            "{} ({}) ranked {} of {} in {} with {} {} (submission {}…, scorer {}, {}, issued by {})",
            c.display_name,
            c.username,
            c.rank,
            c.of,
            c.task,
            c.metric,
            c.private_score,
            &c.submission_sha256[..c.submission_sha256.len().min(12)],
            c.scorer_version,
            c.date,
            c.issuer
        );
        let Some(conn) = conn else {
            println!("{}: {statement}; revocation not checked (no server)", tint("valid", true));
            return Ok(0);
        };
        let status = conn.get(&format!("/api/v1/credentials/{}", signed.credential_id)).await?;
        match status["status"].as_str() {
            Some("revoked") => {
                println!("{}: {statement}; {}", tint("REVOKED", false), text(&status["reason"]));
                Ok(3)
            }
            Some("valid") => {
                println!("{}: {statement}; not revoked", tint("valid", true));
                Ok(0)
            }
            _ => {
                println!("{}: {statement}; the server does not know this credential", tint("valid signature", true));
                Ok(0)
            }
        }
    }
}

/// Download your result credentials, one JSON file per result.
///
/// Example: gaic credentials --out creds/
pub async fn credentials(remote: &Remote, out: &Path, json: bool) -> CliResult {
    let list = Conn::new(remote, true)?.get("/api/v1/me/credentials").await?;
    if json {
        print_json(&list);
        return Ok(());
    }
    std::fs::create_dir_all(out).map_err(|e| CliError::new(format!("creating {}: {e}", out.display())))?;
    let items = list.as_array().cloned().unwrap_or_default();
    for c in &items {
        let name = format!("{}-{}.json", text(&c["credential"]["username"]), text(&c["credential"]["task"]));
        let path = out.join(name);
        std::fs::write(&path, serde_json::to_string_pretty(c)?)?;
        println!("{}  rank {} of {}", path.display(), text(&c["credential"]["rank"]), text(&c["credential"]["of"]));
    }
    println!("{} credential(s); check one with `gaic verify FILE`", items.len());
    Ok(())
}

async fn shortlist(conn: &Conn, cmd: ShortlistCmd) -> CliResult {
    match cmd {
        ShortlistCmd::List => {
            let lists = conn.get("/api/v1/shortlists").await?;
            let rows = rows_of(&lists, |l| vec![text(&l["id"]), text(&l["name"]), text(&l["people"])]);
            table(&["ID", "NAME", "PEOPLE"], &rows);
        }
        ShortlistCmd::Create { name } => {
            let l = conn.call(Method::POST, "/api/v1/shortlists", Some(&json!({"name": name})), false).await?;
            println!("Shortlist {} created: {}", text(&l["id"]), text(&l["name"]));
        }
        ShortlistCmd::Add { id, username, note } => {
            conn.call(
                Method::PUT,
                &format!("/api/v1/shortlists/{id}/people/{username}"),
                Some(&json!({"note": note})),
                true,
            )
            .await?;
            println!("Added {username} to shortlist {id}.");
        }
        ShortlistCmd::Show { id, csv, json } => {
            if csv {
                print!("{}", fetch_text(conn, &format!("/api/v1/shortlists/{id}?format=csv")).await?);
                return Ok(());
            }
            let l = conn.get(&format!("/api/v1/shortlists/{id}")).await?;
            if json {
                print_json(&l);
                return Ok(());
            }
            let rows = rows_of(&l["people"], |p| {
                vec![
                    text(&p["username"]),
                    text(&p["affiliation"]),
                    text(&p["tier"]),
                    text(&p["rating"]),
                    text(&p["note"]),
                ]
            });
            table(&["USERNAME", "AFFILIATION", "TIER", "RATING", "NOTE"], &rows);
            if l["withdrawn"].as_u64().unwrap_or(0) > 0 {
                println!("{} left out: they withdrew consent.", text(&l["withdrawn"]));
            }
        }
    }
    Ok(())
}

/// Table rows from a JSON array, one per item.
fn rows_of(items: &Value, row: impl Fn(&Value) -> Vec<String>) -> Vec<Vec<String>> {
    items.as_array().into_iter().flatten().map(row).collect()
}

/// GET a text body (a CSV export), or the server's error.
async fn fetch_text(conn: &Conn, path: &str) -> CliResult<String> {
    let res = conn.send(true, || conn.req(Method::GET, path)).await?;
    if !res.status().is_success() {
        return Err(json_of(res).await.err().unwrap_or_else(|| CliError::new("the server refused")));
    }
    Ok(res.text().await?)
}
