//! The engine, the shared linker, compilation with its cache, and the
//! epoch ticker.

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sha2::{Digest, Sha256};
use wasmtime::{Config, Engine, InstanceAllocationStrategy, Linker, Module, OptLevel, PoolingAllocationConfig};

use crate::Verdict;
use crate::checks::{self, ModuleInfo};
use crate::compile::{self, Compiler, DiskCache};
use crate::host::{self, RunState};
use crate::run::{self, Limits, RunReport};
use crate::tensor::{self, Device, DeviceChoice, TensorBackend};

/// Milliseconds between epoch ticks (the wall-clock net's resolution).
pub(crate) const EPOCH_TICK_MS: u64 = 10;

/// Settings of a sandbox (one per process).
#[derive(Debug, Clone)]
pub struct SandboxConfig {
    /// Runs at the same time (sizes the pooling allocator).
    pub concurrency: u32,
    /// The largest memory cap any run may get, in bytes (pool slot size).
    pub max_memory_bytes: u64,
    /// Largest module accepted.
    pub max_module_bytes: usize,
    /// Most functions a module may define.
    pub max_functions: u32,
    /// Which device runs host tensor ops.
    pub device: DeviceChoice,
    /// Compiled modules kept in memory.
    pub cache_entries: usize,
    /// Where modules are compiled (in-process, or a limited child process).
    pub compiler: Compiler,
    /// Folder of the authenticated on-disk artifact cache, if any.
    pub cache_dir: Option<PathBuf>,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            concurrency: 4,
            max_memory_bytes: 1 << 30,
            max_module_bytes: 16 << 20,
            max_functions: 50_000,
            device: DeviceChoice::Auto,
            cache_entries: 64,
            compiler: Compiler::InProcess,
            cache_dir: None,
        }
    }
}

/// A sandbox could not be built.
#[derive(Debug, thiserror::Error)]
pub enum SandboxError {
    /// The engine refused the configuration.
    #[error("sandbox engine: {0}")]
    Engine(String),
    /// The requested device is not available.
    #[error("device: {0}")]
    Device(String),
}

/// A compiled, pre-checked model; cheap to clone.
#[derive(Clone)]
pub struct CompiledModel {
    pub(crate) module: Module,
    /// SHA-256 of the wasm bytes, hex.
    pub hash: String,
    /// What the pre-checks found.
    pub info: ModuleInfo,
}

impl std::fmt::Debug for CompiledModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CompiledModel").field("hash", &self.hash).field("info", &self.info).finish()
    }
}

/// The sandbox: engine, linker, cache and ticker. Share it (`Arc`) between
/// the threads that run models.
pub struct Sandbox {
    engine: Engine,
    linker: Linker<RunState>,
    backend: Arc<dyn TensorBackend>,
    device: Device,
    config: SandboxConfig,
    cache: Mutex<HashMap<String, CompiledModel>>,
    disk: Option<DiskCache>,
    compat: String,
    stop: Arc<AtomicBool>,
}

impl std::fmt::Debug for Sandbox {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sandbox").field("device", &self.device).field("config", &self.config).finish_non_exhaustive()
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// The engine configuration; the compile worker builds the same one.
pub(crate) fn engine_config(config: &SandboxConfig) -> Config {
    let mut c = Config::new();
    // Exactly the WebAssembly 2.0 features the pre-check accepts
    // (`checks::features`): wasmtime 48 turns on a few later proposals by
    // default, which are switched off here so that the engine could not
    // run what the pre-check would refuse.
    c.consume_fuel(true)
        .epoch_interruption(true)
        .wasm_simd(true)
        .wasm_bulk_memory(true)
        .wasm_multi_value(true)
        .wasm_relaxed_simd(false)
        .wasm_multi_memory(false)
        .wasm_memory64(false)
        .wasm_tail_call(false)
        .wasm_extended_const(false)
        .wasm_wide_arithmetic(false)
        .wasm_custom_page_sizes(false)
        .wasm_branch_hinting(false)
        .wasm_gc(false)
        .wasm_stack_switching(false)
        // NaNs are canonicalised by rewriting the module (`nan`) where
        // their bits could be seen, with the same result: not after every
        // float operation.
        .cranelift_nan_canonicalization(false)
        .cranelift_opt_level(OptLevel::Speed)
        .max_wasm_stack(1 << 20);
    let mut pool = PoolingAllocationConfig::default();
    pool.total_core_instances(config.concurrency.max(1) * 2)
        .total_memories(config.concurrency.max(1) * 2)
        .total_tables(config.concurrency.max(1) * 2)
        .max_memory_size(config.max_memory_bytes as usize)
        .table_elements(100_000)
        .max_memories_per_module(1)
        .max_tables_per_module(1)
        // The first pages a model touches stay mapped between runs and are
        // wiped with memset (every byte is still zero for the next model):
        // no page fault and kernel zeroing per page on every run.
        .linear_memory_keep_resident(KEEP_RESIDENT)
        // Where the kernel can say which pages were written (Linux 6.7+),
        // only those are wiped, not every resident byte.
        .pagemap_scan(wasmtime::Enabled::Auto)
        .table_keep_resident(64 << 10);
    c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    c
}

/// Bytes of each linear memory kept resident (zeroed with memset) between
/// runs.
const KEEP_RESIDENT: usize = 4 << 20;

impl Sandbox {
    /// Builds the engine, the linker and the backend, and starts the ticker.
    pub fn new(config: SandboxConfig) -> Result<Self, SandboxError> {
        let engine = Engine::new(&engine_config(&config)).map_err(|e| SandboxError::Engine(format!("{e:#}")))?;
        let mut linker = Linker::new(&engine);
        host::register(&mut linker).map_err(|e| SandboxError::Engine(format!("{e:#}")))?;
        let (backend, device) = tensor::select(config.device).map_err(SandboxError::Device)?;
        let stop = Arc::new(AtomicBool::new(false));
        {
            let (engine, stop) = (engine.clone(), stop.clone());
            std::thread::Builder::new()
                .name("gaic-epoch".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        std::thread::sleep(Duration::from_millis(EPOCH_TICK_MS));
                        engine.increment_epoch();
                    }
                })
                .map_err(|e| SandboxError::Engine(format!("starting the epoch ticker: {e}")))?;
        }
        let disk = match &config.cache_dir {
            Some(dir) => {
                Some(DiskCache::open(dir).map_err(|e| SandboxError::Engine(format!("cache {}: {e}", dir.display())))?)
            }
            None => None,
        };
        let compat = compile::compat_hash(&engine);
        Ok(Self {
            engine,
            linker,
            backend: Arc::from(backend),
            device,
            config,
            cache: Mutex::new(HashMap::new()),
            disk,
            compat,
            stop,
        })
    }

    /// The device that runs host ops, and why it was chosen.
    pub fn device(&self) -> &Device {
        &self.device
    }

    /// The settings.
    pub fn config(&self) -> &SandboxConfig {
        &self.config
    }

    /// Pre-checks a module without compiling it (for validating uploads).
    pub fn check(&self, bytes: &[u8], memory_cap: u64) -> Result<ModuleInfo, (Verdict, String)> {
        checks::check(
            bytes,
            self.config.max_module_bytes,
            self.config.max_functions,
            memory_cap.min(self.config.max_memory_bytes),
        )
        .map_err(|e| (e.verdict, e.message))
    }

    /// Pre-checks and compiles a module (cached by content hash). On
    /// failure, the report that a run would have given.
    pub fn compile(&self, bytes: &[u8], memory_cap: u64) -> Result<CompiledModel, Box<RunReport>> {
        let hash = hex(&Sha256::digest(bytes));
        if let Some(m) = self.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&hash)
            && m.info.initial_memory_bytes <= memory_cap
        {
            return Ok(m.clone());
        }
        let info = self.check(bytes, memory_cap).map_err(|(v, m)| Box::new(RunReport::rejected(v, m)))?;
        let module = self.build(bytes, &hash).map_err(|m| Box::new(RunReport::rejected(Verdict::InvalidModule, m)))?;
        let model = CompiledModel { module, hash: hash.clone(), info };
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if cache.len() >= self.config.cache_entries
            && let Some(k) = cache.keys().next().cloned()
        {
            cache.remove(&k);
        }
        cache.insert(hash, model.clone());
        Ok(model)
    }

    /// The module for pre-checked `bytes`: from the disk cache, else compiled
    /// by the configured compiler (and cached).
    fn build(&self, bytes: &[u8], hash: &str) -> Result<Module, String> {
        if let Some(disk) = &self.disk
            && let Some(artifact) = disk.get(hash, &self.compat)
            && let Ok(module) = compile::load(&self.engine, &artifact)
        {
            return Ok(module);
        }
        let args = [
            "--concurrency".to_owned(),
            self.config.concurrency.to_string(),
            "--max-memory-bytes".to_owned(),
            self.config.max_memory_bytes.to_string(),
        ];
        let artifact = compile::precompile(&self.engine, &self.config.compiler, bytes, &args)
            .map_err(|e| format!("the module does not compile: {e}"))?;
        let module =
            compile::load(&self.engine, &artifact).map_err(|e| format!("the compiled module does not load: {e}"))?;
        if let Some(disk) = &self.disk {
            disk.put(hash, &self.compat, &artifact);
        }
        Ok(module)
    }

    /// Runs `model` over `inputs` (row-major, `cols` per row), expecting
    /// `out_cols` outputs per row, within `limits`.
    pub fn run(
        &self,
        model: &CompiledModel,
        inputs: &[f32],
        cols: usize,
        out_cols: usize,
        limits: &Limits,
    ) -> RunReport {
        let mut limits = *limits;
        limits.memory_bytes = limits.memory_bytes.min(self.config.max_memory_bytes);
        let job = run::Job { model, inputs, cols, out_cols };
        run::run(&self.engine, &self.linker, self.backend.clone(), &job, &limits)
    }

    /// Compiles (from cache when possible) and runs in one step.
    pub fn compile_and_run(
        &self,
        bytes: &[u8],
        inputs: &[f32],
        cols: usize,
        out_cols: usize,
        limits: &Limits,
    ) -> RunReport {
        match self.compile(bytes, limits.memory_bytes) {
            Ok(model) => self.run(&model, inputs, cols, out_cols, limits),
            Err(report) => *report,
        }
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tensor::{Deadline, OpStop, Session, TensorBackend};

    /// A device that cannot open a run's session, as a CUDA context in
    /// trouble would.
    #[derive(Debug)]
    struct Broken;

    impl TensorBackend for Broken {
        fn name(&self) -> String {
            "cuda:9 (broken)".into()
        }
        fn session(&self, _: Deadline) -> Result<Box<dyn Session>, OpStop> {
            Err(OpStop::Device("CUDA_ERROR_ILLEGAL_ADDRESS".into()))
        }
    }

    #[test]
    fn a_device_error_is_the_platforms_and_no_op_falls_back_to_the_cpu() {
        let mut sandbox = Sandbox::new(SandboxConfig { device: DeviceChoice::Cpu, ..Default::default() }).unwrap();
        sandbox.backend = Arc::new(Broken);
        let module = wat::parse_str(
            r#"(module
                 (import "gaic" "tensor_from" (func $from (param i32 i32 i32 i32 i32) (result i32)))
                 (import "gaic" "matmul" (func $matmul (param i32 i32) (result i32)))
                 (memory (export "memory") 1)
                 (func (export "gaic_abi_version") (result i32) i32.const 1)
                 (func (export "gaic_alloc") (param i32) (result i32) i32.const 1024)
                 (func (export "gaic_predict") (param i32 i32 i32 i32 i32) (result i32)
                   i32.const 0 i32.const 2 i32.const 2 i32.const 1 i32.const 1 call $from
                   i32.const 0 i32.const 2 i32.const 2 i32.const 1 i32.const 1 call $from
                   call $matmul drop
                   local.get 1 local.get 4 i32.mul))"#,
        )
        .unwrap();
        let inputs = [1.0f32, 2.0, 3.0, 4.0];
        let report = sandbox.compile_and_run(&module, &inputs, 2, 1, &Limits::default());
        let why = report.platform_error.as_deref().unwrap_or_else(|| panic!("a platform error: {report:?}"));
        assert!(why.contains("device error") && why.contains("CUDA_ERROR_ILLEGAL_ADDRESS"), "{why}");
        assert!(report.outputs.is_empty(), "no result from a failed device");
        assert_eq!(report.device, "cuda:9 (broken)");
    }
}
