//! Evaluation child processes: untrusted models never run in the process
//! that holds labels, the database pool and the sessions.
//!
//! An [`EvaluatorPool`] keeps evaluator processes (`gaic sandbox evaluator`,
//! this same binary) and hands each job to one of them over a pipe: the job
//! spec, the model and the hidden *inputs* go down, the run's outcome comes
//! back. A child never receives labels, runs one model at a time, and holds
//! nothing else worth stealing. The server's queue loops and the remote
//! `gaic worker` both evaluate through a pool.
//!
//! A child that dies mid-job (abort, OOM kill, segfault) or stops answering
//! is reported as [`EvalError::Crashed`] and replaced; the queue decides what
//! that means for the job (see `runner::crashed`). Anything that went wrong
//! on our side without a crash (a child that cannot be started, a run the
//! engine could not instantiate) is [`EvalError::Platform`].
//!
//! Wire format, both ways little-endian: a request is `u32` length + JSON
//! [`JobSpec`], `u64` length + model bytes, `u64` length + inputs bytes; a
//! reply is `u32` length + JSON [`Reply`].

use std::io::{Read, Write};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::Mutex;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, ChildStdin, ChildStdout, Command};

use super::wire::{JobSpec, RunOutcome};

/// Largest reply a child may send (outputs of the largest task, as JSON).
const MAX_REPLY_BYTES: u32 = 1 << 30;
/// Time a child gets beyond the run's wall-clock limit (compiling, reading
/// the inputs) before it is taken for hung and killed.
const GRACE: Duration = Duration::from_secs(120);

/// Why a job could not be evaluated.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EvalError {
    /// The evaluator process died or hung while it held the job.
    #[error("the evaluator process crashed: {0}")]
    Crashed(String),
    /// A fault of the platform (no child could be started, the engine
    /// could not instantiate the model): the job should run again.
    #[error("{0}")]
    Platform(String),
}

/// What a child answers.
#[derive(Debug, serde::Serialize, serde::Deserialize)]
pub enum Reply {
    /// The run's outcome (any verdict).
    Outcome(RunOutcome),
    /// A platform fault inside the child.
    Platform(String),
}

/// How to start evaluator children.
#[derive(Debug, Clone)]
pub struct EvaluatorSpec {
    /// The gaic program.
    pub program: PathBuf,
    /// Device for host tensor ops.
    pub device: gaic_sandbox::DeviceChoice,
    /// Folder of the compiled-module cache the children share.
    pub cache_dir: PathBuf,
    /// Test hook: a child aborts when a model's log contains this text.
    pub abort_on_log: Option<String>,
}

struct Evaluator {
    child: Child,
    stdin: ChildStdin,
    stdout: ChildStdout,
}

/// Idle evaluator children, reused job after job.
#[derive(Debug)]
pub struct EvaluatorPool {
    spec: EvaluatorSpec,
    idle: Mutex<Vec<Evaluator>>,
}

impl std::fmt::Debug for Evaluator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Evaluator").field("pid", &self.child.id()).finish()
    }
}

impl EvaluatorPool {
    /// A pool that starts children as `spec` says (none yet).
    pub fn new(spec: EvaluatorSpec) -> Self {
        Self { spec, idle: Mutex::new(Vec::new()) }
    }

    /// Starts children until `n` are idle, so the first jobs pay no start-up.
    pub fn warm(&self, n: usize) -> Result<(), EvalError> {
        let mut idle = self.idle.lock().unwrap_or_else(|e| e.into_inner());
        while idle.len() < n {
            idle.push(self.spawn()?);
        }
        Ok(())
    }

    /// Process ids of the idle children (for tests and diagnostics).
    pub fn idle_pids(&self) -> Vec<u32> {
        self.idle.lock().unwrap_or_else(|e| e.into_inner()).iter().filter_map(|e| e.child.id()).collect()
    }

    fn spawn(&self) -> Result<Evaluator, EvalError> {
        let mut cmd = Command::new(&self.spec.program);
        cmd.args(["sandbox", "evaluator", "--device", self.spec.device.as_str(), "--cache-dir"])
            .arg(&self.spec.cache_dir)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true);
        match &self.spec.abort_on_log {
            Some(marker) => cmd.env(ABORT_ON_LOG, marker),
            None => cmd.env_remove(ABORT_ON_LOG),
        };
        let mut child = cmd.spawn().map_err(|e| {
            EvalError::Platform(format!("starting an evaluator ({}): {e}", self.spec.program.display()))
        })?;
        let stdin = child.stdin.take().ok_or_else(|| EvalError::Platform("evaluator without stdin".into()))?;
        let stdout = child.stdout.take().ok_or_else(|| EvalError::Platform("evaluator without stdout".into()))?;
        Ok(Evaluator { child, stdin, stdout })
    }

    /// Runs `job` in a child. The child goes back to the pool after a
    /// reply; one that died or hung is killed and not reused.
    pub async fn run(&self, job: &JobSpec, model: &[u8], inputs: &[u8]) -> Result<RunOutcome, EvalError> {
        // An idle child that died meanwhile (killed by the OOM killer for
        // another's sins, say) is not this job's crash: skip it.
        let popped = loop {
            let next = self.idle.lock().unwrap_or_else(|e| e.into_inner()).pop();
            match next {
                Some(mut ev) => {
                    if matches!(ev.child.try_wait(), Ok(None)) {
                        break Some(ev);
                    }
                    tracing::warn!("an idle evaluator had exited; starting another");
                    let _ = ev.child.start_kill();
                }
                None => break None,
            }
        };
        let mut ev = match popped {
            Some(ev) => ev,
            None => self.spawn()?,
        };
        let limit = Duration::from_millis(job.wall_ms) + GRACE;
        match tokio::time::timeout(limit, exchange(&mut ev, job, model, inputs)).await {
            Ok(Ok(reply)) => {
                self.idle.lock().unwrap_or_else(|e| e.into_inner()).push(ev);
                match reply {
                    Reply::Outcome(o) => Ok(o),
                    Reply::Platform(why) => Err(EvalError::Platform(why)),
                }
            }
            Ok(Err(io)) => {
                let status = ev.child.wait().await.map(|s| s.to_string()).unwrap_or_else(|e| e.to_string());
                Err(EvalError::Crashed(format!("{status} ({io})")))
            }
            Err(_) => {
                let _ = ev.child.kill().await;
                Err(EvalError::Crashed(format!("no answer within {} s; killed", limit.as_secs())))
            }
        }
    }
}

async fn exchange(ev: &mut Evaluator, job: &JobSpec, model: &[u8], inputs: &[u8]) -> std::io::Result<Reply> {
    let header = serde_json::to_vec(job)?;
    let mut req = Vec::with_capacity(header.len() + model.len() + inputs.len() + 20);
    req.extend_from_slice(&(header.len() as u32).to_le_bytes());
    req.extend_from_slice(&header);
    for part in [model, inputs] {
        req.extend_from_slice(&(part.len() as u64).to_le_bytes());
        req.extend_from_slice(part);
    }
    ev.stdin.write_all(&req).await?;
    ev.stdin.flush().await?;
    let len = ev.stdout.read_u32_le().await?;
    if len > MAX_REPLY_BYTES {
        return Err(std::io::Error::other(format!("a reply of {len} bytes")));
    }
    let mut buf = vec![0u8; len as usize];
    ev.stdout.read_exact(&mut buf).await?;
    serde_json::from_slice(&buf).map_err(std::io::Error::other)
}

/// The environment variable of the crash test hook.
const ABORT_ON_LOG: &str = "GAIC_TEST_ABORT_ON_LOG";

/// The child's side (`gaic sandbox evaluator`): answers requests on stdin
/// until it closes. Blocking; one job at a time.
pub fn serve_requests(sandbox: &gaic_sandbox::Sandbox) -> std::io::Result<()> {
    let abort_on = std::env::var(ABORT_ON_LOG).ok().filter(|m| !m.is_empty());
    let mut stdin = std::io::stdin().lock();
    let mut stdout = std::io::stdout().lock();
    loop {
        let mut len = [0u8; 4];
        match stdin.read_exact(&mut len) {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(()),
            Err(e) => return Err(e),
        }
        let mut header = vec![0u8; u32::from_le_bytes(len) as usize];
        stdin.read_exact(&mut header)?;
        let job: JobSpec = serde_json::from_slice(&header).map_err(std::io::Error::other)?;
        let model = read_part(&mut stdin)?;
        let inputs = read_part(&mut stdin)?;
        let reply = match execute(sandbox, &job, &model, &inputs) {
            Ok(outcome) => {
                if let Some(marker) = &abort_on
                    && outcome.log.contains(marker.as_str())
                {
                    std::process::abort();
                }
                Reply::Outcome(outcome)
            }
            Err(why) => Reply::Platform(why),
        };
        let body = serde_json::to_vec(&reply).map_err(std::io::Error::other)?;
        stdout.write_all(&(body.len() as u32).to_le_bytes())?;
        stdout.write_all(&body)?;
        stdout.flush()?;
    }
}

fn read_part(r: &mut impl Read) -> std::io::Result<Vec<u8>> {
    let mut len = [0u8; 8];
    r.read_exact(&mut len)?;
    let len = u64::from_le_bytes(len);
    // The server sends what its own upload limits allowed; refuse absurd
    // lengths rather than allocating them.
    if len > 16 << 30 {
        return Err(std::io::Error::other(format!("a part of {len} bytes")));
    }
    let mut buf = vec![0u8; len as usize];
    r.read_exact(&mut buf)?;
    Ok(buf)
}

/// Runs a job's model on its inputs (worker side; blocking).
pub fn execute(
    sandbox: &gaic_sandbox::Sandbox,
    job: &JobSpec,
    model: &[u8],
    inputs: &[u8],
) -> Result<RunOutcome, String> {
    let parsed = super::read_inputs(inputs, &job.id_column, &job.feature_columns)?;
    let limits = gaic_sandbox::Limits {
        fuel: job.fuel,
        memory_bytes: job.memory_bytes,
        wall_ms: job.wall_ms,
        ..gaic_sandbox::Limits::default()
    };
    let r = sandbox.compile_and_run(model, &parsed.values, parsed.cols, job.out_cols, &limits);
    if let Some(why) = r.platform_error {
        return Err(why);
    }
    Ok(RunOutcome {
        device: r.device,
        verdict: r.verdict.as_str().to_owned(),
        message: r.message,
        fuel_used: r.fuel_used,
        peak_memory_bytes: r.peak_memory_bytes,
        wall_ms: r.wall_ms,
        log: r.log,
        outputs: r.outputs,
    })
}
