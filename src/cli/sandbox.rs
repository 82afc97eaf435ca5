//! `gaic sandbox run`: the judge, locally. Runs a model exactly as a worker
//! would (same engine settings, ABI checks, budgets and verdicts) and prints
//! its report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::Context;
use gaic_sandbox::{DeviceChoice, Limits, Sandbox, SandboxConfig, Verdict};
use serde_json::json;

use crate::scoring::MetricKind;
use crate::scoring::solution::Format;

/// Work with model sandboxes.
#[derive(Debug, clap::Args)]
pub struct SandboxArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: SandboxCommand,
}

/// Sandbox subcommands.
#[derive(Debug, clap::Subcommand)]
pub enum SandboxCommand {
    /// Run a model over an inputs CSV exactly as the judge does.
    Run(Box<RunArgs>),
    /// Internal: compile a module from stdin under resource limits (the
    /// sandbox starts this as a child process).
    #[command(hide = true)]
    CompileWorker {
        /// Engine settings and limits, passed by the sandbox.
        #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
        args: Vec<String>,
    },
    /// Internal: an evaluator process, running the jobs its parent sends
    /// over stdin (the server and `gaic worker` start these).
    #[command(hide = true)]
    Evaluator(EvaluatorArgs),
}

/// Settings of an evaluator process.
#[derive(Debug, clap::Args)]
pub struct EvaluatorArgs {
    /// Device for host tensor ops: auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: DeviceChoice,
    /// Folder of the authenticated compiled-module cache.
    #[arg(long)]
    pub cache_dir: PathBuf,
}

impl EvaluatorArgs {
    fn run(self) -> ExitCode {
        let config = SandboxConfig {
            concurrency: 1,
            max_memory_bytes: crate::eval::runner::MAX_MEMORY_BYTES,
            device: self.device,
            compiler: subprocess_compiler(None),
            cache_dir: Some(self.cache_dir),
            ..Default::default()
        };
        let sandbox = match Sandbox::new(config) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("evaluator: {e}");
                return ExitCode::FAILURE;
            }
        };
        match crate::eval::child::serve_requests(&sandbox) {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("evaluator: {e}");
                ExitCode::FAILURE
            }
        }
    }
}

/// The compiler the sandbox uses: this very binary in a limited child process.
pub fn subprocess_compiler(program: Option<std::path::PathBuf>) -> gaic_sandbox::Compiler {
    match program.or_else(|| std::env::current_exe().ok()) {
        Some(p) => gaic_sandbox::Compiler::subprocess(p, vec!["sandbox".into(), "compile-worker".into()]),
        None => gaic_sandbox::Compiler::InProcess,
    }
}

/// Run a model (`.wasm`, or `.wat` text) over an inputs CSV as the judge does.
///
/// Exit codes: 0 the verdict is ok, 2 any other verdict, 1 an error of the tool.
///
/// Example: gaic sandbox run digits_mlp.wasm --inputs test_inputs.csv --metric accuracy
///          --target label --classes 0,1,2,3,4,5,6,7,8,9 --output predictions.csv
#[derive(Debug, clap::Args)]
pub struct RunArgs {
    /// The model: a WebAssembly module following the gaic guest ABI.
    pub model: PathBuf,
    /// Inputs CSV: an `id` column plus the feature columns.
    #[arg(long)]
    pub inputs: PathBuf,
    /// The id column of the inputs.
    #[arg(long, default_value = "id")]
    pub id_column: String,
    /// The task's metric: with --target (and --classes) the output CSV is in
    /// the task's submission format, ready to submit.
    #[arg(long)]
    pub metric: Option<String>,
    /// The task's target column name.
    #[arg(long, default_value = "prediction")]
    pub target: String,
    /// The task's classes, comma-separated, in order.
    #[arg(long, value_delimiter = ',')]
    pub classes: Option<Vec<String>>,
    /// Outputs per row when no --metric is given.
    #[arg(long, default_value_t = 1)]
    pub out_cols: usize,
    /// Compute budget (fuel: wasm instructions plus host-op FLOPs).
    #[arg(long, default_value_t = 1_000_000_000)]
    pub fuel: u64,
    /// Memory cap in MiB (linear memory, and host tensors separately).
    #[arg(long, default_value_t = 64)]
    pub memory_mib: u64,
    /// Wall-clock safety net in milliseconds.
    #[arg(long, default_value_t = 10_000)]
    pub timeout_ms: u64,
    /// Device for host tensor ops: auto, cpu or cuda.
    #[arg(long, default_value = "auto")]
    pub device: String,
    /// Write the predictions CSV here.
    #[arg(long)]
    pub output: Option<PathBuf>,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
}

impl SandboxArgs {
    /// Runs the subcommand.
    pub fn run(self) -> ExitCode {
        match self.command {
            SandboxCommand::Run(args) => match args.execute() {
                Ok(code) => code,
                Err(e) => {
                    eprintln!("error: {e:#}");
                    ExitCode::FAILURE
                }
            },
            SandboxCommand::CompileWorker { args } => gaic_sandbox::compile_worker_main(&args),
            SandboxCommand::Evaluator(args) => args.run(),
        }
    }
}

impl RunArgs {
    fn format(&self) -> anyhow::Result<Option<Format>> {
        let Some(name) = &self.metric else { return Ok(None) };
        let metric = MetricKind::from_name(name).with_context(|| format!("unknown metric {name:?}"))?;
        if metric.needs_classes() && self.classes.is_none() {
            anyhow::bail!("{name} needs --classes");
        }
        Ok(Some(Format {
            metric,
            k: None,
            id_column: self.id_column.clone(),
            target: self.target.clone(),
            classes: self.classes.clone(),
        }))
    }

    fn execute(&self) -> anyhow::Result<ExitCode> {
        let raw = std::fs::read(&self.model).with_context(|| format!("reading {}", self.model.display()))?;
        let bytes = if self.model.extension().is_some_and(|e| e == "wat") {
            wat::parse_bytes(&raw).map_err(|e| anyhow::anyhow!("{}: {e}", self.model.display()))?.into_owned()
        } else {
            raw
        };
        let inputs_bytes = std::fs::read(&self.inputs).with_context(|| format!("reading {}", self.inputs.display()))?;
        let inputs = crate::eval::read_inputs(&inputs_bytes, &self.id_column, &[]).map_err(anyhow::Error::msg)?;
        let format = self.format()?;
        let out_cols = match &format {
            Some(f) => crate::eval::out_cols(f).map_err(anyhow::Error::msg)?,
            None => self.out_cols,
        };
        let device: DeviceChoice = self.device.parse().map_err(anyhow::Error::msg)?;
        let memory = self.memory_mib << 20;
        let sandbox =
            Sandbox::new(SandboxConfig { concurrency: 1, max_memory_bytes: memory, device, ..Default::default() })?;
        let limits = Limits { fuel: self.fuel, memory_bytes: memory, wall_ms: self.timeout_ms, ..Limits::default() };
        let report = sandbox.compile_and_run(&bytes, &inputs.values, inputs.cols, out_cols, &limits);
        if let Some(why) = &report.platform_error {
            anyhow::bail!("the sandbox could not run the model (not the model's fault): {why}");
        }
        if report.verdict == Verdict::Ok
            && let Some(path) = &self.output
        {
            let csv = match &format {
                Some(f) => crate::eval::outputs_to_csv(f, &inputs.ids, &report.outputs, out_cols),
                None => raw_csv(&self.id_column, &inputs.ids, &report.outputs, out_cols),
            };
            std::fs::write(path, csv).with_context(|| format!("writing {}", path.display()))?;
        }
        if self.json {
            println!(
                "{}",
                json!({
                    "verdict": report.verdict.as_str(),
                    "fuel_used": report.fuel_used,
                    "peak_memory_bytes": report.peak_memory_bytes,
                    "wall_ms": report.wall_ms,
                    "message": report.message,
                    "rows": inputs.ids.len(),
                    "device": sandbox.device().name,
                    "log": report.log,
                })
            );
        } else {
            println!("verdict:     {}", report.verdict);
            println!("message:     {}", report.message);
            println!("rows:        {}", inputs.ids.len());
            println!("fuel used:   {} of {}", report.fuel_used, self.fuel);
            println!("peak memory: {} bytes", report.peak_memory_bytes);
            println!("wall time:   {}", crate::submissions::wall_time(report.wall_ms));
            println!("device:      {} ({})", sandbox.device().name, sandbox.device().reason);
            if !report.log.is_empty() {
                println!("log:\n{}", report.log);
            }
            if let (Verdict::Ok, Some(path)) = (report.verdict, &self.output) {
                println!("predictions: {}", path.display());
            }
        }
        Ok(if report.verdict == Verdict::Ok { ExitCode::SUCCESS } else { ExitCode::from(2) })
    }
}

fn raw_csv(id_column: &str, ids: &[String], outputs: &[f32], out_cols: usize) -> String {
    let mut out = String::from(id_column);
    if out_cols == 1 {
        out += ",prediction";
    } else {
        for c in 0..out_cols {
            out += &format!(",prediction_{c}");
        }
    }
    out.push('\n');
    for (id, row) in ids.iter().zip(outputs.chunks(out_cols.max(1))) {
        out += id;
        for v in row {
            out += &format!(",{v}");
        }
        out.push('\n');
    }
    out
}
