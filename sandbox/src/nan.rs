//! NaN canonicalisation where a NaN's bits can be seen, not after every
//! float operation.
//!
//! Float arithmetic that yields a NaN leaves its sign and payload to the
//! machine (an x86 CPU gives `0xffc00000` for `0 × ∞`, an ARM one
//! `0x7fc00000`). A model's results must be bit-identical on every worker,
//! so every such NaN must become the one canonical NaN before anything can
//! tell its bits apart. Cranelift can do that after every float operation,
//! but then a loop that keeps its sums in registers pays a compare and a
//! blend for each multiply and each add: more than doubling the inner loop
//! of a plain-wasm matrix product on some CPUs.
//!
//! This pass rewrites the module instead, so that the engine can compile it
//! with Cranelift's canonicalisation off and still give the very same
//! observable bits. It follows each value from the operation that made it:
//!
//! - float arithmetic (what Cranelift canonicalises: add, sub, mul, div,
//!   min, max, sqrt, ceil, floor, trunc, nearest, promote, demote) yields a
//!   value whose NaNs may differ from machine to machine;
//! - such a value may flow, as it is, into more arithmetic, comparisons,
//!   float-to-integer conversions, lane moves (`splat`, `extract_lane`,
//!   `replace_lane`), `pmin`/`pmax`, `select` and locals: none of them lets a
//!   NaN's bits change what comes out except through another NaN;
//! - anywhere else (a store, a call, a return, a branch carrying the value,
//!   a global, a reinterpret, `abs`/`neg`/`copysign`, any integer or bitwise
//!   SIMD operation, a vector read as the other float shape) the value is
//!   first canonicalised, by a sequence inserted right after the operation
//!   that made it: `x == x ? x : NaN` (`select`, or `v128.bitselect` with an
//!   `f32x4.eq`/`f64x2.eq` mask), which is what Cranelift emits.
//!
//! Locals are followed over the whole function until nothing changes. A
//! local that would hold both arithmetic results and bits that must be kept
//! as they are (a value loaded from memory, say) is canonicalised as it is
//! set instead. Values whose bits must be kept (loads, parameters, call
//! results, integer results) are never touched, so the rewritten module
//! gives the same bits as the original compiled with Cranelift's
//! canonicalisation (`tests/nan.rs` checks that, operation by operation and
//! on generated functions). Only fuel differs: the inserted sequences are
//! instructions, six for each canonicalisation.
//!
//! DWARF sections (`.debug_*`) are left out of the rewritten module: their
//! code offsets would no longer point at the code (the engine reads no
//! debug information anyway). Every other custom section is kept.

use std::collections::HashMap;

use wasm_encoder::reencode::{self, Reencode};
use wasmparser::{
    FuncValidator, FunctionBody, ModuleArity, Operator, Parser, ValType, ValidPayload, Validator, ValidatorResources,
};

/// Changes whenever the rewriting changes (compiled artifacts are cached
/// under it).
pub const VERSION: &str = "nan-at-observation-2";

/// The shapes a float value can have.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    F32,
    F64,
    /// `f32x4`.
    V32,
    /// `f64x2`.
    V64,
}

impl Kind {
    fn bit(self) -> u8 {
        1 << self as u8
    }
}

/// Every kind: zero bits are canonical however they are read.
const ALL: u8 = 0b1111;

/// What the pass knows of a value's bits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Bits {
    /// Bits to keep as they are: loaded, passed in, integer results,
    /// comparison masks. Never canonicalised.
    Kept,
    /// Bits that canonicalising as any kind in the mask leaves unchanged:
    /// constants without a NaN, converted integers, canonicalised values.
    Canonical(u8),
    /// The result of float arithmetic of this kind: a NaN in it may have the
    /// machine's sign and payload.
    Arith(Kind),
}

/// The join of two values that may meet in one place (a local, a
/// `select`); `None` where no single treatment fits both.
fn join(a: Bits, b: Bits) -> Option<Bits> {
    use Bits::{Arith, Canonical, Kept};
    match (a, b) {
        (Arith(k), Arith(l)) => (k == l).then_some(Arith(k)),
        (Arith(k), Canonical(m)) | (Canonical(m), Arith(k)) => (m & k.bit() != 0).then_some(Arith(k)),
        (Arith(_), Kept) | (Kept, Arith(_)) => None,
        (Canonical(m), Canonical(n)) => Some(if m & n == 0 { Kept } else { Canonical(m & n) }),
        (Kept, _) | (_, Kept) => Some(Kept),
    }
}

/// A value on the pass's operand stack: its bits and the index of the
/// operation that pushed it (where a canonicalisation would go).
#[derive(Debug, Clone, Copy)]
struct Val {
    bits: Bits,
    from: usize,
}

const KEPT: Val = Val { bits: Bits::Kept, from: usize::MAX };

/// What the validator says of one operation.
#[derive(Debug, Clone, Copy)]
struct Step {
    /// Operand stack height before it.
    height: u32,
    /// The height of its frame's base: past a branch, an operation may pop
    /// values that are not there (the stack is polymorphic), but never
    /// below this.
    floor: u32,
    pops: u32,
    pushes: u32,
    /// Whether the code can run (the enclosing frame is not past a branch).
    live: bool,
}

/// A function's locals as the analysis sees them.
struct Locals {
    params: u32,
    /// The declared locals: for each run of one type, the index past its
    /// end and whether the type is a float or vector type.
    declared: Vec<(u32, bool)>,
    /// The locals an operation has set.
    touched: Touched,
}

/// The locals set so far: a table by index where the function's body is at
/// least as long as its locals are many (clearing it each pass then costs
/// no more than the pass), a map otherwise (a few bytes can declare 50,000
/// locals).
enum Touched {
    Table(Vec<Option<Local>>),
    Map(HashMap<u32, Local>),
}

impl Touched {
    fn for_function(locals: u32, body_bytes: usize) -> Self {
        if locals as usize <= body_bytes {
            Touched::Table(vec![None; locals as usize])
        } else {
            Touched::Map(HashMap::new())
        }
    }

    fn get(&self, index: u32) -> Option<Local> {
        match self {
            Touched::Table(table) => table.get(index as usize).copied().flatten(),
            Touched::Map(map) => map.get(&index).copied(),
        }
    }

    fn insert(&mut self, index: u32, local: Local) {
        match self {
            Touched::Table(table) => {
                if let Some(slot) = table.get_mut(index as usize) {
                    *slot = Some(local);
                }
            }
            Touched::Map(map) => {
                map.insert(index, local);
            }
        }
    }

    /// Forgets every local but the flagged ones (or all of them), which
    /// restart from their initial bits.
    fn keep_flagged(&mut self, initial: impl Fn(u32) -> Local, forget_flags: bool) {
        let restart = |index: u32, local: Local| {
            (local.canonicalise_on_set && !forget_flags).then(|| Local { canonicalise_on_set: true, ..initial(index) })
        };
        match self {
            Touched::Table(table) => {
                for (index, slot) in table.iter_mut().enumerate() {
                    *slot = slot.and_then(|local| restart(index as u32, local));
                }
            }
            Touched::Map(map) => {
                map.retain(|&index, local| restart(index, *local).map(|again| *local = again).is_some())
            }
        }
    }
}

impl Locals {
    fn get(&self, index: u32) -> Local {
        self.touched.get(index).unwrap_or_else(|| initial(self.params, &self.declared, index))
    }

    /// Back to the start, keeping which locals are canonicalised as they
    /// are set (or forgetting that too).
    fn restart(&mut self, forget_flags: bool) {
        let (params, declared) = (self.params, &self.declared);
        self.touched.keep_flagged(|index| initial(params, declared, index), forget_flags);
    }
}

/// What a local holds before it is set: a parameter, bits to keep; a
/// declared float or vector, zeros.
fn initial(params: u32, declared: &[(u32, bool)], index: u32) -> Local {
    let run = declared.partition_point(|&(end, _)| end <= index);
    let zero = index >= params && declared.get(run).is_some_and(|&(_, float)| float);
    Local { bits: if zero { Bits::Canonical(ALL) } else { Bits::Kept }, canonicalise_on_set: false }
}

#[derive(Debug, Clone, Copy)]
struct Local {
    bits: Bits,
    /// Canonicalise whatever is stored (the local would hold both arithmetic
    /// results and bits to keep).
    canonicalise_on_set: bool,
}

/// Where one function needs canonicalisations: after the operations at
/// these indices, as these kinds.
#[derive(Debug, Default)]
struct Plan {
    marks: Vec<(usize, Kind)>,
    /// The function's locals, parameters included (the scratch locals
    /// follow them).
    locals: u32,
}

/// Runs of the analysis over one function before it settles for
/// canonicalising every arithmetic result where it is made.
const MAX_ROUNDS: usize = 32;

/// The most locals a function may have (WebAssembly's implementation limit,
/// as wasmparser and wasmtime apply it).
const MAX_LOCALS: u32 = 50_000;

/// The locals the inserted sequences need (one `f32`, one `f64`, one
/// `v128`).
const SCRATCH_LOCALS: u32 = 3;

/// The most locals, parameters included, a model's function may have: the
/// pre-check refuses more, so that the rewriting always has room for its
/// own.
pub(crate) const MAX_MODEL_LOCALS: u32 = MAX_LOCALS - SCRATCH_LOCALS;

/// Rewrites `wasm` (a module the pre-check accepted) so that every NaN made
/// by float arithmetic is canonical wherever its bits could be seen.
pub fn canonicalise_nans(wasm: &[u8]) -> Result<Vec<u8>, String> {
    let mut validator = Validator::new_with_features(crate::checks::features());
    let mut plans = Vec::new();
    for payload in Parser::new(0).parse_all(wasm) {
        let payload = payload.map_err(|e| format!("not a valid module: {}", e.message()))?;
        if let ValidPayload::Func(func, body) =
            validator.payload(&payload).map_err(|e| format!("not a valid module: {}", e.message()))?
        {
            let plan = plan(&body, func.into_validator(Default::default()))?;
            if !plan.marks.is_empty() && plan.locals > MAX_MODEL_LOCALS {
                return Err(format!("a function has {} locals; at most {MAX_MODEL_LOCALS} are allowed", plan.locals));
            }
            plans.push(plan);
        }
    }
    let mut rewriter = Rewriter { plans: plans.into_iter() };
    let mut module = wasm_encoder::Module::new();
    rewriter.parse_core_module(&mut module, Parser::new(0), wasm).map_err(|e| format!("rewriting the module: {e}"))?;
    Ok(module.finish())
}

/// Validates one function body, then finds where its values need
/// canonicalising.
fn plan(body: &FunctionBody<'_>, mut v: FuncValidator<ValidatorResources>) -> Result<Plan, String> {
    let invalid = |e: wasmparser::BinaryReaderError| format!("not a valid module: {}", e.message());
    let mut reader = body.get_binary_reader();
    v.read_locals(&mut reader).map_err(invalid)?;
    let params = v
        .type_index_of_function(v.index())
        .and_then(|t| v.sub_type_at(t))
        .and_then(|t| v.sub_type_arity(t))
        .map_or(0, |(params, _)| params);
    // Parameters come from callers (their arithmetic results were
    // canonicalised at the call); declared locals start at zero. Kept as
    // the runs of the declaration, not one entry a local: a few bytes can
    // declare 50,000 of them.
    let mut declared = Vec::new();
    let mut end = params;
    for pair in body.get_locals_reader().map_err(invalid)? {
        let (count, ty) = pair.map_err(invalid)?;
        end = end.saturating_add(count);
        declared.push((end, matches!(ty, ValType::F32 | ValType::F64 | ValType::V128)));
    }
    let count = v.len_locals();
    let locals = Locals { params, declared, touched: Touched::for_function(count, body.range().len()) };
    let mut steps = Vec::new();
    let mut ops = body.get_operators_reader().map_err(invalid)?;
    while !ops.eof() {
        let offset = ops.original_position();
        let op = ops.read().map_err(invalid)?;
        let (pops, pushes) =
            op.operator_arity(&v).ok_or_else(|| format!("not a valid module: an operation at {offset:#x}"))?;
        let frame = v.get_control_frame(0);
        let live = frame.is_some_and(|f| !f.unreachable);
        let floor = frame.map_or(0, |f| f.height as u32);
        let height = v.operand_stack_height();
        v.op(offset, &op).map_err(invalid)?;
        steps.push(Step { height, floor, pops, pushes, live });
    }
    ops.finish().map_err(invalid)?;

    let mut analysis = Analysis { steps, locals, marks: Vec::new(), eager: false };
    let mut settled = false;
    for _ in 0..MAX_ROUNDS {
        match analysis.run(body).map_err(invalid)? {
            Round::Settled => {
                settled = true;
                break;
            }
            Round::Changed => {}
            Round::Flagged => analysis.locals.restart(false),
        }
    }
    if !settled {
        // Too many rounds (a function built to make the analysis crawl):
        // canonicalise every arithmetic result where it is made, as
        // Cranelift would.
        analysis.eager = true;
        analysis.locals.restart(true);
        analysis.run(body).map_err(invalid)?;
    }
    let mut marks: Vec<(usize, Kind)> =
        analysis.marks.iter().enumerate().filter_map(|(i, m)| m.map(|k| (i, k))).collect();
    marks.sort_unstable_by_key(|m| m.0);
    Ok(Plan { marks, locals: count })
}

enum Round {
    /// Nothing changed: the marks are final.
    Settled,
    /// A local's bits grew: run again.
    Changed,
    /// A local must now be canonicalised as it is set: start again.
    Flagged,
}

struct Analysis {
    steps: Vec<Step>,
    locals: Locals,
    marks: Vec<Option<Kind>>,
    /// Canonicalise every arithmetic result where it is made.
    eager: bool,
}

impl Analysis {
    /// One pass over the function's operations.
    fn run(&mut self, body: &FunctionBody<'_>) -> wasmparser::Result<Round> {
        use Bits::{Arith, Canonical, Kept};
        use Kind::{F32, F64, V32, V64};
        self.marks.clear();
        self.marks.resize(self.steps.len(), None);
        let mut stack: Vec<Val> = Vec::new();
        let mut args: Vec<Val> = Vec::new();
        let mut round = Round::Settled;
        let mut ops = body.get_operators_reader()?;
        let mut i = 0;
        while !ops.eof() {
            let op = ops.read()?;
            let step = self.steps[i];
            stack.resize(step.height as usize, KEPT);
            // In dead code an operation may pop more than its frame holds:
            // it takes what is there, and the rest are values of no concern.
            let base = stack.len().saturating_sub(step.pops as usize).max(step.floor as usize).min(stack.len());
            args.clear();
            args.resize(step.pops as usize - (stack.len() - base).min(step.pops as usize), KEPT);
            args.extend(stack.drain(base..));
            let mut cx = Cx { marks: &mut self.marks, live: step.live, at: i };
            let out: Option<Val> = match op {
                // Float arithmetic: the result's NaNs are the machine's.
                Operator::F32Add
                | Operator::F32Sub
                | Operator::F32Mul
                | Operator::F32Div
                | Operator::F32Min
                | Operator::F32Max
                | Operator::F32Sqrt
                | Operator::F32Ceil
                | Operator::F32Floor
                | Operator::F32Trunc
                | Operator::F32Nearest => cx.arith(&mut args, F32, F32),
                Operator::F64Add
                | Operator::F64Sub
                | Operator::F64Mul
                | Operator::F64Div
                | Operator::F64Min
                | Operator::F64Max
                | Operator::F64Sqrt
                | Operator::F64Ceil
                | Operator::F64Floor
                | Operator::F64Trunc
                | Operator::F64Nearest => cx.arith(&mut args, F64, F64),
                Operator::F32DemoteF64 => cx.arith(&mut args, F64, F32),
                Operator::F64PromoteF32 => cx.arith(&mut args, F32, F64),
                Operator::F32x4Add
                | Operator::F32x4Sub
                | Operator::F32x4Mul
                | Operator::F32x4Div
                | Operator::F32x4Min
                | Operator::F32x4Max
                | Operator::F32x4Sqrt
                | Operator::F32x4Ceil
                | Operator::F32x4Floor
                | Operator::F32x4Trunc
                | Operator::F32x4Nearest => cx.arith(&mut args, V32, V32),
                Operator::F64x2Add
                | Operator::F64x2Sub
                | Operator::F64x2Mul
                | Operator::F64x2Div
                | Operator::F64x2Min
                | Operator::F64x2Max
                | Operator::F64x2Sqrt
                | Operator::F64x2Ceil
                | Operator::F64x2Floor
                | Operator::F64x2Trunc
                | Operator::F64x2Nearest => cx.arith(&mut args, V64, V64),
                Operator::F32x4DemoteF64x2Zero => cx.arith(&mut args, V64, V32),
                Operator::F64x2PromoteLowF32x4 => cx.arith(&mut args, V32, V64),

                // Reads floats, gives no float bits: comparisons (a NaN is
                // unordered whatever its bits), conversions to integers (a
                // NaN traps or saturates to 0 whatever its bits).
                Operator::F32Eq
                | Operator::F32Ne
                | Operator::F32Lt
                | Operator::F32Gt
                | Operator::F32Le
                | Operator::F32Ge
                | Operator::I32TruncF32S
                | Operator::I32TruncF32U
                | Operator::I64TruncF32S
                | Operator::I64TruncF32U
                | Operator::I32TruncSatF32S
                | Operator::I32TruncSatF32U
                | Operator::I64TruncSatF32S
                | Operator::I64TruncSatF32U => cx.read(&mut args, F32),
                Operator::F64Eq
                | Operator::F64Ne
                | Operator::F64Lt
                | Operator::F64Gt
                | Operator::F64Le
                | Operator::F64Ge
                | Operator::I32TruncF64S
                | Operator::I32TruncF64U
                | Operator::I64TruncF64S
                | Operator::I64TruncF64U
                | Operator::I32TruncSatF64S
                | Operator::I32TruncSatF64U
                | Operator::I64TruncSatF64S
                | Operator::I64TruncSatF64U => cx.read(&mut args, F64),
                Operator::F32x4Eq
                | Operator::F32x4Ne
                | Operator::F32x4Lt
                | Operator::F32x4Gt
                | Operator::F32x4Le
                | Operator::F32x4Ge
                | Operator::I32x4TruncSatF32x4S
                | Operator::I32x4TruncSatF32x4U => cx.read(&mut args, V32),
                Operator::F64x2Eq
                | Operator::F64x2Ne
                | Operator::F64x2Lt
                | Operator::F64x2Gt
                | Operator::F64x2Le
                | Operator::F64x2Ge
                | Operator::I32x4TruncSatF64x2SZero
                | Operator::I32x4TruncSatF64x2UZero => cx.read(&mut args, V64),

                // Integers converted: never a NaN. (The integers' bits are
                // read: a float vector given as one is canonicalised.)
                Operator::F32ConvertI32S
                | Operator::F32ConvertI32U
                | Operator::F32ConvertI64S
                | Operator::F32ConvertI64U => Some(cx.converted(&mut args, F32)),
                Operator::F64ConvertI32S
                | Operator::F64ConvertI32U
                | Operator::F64ConvertI64S
                | Operator::F64ConvertI64U => Some(cx.converted(&mut args, F64)),
                Operator::F32x4ConvertI32x4S | Operator::F32x4ConvertI32x4U => Some(cx.converted(&mut args, V32)),
                Operator::F64x2ConvertLowI32x4S | Operator::F64x2ConvertLowI32x4U => Some(cx.converted(&mut args, V64)),

                Operator::F32Const { value } => Some(cx.made(if lane_is_canonical(u64::from(value.bits()), F32) {
                    Canonical(F32.bit())
                } else {
                    Kept
                })),
                Operator::F64Const { value } => {
                    Some(cx.made(if lane_is_canonical(value.bits(), F64) { Canonical(F64.bit()) } else { Kept }))
                }
                Operator::V128Const { value } => {
                    let b = value.i128() as u128;
                    let mut mask = 0;
                    if (0..4).all(|l| lane_is_canonical(((b >> (32 * l)) as u32).into(), F32)) {
                        mask |= V32.bit();
                    }
                    if (0..2).all(|l| lane_is_canonical((b >> (64 * l)) as u64, F64)) {
                        mask |= V64.bit();
                    }
                    Some(cx.made(if mask == 0 { Kept } else { Canonical(mask) }))
                }

                // Lanes moved, whole: a NaN's bits go along unchanged.
                Operator::F32x4Splat => cx.lanes(&mut args, &[(F32, V32)], V32),
                Operator::F64x2Splat => cx.lanes(&mut args, &[(F64, V64)], V64),
                Operator::F32x4ExtractLane { .. } => cx.lanes(&mut args, &[(V32, F32)], F32),
                Operator::F64x2ExtractLane { .. } => cx.lanes(&mut args, &[(V64, F64)], F64),
                Operator::F32x4ReplaceLane { .. } => cx.lanes(&mut args, &[(V32, V32), (F32, V32)], V32),
                Operator::F64x2ReplaceLane { .. } => cx.lanes(&mut args, &[(V64, V64), (F64, V64)], V64),
                Operator::F32x4PMin | Operator::F32x4PMax => cx.lanes(&mut args, &[(V32, V32), (V32, V32)], V32),
                Operator::F64x2PMin | Operator::F64x2PMax => cx.lanes(&mut args, &[(V64, V64), (V64, V64)], V64),
                Operator::Select | Operator::TypedSelect { .. } => {
                    let (a, b) = (args[0], args[1]);
                    let bits = match join(a.bits, b.bits) {
                        Some(bits) => bits,
                        None => {
                            cx.observe(&mut args[0]);
                            cx.observe(&mut args[1]);
                            join(args[0].bits, args[1].bits).unwrap_or(Kept)
                        }
                    };
                    Some(cx.made(bits))
                }

                Operator::LocalGet { local_index } => Some(cx.made(self.locals.get(local_index).bits)),
                Operator::LocalSet { local_index } | Operator::LocalTee { local_index } => {
                    let tee = matches!(op, Operator::LocalTee { .. });
                    let value = &mut args[0];
                    let mut local = self.locals.get(local_index);
                    if local.canonicalise_on_set {
                        cx.observe(value);
                    }
                    match join(local.bits, value.bits) {
                        Some(bits) if bits == local.bits => {}
                        Some(bits) => {
                            local.bits = bits;
                            if matches!(round, Round::Settled) {
                                round = Round::Changed;
                            }
                        }
                        None => {
                            local.canonicalise_on_set = true;
                            round = Round::Flagged;
                        }
                    }
                    self.locals.touched.insert(local_index, local);
                    let value = *value;
                    tee.then(|| cx.made(value.bits))
                }
                Operator::Drop | Operator::Nop => None,

                // Anything else may show a NaN's bits (stores, calls,
                // returns, branches, globals, reinterprets, abs, neg,
                // copysign, integer and bitwise SIMD): canonicalise first.
                _ => {
                    for a in &mut args {
                        cx.observe(a);
                    }
                    None
                }
            };
            let mut out = out.unwrap_or(KEPT);
            if self.eager
                && let Arith(k) = out.bits
            {
                // Canonicalised where it is made, as Cranelift does.
                self.marks[i] = Some(k);
                out.bits = Canonical(k.bit());
            }
            for n in 0..step.pushes as usize {
                stack.push(if n == 0 { out } else { KEPT });
            }
            i += 1;
        }
        Ok(round)
    }
}

/// The pass's view of one operation being followed.
struct Cx<'a> {
    marks: &'a mut Vec<Option<Kind>>,
    live: bool,
    at: usize,
}

impl Cx<'_> {
    /// A value this operation pushes.
    fn made(&self, bits: Bits) -> Val {
        Val { bits, from: self.at }
    }

    /// `v`'s bits are about to be seen: canonicalise it where it was made.
    fn observe(&mut self, v: &mut Val) {
        if let Bits::Arith(k) = v.bits {
            // Dead code never runs (and its stack may be untyped).
            if self.live && v.from < self.marks.len() {
                self.marks[v.from] = Some(k);
            }
            v.bits = Bits::Canonical(k.bit());
        }
    }

    /// Integers converted to floats of `kind`.
    fn converted(&mut self, args: &mut [Val], kind: Kind) -> Val {
        for a in args {
            self.observe(a);
        }
        self.made(Bits::Canonical(kind.bit()))
    }

    /// Arithmetic on operands of kind `input`, with a result of kind `output`.
    fn arith(&mut self, args: &mut [Val], input: Kind, output: Kind) -> Option<Val> {
        self.read(args, input);
        Some(self.made(Bits::Arith(output)))
    }

    /// Reads operands as `kind`; a vector made as the other shape is
    /// canonicalised first (its bits are read across lanes).
    fn read(&mut self, args: &mut [Val], kind: Kind) -> Option<Val> {
        for a in args {
            if matches!(a.bits, Bits::Arith(k) if k != kind) {
                self.observe(a);
            }
        }
        None
    }

    /// Moves whole lanes: each operand, read as the first kind of its pair,
    /// gives lanes of the second; the result joins them.
    fn lanes(&mut self, args: &mut [Val], views: &[(Kind, Kind)], output: Kind) -> Option<Val> {
        let view = |v: Val, (from, to): (Kind, Kind)| match v.bits {
            Bits::Arith(k) if k == from => Bits::Arith(to),
            Bits::Canonical(m) if m & from.bit() != 0 => Bits::Canonical(to.bit()),
            _ => Bits::Kept,
        };
        for (a, &(from, _)) in args.iter_mut().zip(views) {
            if matches!(a.bits, Bits::Arith(k) if k != from) {
                self.observe(a);
            }
        }
        let mut joined = Some(Bits::Canonical(output.bit()));
        for (a, &pair) in args.iter().zip(views) {
            joined = joined.and_then(|j| join(j, view(*a, pair)));
        }
        let bits = match joined {
            Some(bits) => bits,
            None => {
                for a in args.iter_mut() {
                    self.observe(a);
                }
                args.iter()
                    .zip(views)
                    .fold(Bits::Canonical(output.bit()), |j, (a, &pair)| join(j, view(*a, pair)).unwrap_or(Bits::Kept))
            }
        };
        Some(self.made(bits))
    }
}

/// Whether canonicalising `bits` (one lane of `kind`) leaves it unchanged:
/// not a NaN, or the canonical NaN.
fn lane_is_canonical(bits: u64, kind: Kind) -> bool {
    match kind {
        Kind::F32 | Kind::V32 => {
            let b = bits as u32;
            b & 0x7f80_0000 != 0x7f80_0000 || b & 0x007f_ffff == 0 || b == CANONICAL_F32
        }
        Kind::F64 | Kind::V64 => {
            bits & 0x7ff0_0000_0000_0000 != 0x7ff0_0000_0000_0000
                || bits & 0x000f_ffff_ffff_ffff == 0
                || bits == CANONICAL_F64
        }
    }
}

const CANONICAL_F32: u32 = 0x7fc0_0000;
const CANONICAL_F64: u64 = 0x7ff8_0000_0000_0000;

/// Copies the module, inserting each function's canonicalisations.
struct Rewriter {
    plans: std::vec::IntoIter<Plan>,
}

impl Reencode for Rewriter {
    type Error = String;

    fn parse_custom_section(
        &mut self,
        module: &mut wasm_encoder::Module,
        section: wasmparser::CustomSectionReader<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        if section.name().starts_with(".debug_") {
            return Ok(()); // its code offsets are the original module's
        }
        reencode::utils::parse_custom_section(self, module, section)
    }

    fn parse_function_body(
        &mut self,
        code: &mut wasm_encoder::CodeSection,
        func: FunctionBody<'_>,
    ) -> Result<(), reencode::Error<Self::Error>> {
        let plan = self.plans.next().ok_or_else(|| reencode::Error::UserError("a function without a plan".into()))?;
        let mut locals = Vec::new();
        for pair in func.get_locals_reader()? {
            let (count, ty) = pair?;
            locals.push((count, self.val_type(ty)?));
        }
        if !plan.marks.is_empty() {
            use wasm_encoder::ValType as V;
            locals.extend([(1, V::F32), (1, V::F64), (1, V::V128)]);
        }
        let (f32_tmp, f64_tmp, v128_tmp) = (plan.locals, plan.locals + 1, plan.locals + 2);
        let mut f = wasm_encoder::Function::new(locals);
        let mut marks = plan.marks.iter().peekable();
        let mut ops = func.get_operators_reader()?;
        let mut i = 0;
        while !ops.eof() {
            let op = ops.read()?;
            f.instruction(&self.instruction(op)?);
            if let Some(&(_, kind)) = marks.next_if(|m| m.0 == i) {
                // `x == x ? x : NaN`, as Cranelift canonicalises.
                let mut s = f.instructions();
                let tmp = match kind {
                    Kind::F32 => f32_tmp,
                    Kind::F64 => f64_tmp,
                    Kind::V32 | Kind::V64 => v128_tmp,
                };
                s.local_tee(tmp);
                match kind {
                    Kind::F32 => s.f32_const(f32::from_bits(CANONICAL_F32).into()),
                    Kind::F64 => s.f64_const(f64::from_bits(CANONICAL_F64).into()),
                    Kind::V32 => s.v128_const(u128::from(CANONICAL_F32).wrapping_mul(LANES_4) as i128),
                    Kind::V64 => s.v128_const(u128::from(CANONICAL_F64).wrapping_mul(LANES_2) as i128),
                };
                s.local_get(tmp).local_get(tmp);
                match kind {
                    Kind::F32 => s.f32_eq().select(),
                    Kind::F64 => s.f64_eq().select(),
                    Kind::V32 => s.f32x4_eq().v128_bitselect(),
                    Kind::V64 => s.f64x2_eq().v128_bitselect(),
                };
            }
            i += 1;
        }
        code.function(&f);
        Ok(())
    }
}

/// Multipliers that repeat a 32-bit (64-bit) lane four (two) times.
const LANES_4: u128 = 1 | 1 << 32 | 1 << 64 | 1 << 96;
const LANES_2: u128 = 1 | 1 << 64;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_keep_what_must_be_kept() {
        use Bits::{Arith, Canonical, Kept};
        assert_eq!(join(Arith(Kind::V32), Canonical(ALL)), Some(Arith(Kind::V32)));
        assert_eq!(join(Arith(Kind::V32), Canonical(Kind::V64.bit())), None);
        assert_eq!(join(Arith(Kind::V32), Arith(Kind::V64)), None);
        assert_eq!(join(Arith(Kind::F32), Kept), None);
        assert_eq!(join(Canonical(Kind::V32.bit()), Canonical(Kind::V64.bit())), Some(Kept));
        assert_eq!(join(Canonical(ALL), Kept), Some(Kept));
    }

    #[test]
    fn only_non_nans_and_the_canonical_nan_are_canonical() {
        for (bits, canonical) in
            [(0x3f80_0000, true), (0x7f80_0000, true), (0x7fc0_0000, true), (0xffc0_0000, false), (0x7fc0_0001, false)]
        {
            assert_eq!(lane_is_canonical(bits, Kind::F32), canonical, "{bits:#x}");
        }
        assert!(lane_is_canonical(CANONICAL_F64, Kind::F64));
        assert!(!lane_is_canonical(0xfff8_0000_0000_0000, Kind::F64));
        assert_eq!(u128::from(CANONICAL_F32).wrapping_mul(LANES_4), 0x7fc00000_7fc00000_7fc00000_7fc00000);
    }
}
