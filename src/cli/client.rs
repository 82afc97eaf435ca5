//! The client side of the command line: a connection to a gaic server over
//! HTTP (the same JSON API the pages use), the stored login, retries, and
//! the output helpers (aligned tables, colour only on a terminal, `--json`).
//!
//! Exit codes: 0 success; 1 an error (the server's message is printed, with
//! a hint); 2 a submission that was stored but failed (`submit --wait`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};
use serde_json::Value;

/// Where the server and token come from: flags, then `GAIC_SERVER` /
/// `GAIC_TOKEN`, then the file `gaic login` wrote.
#[derive(Debug, Clone, Default, clap::Args)]
pub struct Remote {
    /// The server's base URL [default: the one `gaic login` stored].
    #[arg(long, env = "GAIC_SERVER", global = true)]
    pub server: Option<String>,
    /// An API token [default: the one `gaic login` stored].
    #[arg(long, env = "GAIC_TOKEN", hide_env_values = true, global = true)]
    pub token: Option<String>,
}

/// A failed command: what to print and the exit code.
#[derive(Debug)]
pub struct CliError {
    /// The message (the server's, when it sent one).
    pub message: String,
    /// What to try.
    pub hint: Option<String>,
    /// The exit code.
    pub code: u8,
}

impl CliError {
    /// An error with exit code 1.
    pub fn new(message: impl Into<String>) -> Self {
        Self { message: message.into(), hint: None, code: 1 }
    }

    /// Adds a hint.
    pub fn hint(mut self, hint: impl Into<String>) -> Self {
        self.hint = Some(hint.into());
        self
    }
}

impl<E: std::fmt::Display> From<E> for CliError {
    fn from(e: E) -> Self {
        Self::new(e.to_string())
    }
}

/// The result of a client command.
pub type CliResult<T = ()> = Result<T, CliError>;

/// What `gaic login` stores (mode 0600).
#[derive(Debug, Default, Clone, Serialize, Deserialize)]
pub struct Config {
    /// Server base URL.
    pub server: Option<String>,
    /// API token.
    pub token: Option<String>,
    /// Who logged in.
    pub username: Option<String>,
    /// The token's id on the server (for `gaic logout`).
    pub token_id: Option<i64>,
}

/// `$XDG_CONFIG_HOME/gaic/config.toml` (or `~/.config/gaic/config.toml`).
pub fn config_path() -> PathBuf {
    let base = std::env::var_os("XDG_CONFIG_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".config")))
        .unwrap_or_else(|| PathBuf::from("."));
    base.join("gaic").join("config.toml")
}

/// The stored login, or an empty one.
pub fn load_config() -> Config {
    std::fs::read_to_string(config_path()).ok().and_then(|t| toml::from_str(&t).ok()).unwrap_or_default()
}

/// Writes the login atomically, readable by its owner only.
pub fn save_config(c: &Config) -> CliResult {
    let path = config_path();
    let dir = path.parent().unwrap_or(std::path::Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| CliError::new(format!("creating {}: {e}", dir.display())))?;
    let mut tmp = tempfile::NamedTempFile::new_in(dir)?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        tmp.as_file().set_permissions(std::fs::Permissions::from_mode(0o600))?;
    }
    tmp.write_all(toml::to_string(c)?.as_bytes())?;
    tmp.persist(&path).map_err(|e| CliError::new(format!("writing {}: {e}", path.display())))?;
    Ok(())
}

/// A connection to one server.
pub struct Conn {
    http: reqwest::Client,
    /// The base URL, without a trailing slash.
    pub base: String,
    token: Option<String>,
}

/// How many times a safe request is tried.
const TRIES: u32 = 4;

impl Conn {
    /// The connection `remote` and the stored login describe; `signed_in`
    /// requires a token.
    pub fn new(remote: &Remote, signed_in: bool) -> CliResult<Self> {
        let cfg = load_config();
        let base = remote.server.clone().or(cfg.server).ok_or_else(|| {
            CliError::new("no server given")
                .hint("pass --server URL, set GAIC_SERVER, or run `gaic login --server URL`")
        })?;
        let token = remote.token.clone().or(cfg.token);
        if signed_in && token.is_none() {
            return Err(CliError::new("not logged in").hint("run `gaic login --server URL --username NAME`"));
        }
        Self::with(&base, token)
    }

    /// A connection to `base` with an optional token.
    pub fn with(base: &str, token: Option<String>) -> CliResult<Self> {
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .user_agent(concat!("gaic-cli/", env!("CARGO_PKG_VERSION")))
            .build()?;
        Ok(Self { http, base: base.trim_end_matches('/').to_owned(), token })
    }

    /// A request to an API path (`/api/v1/...`).
    pub fn req(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        let rb = self.http.request(method, format!("{}{path}", self.base));
        match &self.token {
            Some(t) => rb.bearer_auth(t),
            None => rb,
        }
    }

    /// Sends a request built by `make`, retrying with backoff on connection
    /// failures, 502/503/504 and 429 when `retry` (safe requests only). A
    /// 429 whose `Retry-After` is over 5 s is answered at once: its message
    /// says when to come back.
    pub async fn send(&self, retry: bool, make: impl Fn() -> reqwest::RequestBuilder) -> CliResult<reqwest::Response> {
        let mut wait = Duration::from_millis(300);
        for attempt in 1..=TRIES {
            let last = !retry || attempt == TRIES;
            match make().send().await {
                Ok(res) if res.status().as_u16() == 429 && retry_after(&res).is_some_and(|s| s > 5) => return Ok(res),
                Ok(res) if !last && matches!(res.status().as_u16(), 429 | 502 | 503 | 504) => {
                    wait = wait.max(Duration::from_secs(retry_after(&res).unwrap_or(0)));
                }
                Ok(res) => return Ok(res),
                Err(e) if last => {
                    return Err(CliError::new(format!("cannot reach {}: {}", self.base, root_cause(&e)))
                        .hint("check the server URL and your network; `gaic login --server URL` changes it"));
                }
                Err(_) => {}
            }
            tokio::time::sleep(wait).await;
            wait *= 2;
        }
        Err(CliError::new("unreachable"))
    }

    /// GET a JSON document (retried).
    pub async fn get(&self, path: &str) -> CliResult<Value> {
        json_of(self.send(true, || self.req(reqwest::Method::GET, path)).await?).await
    }

    /// A JSON request with a body (not retried unless `retry`).
    pub async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&Value>,
        retry: bool,
    ) -> CliResult<Value> {
        let res = self
            .send(retry, || {
                let rb = self.req(method.clone(), path);
                match body {
                    Some(b) => rb.json(b),
                    None => rb,
                }
            })
            .await?;
        json_of(res).await
    }
}

fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut cur = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

/// The body of a successful response as JSON (`null` when empty), or the
/// server's error as a [`CliError`].
pub async fn json_of(res: reqwest::Response) -> CliResult<Value> {
    let status = res.status();
    let text = res.text().await?;
    if status.is_success() {
        return Ok(if text.trim().is_empty() { Value::Null } else { serde_json::from_str(&text)? });
    }
    Err(api_error(status.as_u16(), &text))
}

/// A server error body made readable: the message, every listed problem,
/// and a hint for what usually fixes it.
pub fn api_error(status: u16, body: &str) -> CliError {
    let v: Value = serde_json::from_str(body).unwrap_or(Value::Null);
    let err = &v["error"];
    let mut message = err["message"].as_str().map_or_else(|| format!("the server answered {status}"), str::to_owned);
    if let Some(details) = err["details"].as_array() {
        for d in details {
            let place: Vec<&str> =
                [d["file"].as_str(), d["field"].as_str()].into_iter().flatten().filter(|s| !s.is_empty()).collect();
            let text = d["message"].as_str().unwrap_or("");
            if place.is_empty() {
                message.push_str(&format!("\n  - {text}"));
            } else {
                message.push_str(&format!("\n  - {}: {text}", place.join(" ")));
            }
        }
    }
    let hint = match (status, err["code"].as_str()) {
        (401, _) => Some("your token is missing, revoked or expired: run `gaic login`"),
        (403, _) => Some("this needs a role or an ownership you do not have"),
        (404, _) => Some("check the name; `gaic tasks list` shows the tasks you can see"),
        (429, _) => Some("wait until the time given, then try again"),
        (_, Some("invalid_bundle")) => Some("fix each problem listed, then run the command again"),
        _ => None,
    };
    CliError { message, hint: hint.map(str::to_owned), code: 1 }
}

/// Whether to colour output: on a terminal, unless `NO_COLOR` is set.
pub fn colour() -> bool {
    std::io::stdout().is_terminal() && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

/// Bold text when colouring.
pub fn bold(s: &str) -> String {
    if colour() { format!("\x1b[1m{s}\x1b[0m") } else { s.to_owned() }
}

/// Green (good) or red (bad) text when colouring.
pub fn tint(s: &str, good: bool) -> String {
    match (colour(), good) {
        (true, true) => format!("\x1b[32m{s}\x1b[0m"),
        (true, false) => format!("\x1b[31m{s}\x1b[0m"),
        _ => s.to_owned(),
    }
}

/// Prints rows as an aligned table under a (bold) header.
pub fn table(header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| h.chars().count()).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            if let Some(w) = widths.get_mut(i) {
                *w = (*w).max(c.chars().count());
            }
        }
    }
    let line = |cells: Vec<String>| {
        let padded: Vec<String> = cells
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{c}{}", " ".repeat(widths[i].saturating_sub(c.chars().count()))))
            .collect();
        padded.join("  ").trim_end().to_owned()
    };
    let head = line(header.iter().map(|h| (*h).to_owned()).collect());
    println!("{}", bold(&head));
    for r in rows {
        println!("{}", line(r.clone()));
    }
}

/// Prints a JSON value, pretty.
pub fn print_json(v: &Value) {
    println!("{}", serde_json::to_string_pretty(v).unwrap_or_default());
}

/// A JSON field as display text (`""` for null).
pub fn text(v: &Value) -> String {
    match v {
        Value::Null => String::new(),
        Value::String(s) => s.clone(),
        Value::Number(n) => match n.as_f64() {
            Some(f) if n.is_f64() => format!("{f:.5}"),
            _ => n.to_string(),
        },
        other => other.to_string(),
    }
}

/// The seconds a response's `Retry-After` asks for, if it gives them.
fn retry_after(res: &reqwest::Response) -> Option<u64> {
    res.headers().get(reqwest::header::RETRY_AFTER)?.to_str().ok()?.trim().parse().ok()
}
