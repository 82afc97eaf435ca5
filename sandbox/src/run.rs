//! One model run: a fresh store, instantiation under the budget, then
//! `gaic_predict` over the inputs in batches, with every failure mapped to a
//! verdict.

use std::sync::Arc;
use std::time::Instant;

use wasmtime::{Engine, Linker, Store, Trap, TypedFunc};

use crate::Verdict;
use crate::checks::ABI_VERSION;
use crate::engine::{CompiledModel, EPOCH_TICK_MS};
use crate::host::{HostError, RunState};
use crate::tensor::{Deadline, TensorBackend};

/// The budget of one run.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Deterministic compute budget: wasm fuel plus host-op cost.
    pub fuel: u64,
    /// Cap on linear memory, and separately on live host tensors, in bytes.
    pub memory_bytes: u64,
    /// Wall-clock safety net, milliseconds.
    pub wall_ms: u64,
    /// Most bytes of guest log kept.
    pub log_bytes: usize,
}

impl Default for Limits {
    fn default() -> Self {
        Self { fuel: 1_000_000_000, memory_bytes: 64 << 20, wall_ms: 10_000, log_bytes: 16 << 10 }
    }
}

/// How a run went.
#[derive(Debug, Clone, PartialEq)]
pub struct RunReport {
    /// The verdict.
    pub verdict: Verdict,
    /// One line for the competitor.
    pub message: String,
    /// Fuel spent (wasm and host ops).
    pub fuel_used: u64,
    /// Largest linear memory plus largest live host tensors, bytes.
    pub peak_memory_bytes: u64,
    /// Wall time of the run, milliseconds.
    pub wall_ms: u64,
    /// What the model logged (capped).
    pub log: String,
    /// `rows × out_cols` outputs, row-major, when the verdict is `ok`.
    pub outputs: Vec<f32>,
    /// The device that ran the host ops (`cpu`, `cuda:0 (…)`): host-op
    /// results are bit-identical only on the same device and CPU family.
    pub device: String,
    /// Set when the run failed for a reason that is not the model's (the
    /// engine could not instantiate it: instance pool exhausted, host out of
    /// memory). The verdict then means nothing; the job should run again.
    pub platform_error: Option<String>,
}

impl RunReport {
    /// A report for a model that never ran.
    pub(crate) fn rejected(verdict: Verdict, message: String) -> Self {
        Self {
            verdict,
            message,
            fuel_used: 0,
            peak_memory_bytes: 0,
            wall_ms: 0,
            log: String::new(),
            outputs: Vec::new(),
            device: String::new(),
            platform_error: None,
        }
    }
}

/// Rows per call of `gaic_predict`.
const BATCH_ROWS: usize = 256;

struct Failure(Verdict, String);

impl From<wasmtime::Error> for Failure {
    fn from(err: wasmtime::Error) -> Self {
        if let Some(h) = err.downcast_ref::<HostError>() {
            return match h {
                HostError::OutOfFuel(op) => {
                    Failure(Verdict::OutOfFuel, format!("{} (in host op {op})", Verdict::OutOfFuel.message()))
                }
                HostError::MemoryLimit(m) => Failure(Verdict::MemoryLimit, m.clone()),
                HostError::Timeout(op) => {
                    Failure(Verdict::Timeout, format!("{} (in host op {op})", Verdict::Timeout.message()))
                }
                HostError::Bad(m) => Failure(Verdict::Trap, format!("host op refused: {m}")),
                // Never the model's verdict: `Run` makes it a platform error.
                HostError::Device(m) => Failure(Verdict::Trap, format!("the device failed: {m}")),
            };
        }
        match err.downcast_ref::<Trap>() {
            Some(Trap::OutOfFuel) => Failure(Verdict::OutOfFuel, Verdict::OutOfFuel.message().into()),
            Some(Trap::Interrupt) => Failure(Verdict::Timeout, Verdict::Timeout.message().into()),
            Some(Trap::StackOverflow) => Failure(Verdict::StackOverflow, Verdict::StackOverflow.message().into()),
            Some(t) => Failure(Verdict::Trap, format!("the model trapped: {t}")),
            None => Failure(Verdict::Trap, format!("the model failed: {}", err.root_cause())),
        }
    }
}

/// What to run: a model over inputs of `cols` values per row.
pub(crate) struct Job<'a> {
    pub(crate) model: &'a CompiledModel,
    pub(crate) inputs: &'a [f32],
    pub(crate) cols: usize,
    pub(crate) out_cols: usize,
}

pub(crate) fn run(
    engine: &Engine,
    linker: &Linker<RunState>,
    backend: Arc<dyn TensorBackend>,
    job: &Job<'_>,
    limits: &Limits,
) -> RunReport {
    let start = Instant::now();
    let deadline = Deadline::at(start + std::time::Duration::from_millis(limits.wall_ms));
    let device = backend.name();
    let mut store = Store::new(engine, RunState::new(limits.memory_bytes, limits.log_bytes, backend, deadline));
    store.limiter(|s| &mut s.limiter);
    let mut report = RunReport::rejected(Verdict::Ok, String::new());
    report.device = device;
    // The budget is in place before instantiation: a start function is
    // metered and interruptible like everything else.
    if store.set_fuel(limits.fuel).is_err() {
        report.verdict = Verdict::Trap;
        report.message = "the engine has fuel metering off".into();
        return report;
    }
    store.set_epoch_deadline(limits.wall_ms.div_ceil(EPOCH_TICK_MS) + 1);
    store.epoch_deadline_trap();
    let result = match predict_all(&mut store, linker, job) {
        Err(Run::Platform(why)) => {
            report.verdict = Verdict::Trap;
            report.message = "the evaluation failed on the platform".into();
            report.platform_error = Some(why);
            report.wall_ms = start.elapsed().as_millis() as u64;
            return report;
        }
        Err(Run::Model(f)) => Err(f),
        Ok(outputs) => Ok(outputs),
    };
    let state = store.data();
    report.fuel_used = limits.fuel - store.get_fuel().unwrap_or(0);
    report.peak_memory_bytes = state.limiter.peak + state.peak_tensor_bytes;
    report.log = state.log.clone();
    if state.log_dropped > 0 {
        report.log += &format!("\n[… {} more bytes of log dropped]", state.log_dropped);
    }
    match result {
        Ok(outputs) => {
            report.message = Verdict::Ok.message().into();
            report.outputs = outputs;
        }
        Err(Failure(mut verdict, mut message)) => {
            // A refused memory.grow usually surfaces as the guest's own trap
            // (an allocator abort): report the real cause.
            if let Some(asked) = state.limiter.denied
                && verdict == Verdict::Trap
            {
                verdict = Verdict::MemoryLimit;
                message =
                    format!("the model asked for {asked} bytes of memory; the task allows {}", limits.memory_bytes);
            } else if let Some(asked) = state.limiter.table_denied
                && verdict == Verdict::Trap
            {
                verdict = Verdict::MemoryLimit;
                message = format!(
                    "the model asked for a table of {asked} elements; at most {} are allowed",
                    state.limiter.table_cap
                );
            }
            report.verdict = verdict;
            report.message = message;
        }
    }
    report.wall_ms = start.elapsed().as_millis() as u64;
    report
}

/// Why a run stopped early: the model's doing, or the platform's.
enum Run {
    Model(Failure),
    Platform(String),
}

impl From<Failure> for Run {
    fn from(f: Failure) -> Self {
        Run::Model(f)
    }
}

impl From<wasmtime::Error> for Run {
    fn from(e: wasmtime::Error) -> Self {
        device_failure(&e).unwrap_or_else(|| Run::Model(e.into()))
    }
}

/// A device error (a CUDA failure) is the platform's: the job runs again,
/// it is not the model's verdict and no op falls back.
fn device_failure(e: &wasmtime::Error) -> Option<Run> {
    match e.downcast_ref::<HostError>() {
        Some(HostError::Device(why)) => Some(Run::Platform(format!("device error: {why}"))),
        _ => None,
    }
}

/// Sorts an instantiation error: the model's trap, host-call error or
/// refused memory/table growth is the model's verdict; anything else (the
/// instance pool exhausted, mmap failing) is the platform's. The pre-checks
/// have already refused what a module could do to make instantiation fail
/// (wrong imports, an initial memory or table over the caps).
fn instantiation_error(store: &Store<RunState>, e: wasmtime::Error) -> Run {
    let limiter = &store.data().limiter;
    if let Some(device) = device_failure(&e) {
        return device;
    }
    if e.downcast_ref::<Trap>().is_some() || e.downcast_ref::<HostError>().is_some() {
        return Run::Model(Failure::from(e));
    }
    if limiter.denied.is_some() || limiter.table_denied.is_some() {
        return Run::Model(Failure(Verdict::MemoryLimit, "the model's memory does not fit the task's cap".into()));
    }
    Run::Platform(format!("instantiating the model: {e:#}"))
}

fn predict_all(store: &mut Store<RunState>, linker: &Linker<RunState>, job: &Job<'_>) -> Result<Vec<f32>, Run> {
    let Job { model, inputs, cols, out_cols } = *job;
    let instance = linker.instantiate(&mut *store, &model.module).map_err(|e| instantiation_error(store, e))?;
    let memory = instance
        .get_memory(&mut *store, "memory")
        .ok_or_else(|| Failure(Verdict::InvalidModule, "the module exports no memory".into()))?;
    let typed = |store: &mut Store<RunState>, name: &str| {
        instance
            .get_typed_func::<(), i32>(&mut *store, name)
            .map_err(|e| Failure(Verdict::InvalidModule, format!("{name}: {e}")))
    };
    if model.info.has_initialize {
        instance
            .get_typed_func::<(), ()>(&mut *store, "_initialize")
            .map_err(|e| Failure(Verdict::InvalidModule, format!("_initialize: {e}")))?
            .call(&mut *store, ())?;
    }
    let version = typed(store, "gaic_abi_version")?.call(&mut *store, ())?;
    if version != ABI_VERSION {
        return Err(Failure(
            Verdict::InvalidModule,
            format!("the module speaks ABI version {version}; this sandbox speaks {ABI_VERSION}"),
        )
        .into());
    }
    if model.info.has_init {
        let code = typed(store, "gaic_init")?.call(&mut *store, ())?;
        if code != 0 {
            return Err(Failure(Verdict::Trap, format!("gaic_init returned error code {code}")).into());
        }
    }
    let alloc: TypedFunc<i32, i32> = instance
        .get_typed_func(&mut *store, "gaic_alloc")
        .map_err(|e| Failure(Verdict::InvalidModule, e.to_string()))?;
    let predict: TypedFunc<(i32, i32, i32, i32, i32), i32> = instance
        .get_typed_func(&mut *store, "gaic_predict")
        .map_err(|e| Failure(Verdict::InvalidModule, e.to_string()))?;

    let rows = inputs.len().checked_div(cols).unwrap_or(0);
    let batch = BATCH_ROWS.min(rows.max(1));
    let in_bytes = batch * cols * 4;
    let out_bytes = batch * out_cols * 4;
    let too_big =
        |what| Failure(Verdict::MemoryLimit, format!("a batch's {what} buffer does not fit in 32-bit memory"));
    let in_ptr = alloc.call(&mut *store, i32::try_from(in_bytes).map_err(|_| too_big("input"))?)?;
    let out_ptr = alloc.call(&mut *store, i32::try_from(out_bytes).map_err(|_| too_big("output"))?)?;
    let check = |store: &Store<RunState>, ptr: i32, len: usize, what: &str| {
        let start = u64::from(ptr as u32);
        if ptr == 0 || start + len as u64 > memory.data_size(store) as u64 {
            return Err(Failure(
                Verdict::Trap,
                format!("gaic_alloc returned an unusable {what} pointer ({ptr}) for {len} bytes"),
            ));
        }
        Ok(start as usize)
    };
    let mut outputs = Vec::with_capacity(rows * out_cols);
    for (b, chunk) in inputs.chunks(batch * cols.max(1)).enumerate() {
        let n = chunk.len() / cols.max(1);
        // Memory can move when the guest grows it: re-check each batch.
        let inp = check(store, in_ptr, in_bytes, "input")?;
        let outp = check(store, out_ptr, out_bytes, "output")?;
        {
            let mem = memory.data_mut(&mut *store);
            crate::tensor::write_le(&mut mem[inp..inp + chunk.len() * 4], chunk);
            mem[outp..outp + out_bytes].fill(0);
        }
        let written = predict.call(&mut *store, (in_ptr, n as i32, cols as i32, out_ptr, out_cols as i32))?;
        if written < 0 {
            return Err(Failure(Verdict::Trap, format!("gaic_predict returned error code {written}")).into());
        }
        if written as usize != n * out_cols {
            return Err(Failure(
                Verdict::InvalidOutput,
                format!(
                    "gaic_predict wrote {written} values for {n} rows × {out_cols} outputs; expected {}",
                    n * out_cols
                ),
            )
            .into());
        }
        let outp = check(store, out_ptr, out_bytes, "output")?;
        // One copy of the block, then one pass to check it.
        let mem = memory.data(&*store);
        let start = outputs.len();
        outputs.resize(start + n * out_cols, 0.0);
        crate::tensor::fill_from_le(&mut outputs[start..], &mem[outp..outp + n * out_cols * 4]);
        if let Some(i) = outputs[start..].iter().position(|v| !v.is_finite()) {
            let (row, v) = (b * batch + i / out_cols.max(1), outputs[start + i]);
            return Err(Failure(
                Verdict::InvalidOutput,
                format!("output row {} (0-based), column {} is {v}; outputs must be finite", row, i % out_cols.max(1)),
            )
            .into());
        }
    }
    Ok(outputs)
}
