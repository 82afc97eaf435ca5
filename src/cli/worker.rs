//! `gaic worker`: a remote evaluation worker. It speaks HTTP only to a gaic
//! server: leases jobs, fetches the model and the hidden inputs of the job
//! it holds a lease on (cached by content hash, verified), runs the model in
//! an evaluator child process, heartbeats while it runs and posts the
//! outcome; the server scores it. It never sees a label. An evaluator that
//! dies holding a job is reported as a crash (the server decides whether
//! the job runs again) and replaced.
//! SIGINT/SIGTERM: it stops leasing and finishes the jobs it holds.

use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use anyhow::{Context, bail};
use gaic_sandbox::DeviceChoice;

use crate::eval::child::{EvalError, EvaluatorPool, EvaluatorSpec};
use crate::eval::wire::{FailPost, Lease, LeaseRef, Registration, ResultPost};

/// Run a remote evaluation worker against a gaic server.
///
/// Example: gaic worker --server https://gaic.example.org --token gaicw_… --concurrency 4 --device auto
#[derive(Debug, clap::Args)]
pub struct WorkerArgs {
    /// The server's base URL.
    #[arg(long, env = "GAIC_SERVER")]
    pub server: String,
    /// A worker token issued by an admin (`POST /api/v1/admin/worker-tokens`).
    #[arg(long, env = "GAIC_WORKER_TOKEN", hide_env_values = true)]
    pub token: String,
    /// Jobs to run at once [default: the number of CPU cores].
    #[arg(long)]
    pub concurrency: Option<u32>,
    /// Device for host tensor ops: auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Folder caching models, inputs and compiled artifacts by content hash.
    #[arg(long, env = "GAIC_WORKER_CACHE", default_value = "./gaic-worker-cache")]
    pub cache_dir: PathBuf,
    /// Seconds to wait between polls of an empty queue.
    #[arg(long, default_value_t = 1.0)]
    pub poll_secs: f64,
}

struct Worker {
    http: reqwest::Client,
    base: String,
    token: String,
    evaluators: EvaluatorPool,
    cache: PathBuf,
    poll: Duration,
    stop: Arc<AtomicBool>,
}

impl WorkerArgs {
    /// Runs until SIGINT/SIGTERM.
    pub async fn run(self) -> anyhow::Result<()> {
        crate::telemetry::init_logging(crate::telemetry::LogFormat::Text);
        let concurrency = self
            .concurrency
            .unwrap_or_else(|| std::thread::available_parallelism().map_or(2, |n| n.get() as u32))
            .max(1);
        std::fs::create_dir_all(self.cache_dir.join("blobs"))
            .with_context(|| format!("creating {}", self.cache_dir.display()))?;
        // The device is probed here once, to register it and to fail early
        // when `--device cuda` cannot be had; models run in evaluators.
        let (_, device) = gaic_sandbox::tensor::select(self.device).map_err(anyhow::Error::msg)?;
        let program = std::env::current_exe().context("locating this program to start evaluators")?;
        let evaluators = EvaluatorPool::new(EvaluatorSpec {
            program,
            // The children use the device found here, not a probe of their own.
            device: if device.is_cuda() { DeviceChoice::Cuda } else { DeviceChoice::Cpu },
            cache_dir: self.cache_dir.join("compiled"),
            // The crash test hook, as for the server's evaluators (hidden;
            // off unless set).
            abort_on_log: std::env::var("GAIC_TEST_ABORT_ON_LOG").ok().filter(|m| !m.is_empty()),
        });
        evaluators.warm(concurrency as usize)?;
        let worker = Arc::new(Worker {
            http: reqwest::Client::builder().timeout(Duration::from_secs(300)).build()?,
            base: self.server.trim_end_matches('/').to_owned(),
            token: self.token,
            evaluators,
            cache: self.cache_dir.join("blobs"),
            poll: Duration::from_secs_f64(self.poll_secs.max(0.05)),
            stop: Arc::new(AtomicBool::new(false)),
        });
        let reg = Registration {
            device: device.name.clone(),
            version: env!("CARGO_PKG_VERSION").into(),
            concurrency: i64::from(concurrency),
        };
        let res = worker
            .http
            .post(worker.url("/api/v1/worker/register"))
            .bearer_auth(&worker.token)
            .json(&reg)
            .send()
            .await
            .with_context(|| format!("reaching {}", worker.base))?;
        if !res.status().is_success() {
            bail!("the server refused the worker: {} {}", res.status(), res.text().await.unwrap_or_default());
        }
        tracing::info!(server = %worker.base, device = %device.name, reason = %device.reason, concurrency, "worker registered");
        println!("gaic worker: {concurrency} slot(s) on {} ({}), serving {}", device.name, device.reason, worker.base);
        let mut slots = Vec::new();
        for slot in 0..concurrency {
            let w = worker.clone();
            slots.push(tokio::spawn(async move { w.slot_loop(slot).await }));
        }
        crate::server::shutdown_signal().await;
        worker.stop.store(true, Ordering::Relaxed);
        tracing::info!("stopping: finishing the jobs in hand");
        for s in slots {
            let _ = s.await;
        }
        Ok(())
    }
}

impl Worker {
    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    async fn slot_loop(&self, slot: u32) {
        while !self.stop.load(Ordering::Relaxed) {
            match self.step().await {
                Ok(true) => {}
                Ok(false) => tokio::time::sleep(self.poll).await,
                Err(e) => {
                    tracing::warn!(slot, error = format!("{e:#}"), "worker step failed; retrying");
                    tokio::time::sleep(self.poll * 2).await;
                }
            }
        }
    }

    /// Leases and runs one job; false when the queue was empty.
    async fn step(&self) -> anyhow::Result<bool> {
        let res = self.http.post(self.url("/api/v1/worker/lease")).bearer_auth(&self.token).send().await?;
        if res.status() == reqwest::StatusCode::NO_CONTENT {
            return Ok(false);
        }
        if !res.status().is_success() {
            bail!("lease: {} {}", res.status(), res.text().await.unwrap_or_default());
        }
        let lease: Lease = res.json().await?;
        let fetched = async {
            Ok::<_, anyhow::Error>((
                self.blob(&lease.job.model_hash, &lease.lease).await?,
                self.blob(&lease.job.inputs_hash, &lease.lease).await?,
            ))
        }
        .await;
        let (model, inputs) = match fetched {
            Ok(b) => b,
            Err(e) => {
                self.fail(&lease, &format!("fetching blobs: {e:#}")).await;
                return Ok(true);
            }
        };
        let heartbeat = {
            let (http, url, token, body) = (
                self.http.clone(),
                self.url(&format!("/api/v1/worker/jobs/{}/heartbeat", lease.job_id)),
                self.token.clone(),
                LeaseRef { lease: lease.lease.clone() },
            );
            let every = Duration::from_millis((lease.lease_ms / 3).max(1) as u64);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(every).await;
                    match http.post(&url).bearer_auth(&token).json(&body).send().await {
                        Ok(r) if r.status() == reqwest::StatusCode::CONFLICT => break,
                        _ => {}
                    }
                }
            })
        };
        let outcome = self.evaluators.run(&lease.job, &model, &inputs).await;
        heartbeat.abort();
        match outcome {
            Ok(outcome) => {
                let post = ResultPost { lease: lease.lease.clone(), outcome };
                let url = self.url(&format!("/api/v1/worker/jobs/{}/result", lease.job_id));
                // Retried on network errors: the server records a result once.
                for attempt in 0..5 {
                    match self.http.post(&url).bearer_auth(&self.token).json(&post).send().await {
                        Ok(r) if r.status().is_success() => break,
                        Ok(r) if r.status() == reqwest::StatusCode::CONFLICT => {
                            tracing::warn!(job = lease.job_id, "result refused: the lease expired");
                            break;
                        }
                        Ok(r) => bail!("result: {} {}", r.status(), r.text().await.unwrap_or_default()),
                        Err(e) if attempt < 4 => {
                            tracing::warn!(error = %e, "posting the result failed; retrying");
                            tokio::time::sleep(Duration::from_millis(200 << attempt)).await;
                        }
                        Err(e) => return Err(e.into()),
                    }
                }
            }
            Err(EvalError::Crashed(why)) => self.report(&lease, &why, true).await,
            Err(EvalError::Platform(why)) => self.fail(&lease, &why).await,
        }
        Ok(true)
    }

    async fn fail(&self, lease: &Lease, error: &str) {
        self.report(lease, error, false).await;
    }

    /// Tells the server a job could not be finished: a platform fault, or
    /// (`crashed`) the evaluator died holding it.
    async fn report(&self, lease: &Lease, error: &str, crashed: bool) {
        let body = FailPost { lease: lease.lease.clone(), error: error.to_owned(), crashed };
        let _ = self
            .http
            .post(self.url(&format!("/api/v1/worker/jobs/{}/fail", lease.job_id)))
            .bearer_auth(&self.token)
            .json(&body)
            .send()
            .await;
    }

    /// A blob by hash, from the cache or the server (which serves it only
    /// to the holder of `lease`), verified.
    async fn blob(&self, hash: &str, lease: &str) -> anyhow::Result<Vec<u8>> {
        let path = self.cache.join(hash);
        if let Ok(bytes) = std::fs::read(&path)
            && crate::blobs::sha256_hex(&bytes) == hash
        {
            return Ok(bytes);
        }
        let res = self
            .http
            .get(self.url(&format!("/api/v1/worker/blobs/{hash}")))
            .query(&[("lease", lease)])
            .bearer_auth(&self.token)
            .send()
            .await?;
        if !res.status().is_success() {
            bail!("blob {hash}: {}", res.status());
        }
        let bytes = res.bytes().await?.to_vec();
        if crate::blobs::sha256_hex(&bytes) != hash {
            bail!("blob {hash}: the content does not match its hash");
        }
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, &bytes)?;
        std::fs::rename(&tmp, &path)?;
        Ok(bytes)
    }
}
