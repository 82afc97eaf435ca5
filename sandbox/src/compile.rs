//! Compilation, bounded and cached.
//!
//! A module is compiled either in-process or, in production, by a child
//! process (`Compiler::Subprocess`: the same binary, run with a compile-worker
//! subcommand that calls [`compile_worker_main`]) under `RLIMIT_DATA` and
//! `RLIMIT_CPU`, and killed at a wall-clock deadline: a compile bomb fails
//! cleanly instead of stalling or exhausting the worker.
//!
//! Before compiling, the module is rewritten so that its NaNs are canonical
//! wherever their bits could be seen (`nan`). Artifacts are cached on disk
//! by the wasm's SHA-256 and a hash of the engine's compatibility hash and
//! the rewriting's version, each file tagged with an HMAC-SHA-256 under a key kept
//! beside the cache (created 0600). A file whose tag does not verify is
//! ignored and deleted: only artifacts this process's own compiler produced
//! are ever deserialized, never a file a user supplied.

use std::hash::{Hash, Hasher};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitCode, Stdio};
use std::time::{Duration, Instant};

use hmac::{Hmac, Mac};
use sha2::Sha256;
use wasmtime::{Engine, Module};

/// How modules are compiled.
#[derive(Debug, Clone, Default)]
pub enum Compiler {
    /// In this process (tests, tools).
    #[default]
    InProcess,
    /// In a child process with resource limits.
    Subprocess {
        /// The program (the gaic binary).
        program: PathBuf,
        /// Arguments that select its compile worker.
        args: Vec<String>,
        /// Wall-clock limit of one compile.
        timeout: Duration,
        /// Data (heap) limit of the child, bytes.
        memory_bytes: u64,
    },
}

impl Compiler {
    /// A subprocess compiler with the default limits (60 s, 2 GiB).
    pub fn subprocess(program: PathBuf, args: Vec<String>) -> Self {
        Self::Subprocess { program, args, timeout: Duration::from_secs(60), memory_bytes: 2 << 30 }
    }
}

/// The engine's compatibility hash, as a short hex string.
pub(crate) fn compat_hash(engine: &Engine) -> String {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut h);
    crate::nan::VERSION.hash(&mut h);
    format!("{:016x}", h.finish())
}

/// The on-disk cache of compiled artifacts.
#[derive(Debug)]
pub(crate) struct DiskCache {
    dir: PathBuf,
    key: [u8; 32],
}

type HmacSha256 = Hmac<Sha256>;

impl DiskCache {
    /// Opens (creating) the cache folder and its key.
    pub(crate) fn open(dir: &Path) -> std::io::Result<Self> {
        std::fs::create_dir_all(dir)?;
        let key_path = dir.join("hmac.key");
        let key = match std::fs::read(&key_path) {
            Ok(k) if k.len() == 32 => k,
            _ => {
                let mut k = [0u8; 32];
                rand::Rng::fill(&mut rand::rng(), &mut k);
                let tmp = dir.join(format!("hmac.key.{}", std::process::id()));
                let mut opts = std::fs::OpenOptions::new();
                opts.write(true).create(true).truncate(true);
                #[cfg(unix)]
                std::os::unix::fs::OpenOptionsExt::mode(&mut opts, 0o600);
                opts.open(&tmp)?.write_all(&k)?;
                std::fs::rename(&tmp, &key_path)?;
                k.to_vec()
            }
        };
        let mut fixed = [0u8; 32];
        fixed.copy_from_slice(&key);
        Ok(Self { dir: dir.to_owned(), key: fixed })
    }

    fn path(&self, wasm_hash: &str, compat: &str) -> PathBuf {
        self.dir.join(format!("{wasm_hash}-{compat}.cwasm"))
    }

    fn tag(&self, artifact: &[u8]) -> [u8; 32] {
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length works");
        mac.update(artifact);
        mac.finalize().into_bytes().into()
    }

    /// The cached artifact, if present and authentic.
    pub(crate) fn get(&self, wasm_hash: &str, compat: &str) -> Option<Vec<u8>> {
        let path = self.path(wasm_hash, compat);
        let bytes = std::fs::read(&path).ok()?;
        if bytes.len() < 32 {
            let _ = std::fs::remove_file(&path);
            return None;
        }
        let (tag, artifact) = bytes.split_at(32);
        let mut mac = HmacSha256::new_from_slice(&self.key).expect("any key length works");
        mac.update(artifact);
        if mac.verify_slice(tag).is_err() {
            let _ = std::fs::remove_file(&path);
            return None;
        }
        Some(artifact.to_vec())
    }

    /// Stores an artifact (atomically: temp file, then rename).
    pub(crate) fn put(&self, wasm_hash: &str, compat: &str, artifact: &[u8]) {
        let path = self.path(wasm_hash, compat);
        let tmp = path.with_extension(format!("tmp{}", std::process::id()));
        let write = || -> std::io::Result<()> {
            let mut f = std::fs::File::create(&tmp)?;
            f.write_all(&self.tag(artifact))?;
            f.write_all(artifact)?;
            std::fs::rename(&tmp, &path)
        };
        if write().is_err() {
            let _ = std::fs::remove_file(&tmp);
        }
    }
}

/// Loads an artifact produced by our own compiler (in-process, our child
/// process, or our authenticated disk cache).
pub(crate) fn load(engine: &Engine, artifact: &[u8]) -> wasmtime::Result<Module> {
    #[expect(
        unsafe_code,
        reason = "the artifact comes from this crate's own compiler, authenticated when cached on disk"
    )]
    // SAFETY: `artifact` was produced by `Engine::precompile_module` with an
    // engine of the same configuration (wasmtime checks the compatibility
    // hash too), either in this process or in our compile worker, and a disk
    // copy is only read back after its HMAC verifies.
    unsafe {
        Module::deserialize(engine, artifact)
    }
}

/// Rewrites `wasm` so that its NaNs are canonical where they can be seen
/// (the engine does not canonicalise them itself), then compiles it.
fn compile_bytes(engine: &Engine, wasm: &[u8]) -> Result<Vec<u8>, String> {
    let wasm = crate::nan::canonicalise_nans(wasm)?;
    engine.precompile_module(&wasm).map_err(|e| format!("{}", e.root_cause()))
}

/// Compiles `wasm` into an artifact with `compiler`.
pub(crate) fn precompile(
    engine: &Engine,
    compiler: &Compiler,
    wasm: &[u8],
    config_args: &[String],
) -> Result<Vec<u8>, String> {
    match compiler {
        Compiler::InProcess => compile_bytes(engine, wasm),
        Compiler::Subprocess { program, args, timeout, memory_bytes } => {
            let mut child = Command::new(program)
                .args(args)
                .args(config_args)
                .arg("--memory-bytes")
                .arg(memory_bytes.to_string())
                .arg("--cpu-seconds")
                .arg(timeout.as_secs().max(1).to_string())
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()
                .map_err(|e| format!("starting the compiler ({}): {e}", program.display()))?;
            let mut stdin = child.stdin.take().expect("piped");
            let input = wasm.to_vec();
            let writer = std::thread::spawn(move || {
                let _ = stdin.write_all(&input);
            });
            let mut stdout = child.stdout.take().expect("piped");
            let reader = std::thread::spawn(move || {
                let mut out = Vec::new();
                let _ = stdout.read_to_end(&mut out);
                out
            });
            let mut stderr = child.stderr.take().expect("piped");
            let err_reader = std::thread::spawn(move || {
                let mut out = String::new();
                let _ = stderr.read_to_string(&mut out);
                out
            });
            let deadline = Instant::now() + *timeout;
            let status = loop {
                match child.try_wait() {
                    Ok(Some(s)) => break s,
                    Ok(None) if Instant::now() >= deadline => {
                        let _ = child.kill();
                        let _ = child.wait();
                        return Err(format!("compiling took longer than {} s", timeout.as_secs()));
                    }
                    Ok(None) => std::thread::sleep(Duration::from_millis(5)),
                    Err(e) => return Err(format!("waiting for the compiler: {e}")),
                }
            };
            let _ = writer.join();
            let artifact = reader.join().unwrap_or_default();
            let stderr = err_reader.join().unwrap_or_default();
            if status.success() {
                Ok(artifact)
            } else {
                let why = stderr.lines().last().unwrap_or("").trim();
                Err(if why.is_empty() {
                    format!("the compiler stopped ({status}): the module exceeds the compile limits")
                } else {
                    why.to_owned()
                })
            }
        }
    }
}

/// The compile worker's entry point: reads a module on stdin, compiles it
/// under resource limits with the engine `config` describes, writes the
/// artifact to stdout. `args`: `--concurrency N --max-memory-bytes N
/// --memory-bytes N --cpu-seconds N`.
pub fn compile_worker_main(args: &[String]) -> ExitCode {
    let get = |name: &str| -> Option<u64> {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse().ok())
    };
    let config = crate::SandboxConfig {
        concurrency: get("--concurrency").unwrap_or(1) as u32,
        max_memory_bytes: get("--max-memory-bytes").unwrap_or(1 << 30),
        ..Default::default()
    };
    if let Some(bytes) = get("--memory-bytes") {
        let _ = rlimit::setrlimit(rlimit::Resource::DATA, bytes, bytes);
    }
    if let Some(secs) = get("--cpu-seconds") {
        let _ = rlimit::setrlimit(rlimit::Resource::CPU, secs, secs + 1);
    }
    let mut wasm = Vec::new();
    if let Err(e) = std::io::stdin().read_to_end(&mut wasm) {
        eprintln!("reading the module: {e}");
        return ExitCode::FAILURE;
    }
    let engine = match Engine::new(&crate::engine::engine_config(&config)) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("engine: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    match compile_bytes(&engine, &wasm) {
        Ok(artifact) => {
            if std::io::stdout().write_all(&artifact).is_err() {
                return ExitCode::FAILURE;
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("the module does not compile: {e}");
            ExitCode::FAILURE
        }
    }
}
