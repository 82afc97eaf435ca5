//! Pre-checks before anything is compiled: size, function count, exactly
//! the ABI's function exports, imports only from module `gaic` with the
//! right types, one memory within the cap. They run in microseconds and turn
//! most malformed or hostile uploads into a clear `invalid_module` (or
//! `memory_limit`) without ever reaching the compiler.

use wasmparser::{
    CompositeInnerType, ExternalKind, FuncType, Parser, Payload, TypeRef, ValType, Validator, WasmFeatures,
};

use crate::Verdict;

/// The guest ABI version this sandbox speaks.
pub const ABI_VERSION: i32 = 1;

/// What the pre-checks learned about a module.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModuleInfo {
    /// Functions defined by the module.
    pub functions: u32,
    /// Initial linear memory, bytes.
    pub initial_memory_bytes: u64,
    /// Whether it exports `gaic_init`.
    pub has_init: bool,
    /// Whether it exports `_initialize` (a toolchain's reactor start).
    pub has_initialize: bool,
    /// The `gaic` host functions it imports.
    pub imports: Vec<String>,
}

/// A failed pre-check: the verdict and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct CheckError {
    /// `InvalidModule` or `MemoryLimit`.
    pub verdict: Verdict,
    /// One line for the competitor.
    pub message: String,
}

fn invalid(message: impl Into<String>) -> CheckError {
    CheckError { verdict: Verdict::InvalidModule, message: message.into() }
}

/// The host functions of module `gaic`: (name, params, results), all i32.
pub(crate) const HOST_IMPORTS: &[(&str, usize, usize)] = &[
    ("log", 2, 0),
    ("tensor_from", 5, 1),
    ("tensor_dim", 2, 1),
    ("tensor_read", 3, 1),
    ("tensor_drop", 1, 0),
    ("matmul", 2, 1),
    ("add_row", 2, 1),
    ("relu", 1, 1),
    ("sigmoid", 1, 1),
    ("tanh", 1, 1),
    ("softmax_rows", 1, 1),
    ("argmax_rows", 1, 1),
    ("conv2d", 4, 1),
    ("maxpool2d", 3, 1),
];

/// The function exports of the ABI: (name, params, results, required).
const EXPORTS: &[(&str, usize, usize, bool)] = &[
    ("gaic_abi_version", 0, 1, true),
    ("gaic_alloc", 1, 1, true),
    ("gaic_predict", 5, 1, true),
    ("gaic_init", 0, 1, false),
    // What toolchains export for a module without `main` (a reactor):
    // `_initialize` runs the static constructors and is called once before
    // anything else; `__wasm_call_ctors` is tolerated and never called.
    ("_initialize", 0, 0, false),
    ("__wasm_call_ctors", 0, 0, false),
];

/// Non-function exports toolchains add and the ABI tolerates.
const TOLERATED: &[&str] = &["__data_end", "__heap_base", "__indirect_function_table", "__stack_pointer"];

fn all_i32(ty: &FuncType, params: usize, results: usize) -> bool {
    ty.params().len() == params
        && ty.results().len() == results
        && ty.params().iter().chain(ty.results()).all(|t| *t == ValType::I32)
}

fn signature(ty: &FuncType) -> String {
    let list = |v: &[ValType]| v.iter().map(|t| format!("{t}")).collect::<Vec<_>>().join(", ");
    format!("({}) -> ({})", list(ty.params()), list(ty.results()))
}

fn expected(params: usize, results: usize) -> String {
    format!("({}) -> ({})", vec!["i32"; params].join(", "), vec!["i32"; results].join(", "))
}

/// The features a model may use: the MVP plus SIMD, bulk memory, multi-value
/// and friends; no threads, GC, exceptions, memory64 or relaxed SIMD.
pub(crate) fn features() -> WasmFeatures {
    let mut f = WasmFeatures::WASM2;
    f.remove(WasmFeatures::THREADS);
    f
}

/// Runs every pre-check on `bytes`.
pub fn check(bytes: &[u8], max_bytes: usize, max_functions: u32, memory_cap: u64) -> Result<ModuleInfo, CheckError> {
    if bytes.len() > max_bytes {
        return Err(invalid(format!("the module is {} bytes; at most {max_bytes} are allowed", bytes.len())));
    }
    if !bytes.starts_with(b"\0asm") {
        return Err(invalid("not a WebAssembly binary module (it must start with \\0asm)"));
    }
    let mut validator = Validator::new_with_features(features());
    validator.validate_all(bytes).map_err(|e| invalid(format!("not a valid module: {}", e.message())))?;

    let mut types: Vec<FuncType> = Vec::new();
    let mut func_types: Vec<u32> = Vec::new();
    let mut imported_funcs = 0u32;
    let mut info = ModuleInfo {
        functions: 0,
        initial_memory_bytes: 0,
        has_init: false,
        has_initialize: false,
        imports: Vec::new(),
    };
    let mut memories = 0;
    let mut defined = 0usize;
    let mut exports: Vec<(String, ExternalKind, u32)> = Vec::new();
    for payload in Parser::new(0).parse_all(bytes) {
        match payload.map_err(|e| invalid(format!("not a valid module: {}", e.message())))? {
            Payload::TypeSection(reader) => {
                for group in reader {
                    let group = group.map_err(|e| invalid(e.message().to_owned()))?;
                    for sub in group.into_types() {
                        if let CompositeInnerType::Func(f) = &sub.composite_type.inner {
                            types.push(f.clone());
                        } else {
                            return Err(invalid("only function types are allowed"));
                        }
                    }
                }
            }
            Payload::ImportSection(reader) => {
                for imp in reader.into_imports() {
                    let imp = imp.map_err(|e| invalid(e.message().to_owned()))?;
                    if imp.module != "gaic" {
                        return Err(invalid(format!(
                            "imports {}.{}: a model may import only from module \"gaic\" (no WASI, no other host)",
                            imp.module, imp.name
                        )));
                    }
                    let TypeRef::Func(idx) = imp.ty else {
                        return Err(invalid(format!("imports gaic.{} as a non-function", imp.name)));
                    };
                    let Some(&(_, p, r)) = HOST_IMPORTS.iter().find(|(n, _, _)| *n == imp.name) else {
                        let names: Vec<_> = HOST_IMPORTS.iter().map(|(n, _, _)| *n).collect();
                        return Err(invalid(format!("imports unknown gaic.{}; known: {}", imp.name, names.join(", "))));
                    };
                    let ty = types.get(idx as usize).ok_or_else(|| invalid("bad type index"))?;
                    if !all_i32(ty, p, r) {
                        return Err(invalid(format!(
                            "imports gaic.{} with type {}; the ABI's type is {}",
                            imp.name,
                            signature(ty),
                            expected(p, r)
                        )));
                    }
                    func_types.push(idx);
                    imported_funcs += 1;
                    info.imports.push(imp.name.to_owned());
                }
            }
            Payload::FunctionSection(reader) => {
                for f in reader {
                    func_types.push(f.map_err(|e| invalid(e.message().to_owned()))?);
                    info.functions += 1;
                    if info.functions > max_functions {
                        return Err(invalid(format!("more than {max_functions} functions")));
                    }
                }
            }
            Payload::MemorySection(reader) => {
                for m in reader {
                    let m = m.map_err(|e| invalid(e.message().to_owned()))?;
                    memories += 1;
                    if m.memory64 || m.shared {
                        return Err(invalid("64-bit and shared memories are not allowed"));
                    }
                    info.initial_memory_bytes = m.initial.saturating_mul(65536);
                }
            }
            Payload::TableSection(reader) => {
                for t in reader {
                    let t = t.map_err(|e| invalid(e.message().to_owned()))?;
                    if t.ty.initial > crate::host::TABLE_CAP as u64 {
                        return Err(CheckError {
                            verdict: Verdict::MemoryLimit,
                            message: format!(
                                "the module's initial table has {} elements; at most {} are allowed",
                                t.ty.initial,
                                crate::host::TABLE_CAP
                            ),
                        });
                    }
                }
            }
            Payload::CodeSectionEntry(body) => {
                // The NaN rewriting adds locals to a function (`nan`): leave
                // room for them, so that such a module is refused here and
                // not when it is compiled.
                let index = imported_funcs as usize + defined;
                defined += 1;
                let params =
                    func_types.get(index).and_then(|t| types.get(*t as usize)).map_or(0, |t| t.params().len() as u64);
                let mut locals = params;
                for pair in body.get_locals_reader().map_err(|e| invalid(e.message().to_owned()))? {
                    locals += u64::from(pair.map_err(|e| invalid(e.message().to_owned()))?.0);
                }
                if locals > u64::from(crate::nan::MAX_MODEL_LOCALS) {
                    return Err(invalid(format!(
                        "function {index} has {locals} locals (parameters included); at most {} are allowed",
                        crate::nan::MAX_MODEL_LOCALS
                    )));
                }
            }
            Payload::ExportSection(reader) => {
                for e in reader {
                    let e = e.map_err(|e| invalid(e.message().to_owned()))?;
                    exports.push((e.name.to_owned(), e.kind, e.index));
                }
            }
            _ => {}
        }
    }
    if memories != 1 {
        return Err(invalid(format!("a model defines exactly one memory; this one defines {memories}")));
    }
    if !exports.iter().any(|(n, k, _)| n == "memory" && *k == ExternalKind::Memory) {
        return Err(invalid("the memory must be exported as \"memory\""));
    }
    for (name, kind, index) in &exports {
        match kind {
            ExternalKind::Func => {
                let Some(&(_, p, r, _)) = EXPORTS.iter().find(|(n, ..)| n == name) else {
                    return Err(invalid(format!(
                        "exports a function {name:?} the ABI does not define; export only gaic_abi_version, gaic_alloc, gaic_predict and optionally gaic_init (toolchains may add _initialize and __wasm_call_ctors)"
                    )));
                };
                let ty = func_types
                    .get(*index as usize)
                    .and_then(|t| types.get(*t as usize))
                    .ok_or_else(|| invalid("bad function index"))?;
                if !all_i32(ty, p, r) {
                    return Err(invalid(format!(
                        "exports {name} with type {}; the ABI's type is {}",
                        signature(ty),
                        expected(p, r)
                    )));
                }
                info.has_init |= name == "gaic_init";
                info.has_initialize |= name == "_initialize";
            }
            ExternalKind::Memory if name == "memory" => {}
            _ if TOLERATED.contains(&name.as_str()) => {}
            _ => return Err(invalid(format!("exports {name:?}, which the ABI does not define"))),
        }
    }
    for (name, _, _, required) in EXPORTS {
        if *required && !exports.iter().any(|(n, k, _)| n == name && *k == ExternalKind::Func) {
            return Err(invalid(format!("the required export {name} is missing")));
        }
    }
    let _ = imported_funcs;
    if info.initial_memory_bytes > memory_cap {
        return Err(CheckError {
            verdict: Verdict::MemoryLimit,
            message: format!(
                "the module's initial memory is {} bytes; the task allows {memory_cap}",
                info.initial_memory_bytes
            ),
        });
    }
    Ok(info)
}
