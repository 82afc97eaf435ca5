//! gaic-sandbox: runs a competitor's WebAssembly model over inputs it may
//! not keep, under a deterministic budget, and says how it went.
//!
//! The only crate that depends on wasmtime; no wasmtime type appears in its
//! public API. One [`Sandbox`] per process holds the engine (Cranelift, fuel,
//! epoch interruption driven by a ~10 ms ticker thread, SIMD on, threads off,
//! NaNs made canonical wherever their bits could be seen (`nan`), 1 MiB wasm stack, a pooling allocator sized to the
//! worker's concurrency), the linker with the `gaic` host module, and the
//! cache of compiled models. Each [`Sandbox::run`] gets a fresh store whose
//! fuel, epoch deadline and resource limits are set before instantiation, so
//! even a loop in a start function is caught.
//!
//! The guest contract is `ABI.md` beside this crate (and `gaic.wit`).
//! Budgets are deterministic: wasm fuel plus host-op FLOPs charged to the
//! same counter, identical on every machine and on CPU or GPU; the epoch
//! deadline is only a wall-clock safety net.

mod checks;
mod compile;
/// The CUDA backend (its device tensor appears in [`tensor::Stored`]).
#[cfg(feature = "cuda")]
pub mod cuda;
mod engine;
mod host;
pub mod nan;
mod run;
pub mod tensor;
mod verdict;

pub use checks::{ABI_VERSION, ModuleInfo};
pub use compile::{Compiler, compile_worker_main};
pub use engine::{CompiledModel, Sandbox, SandboxConfig, SandboxError};
pub use host::HOST_CALL_FEE;
pub use run::{Limits, RunReport};
pub use tensor::{Device, DeviceChoice};
pub use verdict::Verdict;
