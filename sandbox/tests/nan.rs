//! NaNs canonicalised where they can be seen (`gaic_sandbox::nan`) give the
//! very bits that Cranelift's canonicalisation after every float operation
//! gives: each module here runs twice, as it is on an engine that
//! canonicalises, and rewritten on one that does not (the sandbox's), and
//! every byte of memory, every global and the result must agree.
//!
//! The inputs hold NaNs with payloads and signs, and the functions make
//! fresh NaNs (`0 × ∞`, `∞ − ∞`, `√−1`): on x86 those come out as
//! `0xffc00000`, not canonical, so a canonicalisation the pass missed shows
//! as a difference.

use gaic_sandbox::nan::canonicalise_nans;
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use wasm_encoder::{
    BlockType, CodeSection, ConstExpr, ExportKind, ExportSection, Function, FunctionSection, GlobalSection, GlobalType,
    InstructionSink, MemArg, MemorySection, MemoryType, Module, TypeSection, ValType,
};
use wasmtime::{Config, Engine, Instance, Store, Val};

/// Where the inputs lie, and how many bytes.
const INPUT: u32 = 0;
const INPUT_BYTES: u32 = 512;
/// Where results are stored: 64 slots of 16 bytes.
const OUTPUT: u32 = 1024;
const SLOTS: u32 = 64;

/// Runs `wasm`'s exported `run` (no parameters) on both engines, memory
/// prefilled with `input`; panics on the first difference.
fn same_bits(wasm: &[u8], input: &[u8], what: &str) {
    let rewritten = canonicalise_nans(wasm).unwrap_or_else(|e| panic!("{what}: {e}"));
    let a = run(wasm, true, input);
    let b = run(&rewritten, false, input);
    assert_eq!(a.0, b.0, "{what}: the results differ");
    assert_eq!(a.1, b.1, "{what}: the globals differ");
    if let Some(at) = a.2.iter().zip(&b.2).position(|(x, y)| x != y) {
        let word = |m: &[u8]| u32::from_le_bytes(m[at & !3..(at & !3) + 4].try_into().unwrap());
        panic!(
            "{what}: memory differs at byte {at}: {:#010x} (canonicalised by the engine) against {:#010x} (rewritten)",
            word(&a.2),
            word(&b.2)
        );
    }
}

/// (result bits, global bits, memory) after one call of `run`.
fn run(wasm: &[u8], engine_canonicalises: bool, input: &[u8]) -> (Vec<u128>, Vec<u128>, Vec<u8>) {
    let mut config = Config::new();
    config.cranelift_nan_canonicalization(engine_canonicalises);
    let engine = Engine::new(&config).unwrap();
    let module = wasmtime::Module::new(&engine, wasm).unwrap();
    let mut store = Store::new(&engine, ());
    let instance = Instance::new(&mut store, &module, &[]).unwrap();
    let memory = instance.get_memory(&mut store, "memory").unwrap();
    memory.data_mut(&mut store)[INPUT as usize..INPUT as usize + input.len()].copy_from_slice(input);
    let func = instance.get_func(&mut store, "run").unwrap();
    let mut results = vec![Val::I32(0); func.ty(&store).results().len()];
    func.call(&mut store, &[], &mut results).unwrap();
    let bits = |v: &Val| match v {
        Val::I32(x) => *x as u32 as u128,
        Val::I64(x) => *x as u64 as u128,
        Val::F32(x) => u128::from(*x),
        Val::F64(x) => u128::from(*x),
        Val::V128(x) => x.as_u128(),
        _ => 0,
    };
    let results = results.iter().map(bits).collect();
    let mut globals = Vec::new();
    for name in ["g32", "g64", "gv"] {
        if let Some(g) = instance.get_global(&mut store, name) {
            globals.push(bits(&g.get(&mut store)));
        }
    }
    (results, globals, memory.data(&store).to_vec())
}

/// Input words: NaNs with payloads and either sign, infinities, zeros,
/// ordinary numbers, and high words of `f64` NaNs and infinities.
fn input(rng: &mut StdRng) -> Vec<u8> {
    const WORDS: [u32; 16] = [
        0x7fa0_0001, // a signalling NaN with a payload
        0xffc0_0000, // x86's default NaN
        0x7fc0_0000, // the canonical NaN
        0xff80_0001,
        0x7fc0_1234,
        0x7f80_0000, // +∞
        0xff80_0000, // −∞
        0x0000_0000,
        0x8000_0000,
        0x3f80_0000, // 1
        0xbfc0_0000, // −1.5
        0x0000_0001, // a subnormal
        0x7ff8_0000, // f64: canonical NaN's high word
        0xfff0_0000, // f64: −∞'s high word
        0x7ff0_0001, // f64: a signalling NaN's high word
        0x4000_0000, // 2 (f32); 2 (f64)'s high word
    ];
    (0..INPUT_BYTES / 4)
        .flat_map(|_| {
            let w = if rng.random_bool(0.8) { WORDS[rng.random_range(0..WORDS.len())] } else { rng.random() };
            w.to_le_bytes()
        })
        .collect()
}

/// A module with one memory, three exported mutable globals (`g32`, `g64`,
/// `gv`), helper functions of one `f32` (0), `f64` (1) and `v128` (2), and
/// `run` (3), whose body (ended) and result type are given.
fn module(run: &Function, result: Option<ValType>) -> Vec<u8> {
    let mut types = TypeSection::new();
    types.ty().function([ValType::F32], [ValType::F32]);
    types.ty().function([ValType::F64], [ValType::F64]);
    types.ty().function([ValType::V128], [ValType::V128]);
    types.ty().function([], result);
    // Block types for the generator: two values in, two out; a vector in
    // and out (a loop's parameter).
    types.ty().function([ValType::F32, ValType::F64], [ValType::F64, ValType::F32]);
    types.ty().function([ValType::V128], [ValType::V128]);
    let mut functions = FunctionSection::new();
    for t in 0..4 {
        functions.function(t);
    }
    let mut memories = MemorySection::new();
    memories.memory(MemoryType { minimum: 1, maximum: None, memory64: false, shared: false, page_size_log2: None });
    let mut globals = GlobalSection::new();
    let global = |ty| GlobalType { val_type: ty, mutable: true, shared: false };
    globals.global(global(ValType::F32), &ConstExpr::f32_const(0.0.into()));
    globals.global(global(ValType::F64), &ConstExpr::f64_const(0.0.into()));
    globals.global(global(ValType::V128), &ConstExpr::v128_const(0));
    let mut exports = ExportSection::new();
    exports.export("memory", ExportKind::Memory, 0);
    exports.export("run", ExportKind::Func, 3);
    for (i, name) in ["g32", "g64", "gv"].iter().enumerate() {
        exports.export(name, ExportKind::Global, i as u32);
    }
    let mut code = CodeSection::new();
    // The helpers do arithmetic on their parameter and return it: a NaN
    // made here crosses a return, one passed in crosses a call.
    let no_locals = || Function::new(Vec::<(u32, ValType)>::new());
    let mut id = no_locals();
    id.instructions().local_get(0).local_get(0).f32_mul().end();
    code.function(&id);
    let mut id = no_locals();
    id.instructions().local_get(0).f64_const(1.0.into()).f64_mul().end();
    code.function(&id);
    let mut id = no_locals();
    id.instructions().local_get(0).local_get(0).f32x4_sub().end();
    code.function(&id);
    code.function(run);
    let mut m = Module::new();
    m.section(&types).section(&functions).section(&memories).section(&globals).section(&exports).section(&code);
    m.finish()
}

fn mem(offset: u32) -> MemArg {
    MemArg { offset: u64::from(offset), align: 0, memory_index: 0 }
}

/// The value types the generator builds expressions of.
#[derive(Clone, Copy, PartialEq, Debug)]
enum Ty {
    F32,
    F64,
    V128,
    I32,
}

/// Locals of `run` built by [`Gen`]: three of each float type, then the
/// counters of two loops and of loops with a parameter.
const GEN_LOCALS: [(u32, ValType); 4] = [(3, ValType::F32), (3, ValType::F64), (3, ValType::V128), (3, ValType::I32)];
const COUNTER: u32 = 9;
const LOOP_PARAM_COUNTER: u32 = 11;

/// Generates random valid code over floats and vectors: expressions of
/// arithmetic, lane moves, conversions, selects, calls and integer SIMD on
/// float results, in statements that set locals and globals, store, branch
/// with values and loop.
struct Gen<'a> {
    rng: StdRng,
    sink: InstructionSink<'a>,
    loops: u32,
}

impl Gen<'_> {
    fn local(&mut self, ty: Ty) -> u32 {
        let base = match ty {
            Ty::F32 => 0,
            Ty::F64 => 3,
            Ty::V128 => 6,
            Ty::I32 => return COUNTER,
        };
        base + self.rng.random_range(0..3)
    }

    fn load(&mut self, ty: Ty) {
        let at = INPUT + 4 * self.rng.random_range(0..INPUT_BYTES / 4 - 4);
        self.sink.i32_const(0);
        match ty {
            Ty::F32 => self.sink.f32_load(mem(at)),
            Ty::F64 => self.sink.f64_load(mem(at)),
            Ty::V128 => match self.rng.random_range(0..3) {
                0 => self.sink.v128_load(mem(at)),
                1 => self.sink.v128_load32_splat(mem(at)),
                _ => self.sink.v128_load64_splat(mem(at)),
            },
            Ty::I32 => self.sink.i32_load(mem(at)),
        };
    }

    fn expr(&mut self, ty: Ty, depth: u32) {
        if depth == 0 || self.rng.random_bool(0.2) {
            return match self.rng.random_range(0..4) {
                0 => self.load(ty),
                1 if ty != Ty::I32 => {
                    let l = self.local(ty);
                    self.sink.local_get(l);
                }
                2 => {
                    let w: u32 = [0x7fc0_0000, 0xffc0_0000, 0x3f80_0000, 0, 0x7f80_0000][self.rng.random_range(0..5)];
                    match ty {
                        Ty::F32 => self.sink.f32_const(f32::from_bits(w).into()),
                        Ty::F64 => self.sink.f64_const(f64::from_bits(u64::from(w) << 32).into()),
                        Ty::V128 => self.sink.v128_const(i128::from(w) * 0x1_0000_0001),
                        Ty::I32 => self.sink.i32_const(w as i32),
                    };
                }
                _ => self.load(ty),
            };
        }
        let d = depth - 1;
        match ty {
            Ty::F32 => match self.rng.random_range(0..15) {
                0..=3 => {
                    self.expr(Ty::F32, d);
                    self.expr(Ty::F32, d);
                    match self.rng.random_range(0..7) {
                        0 => self.sink.f32_add(),
                        1 => self.sink.f32_sub(),
                        2 => self.sink.f32_mul(),
                        3 => self.sink.f32_div(),
                        4 => self.sink.f32_min(),
                        5 => self.sink.f32_max(),
                        _ => self.sink.f32_copysign(),
                    };
                }
                4 => {
                    self.expr(Ty::F32, d);
                    match self.rng.random_range(0..7) {
                        0 => self.sink.f32_sqrt(),
                        1 => self.sink.f32_ceil(),
                        2 => self.sink.f32_floor(),
                        3 => self.sink.f32_trunc(),
                        4 => self.sink.f32_nearest(),
                        5 => self.sink.f32_abs(),
                        _ => self.sink.f32_neg(),
                    };
                }
                5 => {
                    self.expr(Ty::F64, d);
                    self.sink.f32_demote_f64();
                }
                6 => {
                    self.expr(Ty::V128, d);
                    self.sink.f32x4_extract_lane(self.rng.random_range(0..4));
                }
                7 => {
                    self.expr(Ty::F32, d);
                    self.expr(Ty::F32, d);
                    self.expr(Ty::I32, d);
                    self.sink.select();
                }
                8 => {
                    self.expr(Ty::F32, d);
                    self.sink.call(0);
                }
                9 => {
                    self.expr(Ty::F32, d);
                    self.sink.i32_reinterpret_f32().f32_reinterpret_i32();
                }
                10 => {
                    self.expr(Ty::I32, d);
                    self.sink.f32_convert_i32_s();
                    self.expr(Ty::F64, d);
                    self.sink.i64_trunc_sat_f64_u().f32_convert_i64_u().f32_sub();
                }
                11 => {
                    // A block whose value leaves by a branch or falls through.
                    self.sink.block(BlockType::Result(ValType::F32));
                    self.expr(Ty::F32, d);
                    self.expr(Ty::I32, d);
                    self.sink.br_if(0).drop();
                    self.expr(Ty::F32, d);
                    self.sink.end();
                }
                12 => {
                    self.expr(Ty::I32, d);
                    self.sink.if_(BlockType::Result(ValType::F32));
                    self.expr(Ty::F32, d);
                    self.sink.else_();
                    self.expr(Ty::F32, d);
                    self.sink.end();
                }
                13 => {
                    // A value carried by `br_table` to one of two blocks.
                    self.sink.block(BlockType::Result(ValType::F32)).block(BlockType::Result(ValType::F32));
                    self.expr(Ty::F32, d);
                    self.expr(Ty::I32, d);
                    self.sink.br_table([0, 1], 1).end().f32_const(2.0.into()).f32_mul().end();
                }
                _ => {
                    // Two values into a block and two out, swapped.
                    self.expr(Ty::F32, d);
                    self.expr(Ty::F64, d);
                    self.sink
                        .block(BlockType::FunctionType(4))
                        .f64_const(1.0.into())
                        .f64_add()
                        .local_set(5)
                        .f32_const(3.0.into())
                        .f32_mul()
                        .local_set(2)
                        .local_get(5)
                        .local_get(2)
                        .end()
                        .local_set(2)
                        .f32_demote_f64()
                        .local_get(2)
                        .f32_add();
                }
            },
            Ty::F64 => match self.rng.random_range(0..8) {
                0..=2 => {
                    self.expr(Ty::F64, d);
                    self.expr(Ty::F64, d);
                    match self.rng.random_range(0..7) {
                        0 => self.sink.f64_add(),
                        1 => self.sink.f64_mul(),
                        2 => self.sink.f64_div(),
                        3 => self.sink.f64_min(),
                        4 => self.sink.f64_sub(),
                        5 => self.sink.f64_max(),
                        _ => self.sink.f64_copysign(),
                    };
                }
                3 => {
                    self.expr(Ty::F64, d);
                    match self.rng.random_range(0..7) {
                        0 => self.sink.f64_sqrt(),
                        1 => self.sink.f64_nearest(),
                        2 => self.sink.f64_neg(),
                        3 => self.sink.f64_ceil(),
                        4 => self.sink.f64_floor(),
                        5 => self.sink.f64_trunc(),
                        _ => self.sink.f64_abs(),
                    };
                }
                4 => {
                    self.expr(Ty::F32, d);
                    self.sink.f64_promote_f32();
                }
                5 => {
                    self.expr(Ty::V128, d);
                    self.sink.f64x2_extract_lane(self.rng.random_range(0..2));
                }
                6 => {
                    self.expr(Ty::F64, d);
                    self.sink.call(1);
                }
                _ => {
                    self.expr(Ty::F64, d);
                    self.expr(Ty::F64, d);
                    self.expr(Ty::I32, d);
                    self.sink.select();
                }
            },
            Ty::V128 => match self.rng.random_range(0..17) {
                0..=3 => {
                    self.expr(Ty::V128, d);
                    self.expr(Ty::V128, d);
                    match self.rng.random_range(0..16) {
                        0 => self.sink.f32x4_add(),
                        1 => self.sink.f32x4_mul(),
                        2 => self.sink.f32x4_div(),
                        3 => self.sink.f32x4_min(),
                        4 => self.sink.f32x4_pmax(),
                        5 => self.sink.f64x2_add(),
                        6 => self.sink.f64x2_mul(),
                        7 => self.sink.f64x2_max(),
                        8 => self.sink.f64x2_pmin(),
                        9 => self.sink.f32x4_max(),
                        10 => self.sink.f32x4_pmin(),
                        11 => self.sink.f64x2_sub(),
                        12 => self.sink.f64x2_div(),
                        13 => self.sink.f64x2_min(),
                        14 => self.sink.f64x2_pmax(),
                        _ => self.sink.f32x4_sub(),
                    };
                }
                4 => {
                    self.expr(Ty::V128, d);
                    match self.rng.random_range(0..20) {
                        0 => self.sink.f32x4_sqrt(),
                        1 => self.sink.f32x4_ceil(),
                        2 => self.sink.f64x2_floor(),
                        3 => self.sink.f32x4_abs(),
                        4 => self.sink.f64x2_neg(),
                        5 => self.sink.f32x4_demote_f64x2_zero(),
                        6 => self.sink.f64x2_promote_low_f32x4(),
                        7 => self.sink.f32x4_floor(),
                        8 => self.sink.f32x4_trunc(),
                        9 => self.sink.f32x4_neg(),
                        10 => self.sink.f64x2_sqrt(),
                        11 => self.sink.f64x2_ceil(),
                        12 => self.sink.f64x2_trunc(),
                        13 => self.sink.f64x2_nearest(),
                        14 => self.sink.f64x2_abs(),
                        15 => self.sink.f32x4_convert_i32x4_u(),
                        16 => self.sink.f64x2_convert_low_i32x4_s(),
                        17 => self.sink.f64x2_convert_low_i32x4_u(),
                        18 => self.sink.i32x4_trunc_sat_f64x2_s_zero(),
                        _ => self.sink.f32x4_nearest(),
                    };
                }
                5 => {
                    self.expr(Ty::F32, d);
                    self.sink.f32x4_splat();
                }
                6 => {
                    self.expr(Ty::F64, d);
                    self.sink.f64x2_splat();
                }
                7 => {
                    self.expr(Ty::V128, d);
                    self.expr(Ty::F32, d);
                    self.sink.f32x4_replace_lane(self.rng.random_range(0..4));
                }
                8 => {
                    // Integer and bitwise operations read a float vector's bits.
                    self.expr(Ty::V128, d);
                    self.expr(Ty::V128, d);
                    match self.rng.random_range(0..4) {
                        0 => self.sink.i32x4_add(),
                        1 => self.sink.v128_xor(),
                        2 => self.sink.i8x16_shuffle([3, 2, 1, 0, 7, 6, 5, 4, 16, 17, 18, 19, 31, 30, 29, 28]),
                        _ => self.sink.i64x2_mul(),
                    };
                }
                9 => {
                    self.expr(Ty::V128, d);
                    self.expr(Ty::V128, d);
                    self.expr(Ty::V128, d);
                    self.expr(Ty::V128, d);
                    self.sink.f32x4_lt().v128_bitselect();
                }
                10 => {
                    self.expr(Ty::V128, d);
                    self.sink.call(2);
                }
                11 => {
                    self.expr(Ty::V128, d);
                    self.expr(Ty::V128, d);
                    self.expr(Ty::I32, d);
                    self.sink.select();
                }
                12 => {
                    self.expr(Ty::V128, d);
                    self.sink.f32x4_convert_i32x4_s();
                }
                13 => {
                    self.expr(Ty::F64, d);
                    self.sink.f64x2_splat();
                    self.expr(Ty::F64, d);
                    self.sink.f64x2_replace_lane(1);
                }
                14 => {
                    self.expr(Ty::V128, d);
                    self.expr(Ty::V128, d);
                    self.expr(Ty::V128, d);
                    self.sink.f32x4_eq();
                    self.sink.v128_and();
                }
                16 => {
                    // A loop whose parameter is carried back by `br_if`.
                    self.expr(Ty::V128, d);
                    self.sink
                        .i32_const(2)
                        .local_set(LOOP_PARAM_COUNTER)
                        .loop_(BlockType::FunctionType(5))
                        .v128_const(i128::from(0x3fc0_0000u32) * 0x1_0000_0001_0000_0001)
                        .f32x4_mul()
                        .local_get(LOOP_PARAM_COUNTER)
                        .i32_const(1)
                        .i32_sub()
                        .local_tee(LOOP_PARAM_COUNTER)
                        .br_if(0)
                        .end();
                }
                _ => {
                    self.sink.block(BlockType::Result(ValType::V128));
                    self.expr(Ty::V128, d);
                    self.expr(Ty::I32, d);
                    self.sink.br_if(0).drop();
                    self.expr(Ty::V128, d);
                    self.sink.end();
                }
            },
            Ty::I32 => match self.rng.random_range(0..7) {
                0 => {
                    self.expr(Ty::F32, d);
                    self.expr(Ty::F32, d);
                    self.sink.f32_lt();
                }
                5 => {
                    self.expr(Ty::F64, d);
                    self.expr(Ty::F64, d);
                    self.sink.f64_ge();
                }
                6 => {
                    self.expr(Ty::V128, d);
                    self.expr(Ty::V128, d);
                    self.sink.f64x2_ne().i64x2_all_true();
                }
                1 => {
                    self.expr(Ty::F64, d);
                    self.sink.i32_trunc_sat_f64_s();
                }
                2 => {
                    self.expr(Ty::V128, d);
                    self.sink.i32x4_trunc_sat_f32x4_s().i32x4_extract_lane(1);
                }
                3 => {
                    self.expr(Ty::F32, d);
                    self.sink.i32_reinterpret_f32();
                }
                _ => {
                    self.expr(Ty::V128, d);
                    self.sink.v128_any_true();
                }
            },
        }
    }

    fn statement(&mut self, depth: u32) {
        let ty = [Ty::F32, Ty::F64, Ty::V128][self.rng.random_range(0..3)];
        match self.rng.random_range(0..10) {
            0..=3 => {
                self.expr(ty, 3);
                let l = self.local(ty);
                if self.rng.random_bool(0.3) {
                    self.sink.local_tee(l);
                    self.store(ty);
                } else {
                    self.sink.local_set(l);
                }
            }
            4 | 5 => {
                self.sink.i32_const((OUTPUT + 16 * self.rng.random_range(0..SLOTS)) as i32);
                self.expr(ty, 3);
                self.store_at(ty);
            }
            6 => {
                self.expr(ty, 2);
                self.sink.global_set(match ty {
                    Ty::F32 => 0,
                    Ty::F64 => 1,
                    _ => 2,
                });
            }
            7 if depth > 0 => {
                self.expr(Ty::I32, 2);
                self.sink.if_(BlockType::Empty);
                self.statement(depth - 1);
                self.sink.else_();
                self.statement(depth - 1);
                self.sink.end();
            }
            8 if depth > 0 && self.loops < 2 => {
                // Three turns: a value set in one turn is read in the next.
                let counter = COUNTER + self.loops;
                self.loops += 1;
                self.sink.i32_const(3).local_set(counter).loop_(BlockType::Empty);
                for _ in 0..3 {
                    self.statement(depth - 1);
                }
                self.sink.local_get(counter).i32_const(1).i32_sub().local_tee(counter).br_if(0).end();
            }
            _ => {
                // An accumulator kept in a local across operations.
                let l = self.local(ty);
                self.sink.local_get(l);
                self.expr(ty, 2);
                match ty {
                    Ty::F32 => self.sink.f32_add(),
                    Ty::F64 => self.sink.f64_mul(),
                    _ => self.sink.f32x4_add(),
                };
                self.sink.local_set(l);
            }
        }
    }

    /// Stores the value on the stack (after a `local.tee`) into a random slot.
    fn store(&mut self, ty: Ty) {
        let slot = (OUTPUT + 16 * self.rng.random_range(0..SLOTS)) as i32;
        let tmp = self.local(ty);
        self.sink.local_set(tmp).i32_const(slot).local_get(tmp);
        self.store_at(ty);
    }

    fn store_at(&mut self, ty: Ty) {
        match ty {
            Ty::F32 => self.sink.f32_store(mem(0)),
            Ty::F64 => self.sink.f64_store(mem(0)),
            Ty::V128 => self.sink.v128_store(mem(0)),
            Ty::I32 => self.sink.i32_store(mem(0)),
        };
    }
}

#[test]
fn generated_functions_give_the_same_bits_as_the_engine_canonicalising() {
    let cases = std::env::var("GAIC_NAN_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(300u64);
    for seed in 0..cases {
        let mut rng = StdRng::seed_from_u64(seed);
        let data = input(&mut rng);
        let mut run = Function::new(GEN_LOCALS);
        let mut g = Gen { rng: StdRng::seed_from_u64(seed ^ 0x5eed), sink: run.instructions(), loops: 0 };
        for _ in 0..12 {
            g.statement(2);
        }
        // Every local is read at the end: stored, and one returned.
        for l in 0..9u32 {
            g.sink.i32_const((OUTPUT + SLOTS * 16 + 16 * l) as i32).local_get(l);
            g.store_at([Ty::F32, Ty::F64, Ty::V128][(l / 3) as usize]);
        }
        g.sink.local_get(6).end();
        let wasm = module(&run, Some(ValType::V128));
        same_bits(&wasm, &data, &format!("generated function {seed}"));
    }
}

/// How many canonicalisations the pass inserted into `wasm` (each ends in a
/// `select` or a `v128.bitselect` after an `eq` of a value with itself).
fn inserted(wasm: &[u8]) -> usize {
    let count = |bytes: &[u8]| {
        let mut n = 0;
        for payload in wasmparser::Parser::new(0).parse_all(bytes) {
            if let wasmparser::Payload::CodeSectionEntry(body) = payload.unwrap() {
                for op in body.get_operators_reader().unwrap() {
                    n += usize::from(matches!(
                        op.unwrap(),
                        wasmparser::Operator::Select | wasmparser::Operator::V128Bitselect
                    ));
                }
            }
        }
        n
    };
    count(&canonicalise_nans(wasm).unwrap()) - count(wasm)
}

/// The shape of a blocked matrix product: sums kept in locals over a loop,
/// stored once after it. Only the two stores after the loop canonicalise.
const SUMS_IN_LOCALS: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "run") (local $i i32) (local $a v128) (local $b v128) (local $x v128)
    (local.set $i (i32.const 0))
    (loop $turn
      (local.set $x (v128.load32_splat (local.get $i)))
      (local.set $a (f32x4.add (local.get $a) (f32x4.mul (local.get $x) (v128.load offset=16 (local.get $i)))))
      (local.set $b (f32x4.add (local.get $b) (f32x4.mul (local.get $x) (v128.load offset=32 (local.get $i)))))
      (br_if $turn (i32.ne (local.tee $i (i32.add (local.get $i) (i32.const 4))) (i32.const 448))))
    (v128.store (i32.const 1024) (local.get $a))
    (v128.store (i32.const 1040) (local.get $b))))"#;

#[test]
fn sums_kept_in_locals_are_canonicalised_only_where_they_are_stored() {
    let wasm = wat::parse_str(SUMS_IN_LOCALS).unwrap();
    assert_eq!(inserted(&wasm), 2);
    let mut rng = StdRng::seed_from_u64(1);
    for _ in 0..20 {
        same_bits(&wasm, &input(&mut rng), "sums in locals");
    }
}

/// A sum that starts from a loaded value: the local holds both bits to keep
/// and arithmetic results, so it is canonicalised as it is set. When the
/// loop does not run, the loaded NaN is stored as it was loaded.
const SUM_FROM_MEMORY: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "run") (result f32) (local $i i32) (local $s f32) (local $n i32)
    (local.set $s (f32.load (i32.const 0)))
    (local.set $n (i32.and (i32.load (i32.const 4)) (i32.const 3)))
    (block $done
      (loop $turn
        (br_if $done (i32.ge_u (local.get $i) (local.get $n)))
        (local.set $s (f32.mul (local.get $s) (f32.load offset=8 (i32.shl (local.get $i) (i32.const 2)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br $turn)))
    (f32.store (i32.const 1024) (local.get $s))
    (f32.neg (local.get $s))))"#;

#[test]
fn a_local_holding_loaded_bits_and_arithmetic_is_canonicalised_as_it_is_set() {
    let wasm = wat::parse_str(SUM_FROM_MEMORY).unwrap();
    // At the multiply's `local.set`; the store and the negation read a
    // local that holds nothing else.
    assert_eq!(inserted(&wasm), 1);
    let mut rng = StdRng::seed_from_u64(2);
    for _ in 0..50 {
        same_bits(&wasm, &input(&mut rng), "a sum from memory");
    }
    // Zero turns: the payload NaN loaded is stored and negated as it is.
    let mut data = input(&mut rng);
    data[..8].copy_from_slice(&[0x01, 0x00, 0xa0, 0x7f, 0, 0, 0, 0]);
    same_bits(&wasm, &data, "a sum from memory, no turn");
}

/// The two cases above again, each function declaring more locals than its
/// body has bytes (the analysis then keeps the locals it has seen set in a
/// map rather than a table): the same canonicalisations, the same bits.
#[test]
fn a_function_with_more_locals_than_bytes_is_followed_as_any_other() {
    let padding = format!("(local $i i32) (local{})", " f64".repeat(5_000));
    for (text, expected, seed) in [(SUMS_IN_LOCALS, 2, 5), (SUM_FROM_MEMORY, 1, 6)] {
        let wasm = wat::parse_str(text.replacen("(local $i i32)", &padding, 1)).unwrap();
        let body = wasmparser::Parser::new(0)
            .parse_all(&wasm)
            .find_map(|p| match p.unwrap() {
                wasmparser::Payload::CodeSectionEntry(body) => Some(body),
                _ => None,
            })
            .unwrap();
        assert!(body.range().len() < 5_000, "{} bytes: the case would not be what it says", body.range().len());
        assert_eq!(inserted(&wasm), expected);
        let mut rng = StdRng::seed_from_u64(seed);
        for _ in 0..20 {
            same_bits(&wasm, &input(&mut rng), "more locals than bytes");
        }
    }
}

/// Every way a value leaves the float world, each fed a fresh NaN: a
/// store, a global, a call, a return, a reinterpret, `neg`, `copysign`'s
/// sign, integer SIMD, the other vector shape, a branch's value.
const EXITS: &str = r#"(module
  (memory (export "memory") 1)
  (global $g (export "g32") (mut f32) (f32.const 0))
  (func $id (param f32) (result f32) (local.get 0))
  (func (export "run") (result f64) (local $z f32) (local $v v128)
    (local.set $z (f32.mul (f32.load (i32.const 0)) (f32.load (i32.const 4))))
    (local.set $v (f32x4.mul (v128.load (i32.const 0)) (v128.load (i32.const 16))))
    (f32.store (i32.const 1024) (local.get $z))
    (global.set $g (local.get $z))
    (f32.store (i32.const 1028) (call $id (local.get $z)))
    (i32.store (i32.const 1032) (i32.reinterpret_f32 (local.get $z)))
    (f32.store (i32.const 1036) (f32.neg (local.get $z)))
    (f32.store (i32.const 1040) (f32.copysign (f32.const 1) (local.get $z)))
    (v128.store (i32.const 1056) (i32x4.add (local.get $v) (v128.const i32x4 1 1 1 1)))
    (v128.store (i32.const 1072) (f64x2.add (local.get $v) (v128.const f64x2 0 0)))
    (f32.store (i32.const 1088) (block (result f32) (br_if 0 (local.get $z) (i32.const 1)) (drop) (f32.const 0)))
    (f64.promote_f32 (local.get $z))))"#;

#[test]
fn every_way_out_of_the_float_world_is_canonicalised() {
    let wasm = wat::parse_str(EXITS).unwrap();
    let mut data = vec![0u8; 32];
    // 0 × ∞ in the scalars and in every lane: x86's negative default NaN.
    for lane in 0..4 {
        data[16 + 4 * lane..20 + 4 * lane].copy_from_slice(&f32::INFINITY.to_le_bytes());
    }
    data[4..8].copy_from_slice(&f32::INFINITY.to_le_bytes());
    same_bits(&wasm, &data, "exits");
    let mut rng = StdRng::seed_from_u64(3);
    for _ in 0..20 {
        same_bits(&wasm, &input(&mut rng), "exits");
    }
}

#[test]
fn a_module_that_is_not_valid_is_refused_with_the_reason() {
    let err = canonicalise_nans(b"\0asm\x01\0\0\0\x01").unwrap_err();
    assert!(err.starts_with("not a valid module"), "{err}");
}

/// DWARF sections are left out (their code offsets would point into the
/// code as it was); the name section and other custom sections are kept.
#[test]
fn dwarf_is_left_out_and_other_custom_sections_kept() {
    let mut wasm = wat::parse_str(
        r#"(module (func $sum (export "run") (param $a f32) (result f32) (f32.add (local.get $a) (local.get $a))))"#,
    )
    .unwrap();
    for (name, data) in [(".debug_info", &b"\x01\x02"[..]), (".debug_line", b"\x03"), ("producers", b"\x00")] {
        let section = wasm_encoder::CustomSection { name: name.into(), data: data.into() };
        wasm_encoder::Section::append_to(&section, &mut wasm);
    }
    let customs = |bytes: &[u8]| -> Vec<String> {
        wasmparser::Parser::new(0)
            .parse_all(bytes)
            .filter_map(|p| match p.unwrap() {
                wasmparser::Payload::CustomSection(c) => Some(c.name().to_string()),
                _ => None,
            })
            .collect()
    };
    assert_eq!(customs(&wasm), ["name", ".debug_info", ".debug_line", "producers"]);
    let rewritten = canonicalise_nans(&wasm).unwrap();
    assert_eq!(customs(&rewritten), ["name", "producers"]);
    // The names survive as names: the function is still called `sum`.
    let names = wasmparser::Parser::new(0).parse_all(&rewritten).find_map(|p| match p.unwrap() {
        wasmparser::Payload::CustomSection(c) => match c.as_known() {
            wasmparser::KnownCustom::Name(reader) => Some(
                reader
                    .into_iter()
                    .filter_map(|n| match n.unwrap() {
                        wasmparser::Name::Function(map) => Some(map.into_iter().map(|n| n.unwrap().name.to_string())),
                        _ => None,
                    })
                    .flatten()
                    .collect::<Vec<_>>(),
            ),
            _ => None,
        },
        _ => None,
    });
    assert_eq!(names, Some(vec!["sum".to_string()]));
}

/// A function built to keep the analysis going (each pass over it carries
/// an arithmetic result one local further) is settled the simple way: every
/// arithmetic result is canonicalised where it is made.
#[test]
fn a_function_that_keeps_the_analysis_going_is_canonicalised_everywhere() {
    // Each pass carries it three locals further (once a repetition).
    let n = 200;
    let mut f = Function::new([(n + 1, ValType::F32)]);
    {
        let mut s = f.instructions();
        for _ in 0..3 {
            for i in 0..n {
                s.local_get(i + 1).local_set(i);
            }
            s.local_get(n).local_get(n).f32_mul().local_set(n);
        }
        s.i32_const(1024).local_get(0).f32_store(mem(0));
        s.i32_const(1028).local_get(n).f32_store(mem(0));
        s.v128_const(0).end();
    }
    let wasm = module(&f, Some(ValType::V128));
    // One at each of the three multiplies (had the analysis settled, there
    // would be one at each of the two stores instead), and one where each
    // of the three helpers returns its result.
    assert_eq!(inserted(&wasm), 3 + 3);
    let mut rng = StdRng::seed_from_u64(4);
    for _ in 0..10 {
        same_bits(&wasm, &input(&mut rng), "a long chain of locals");
    }
}

/// A vector made before two blocks, the inner one ended after a `br_table`
/// (dead code, where `end` may pop values its frame does not hold): the
/// vector is still followed, and canonicalised before it is read as the
/// other shape.
const PAST_DEAD_CODE: &str = r#"(module
  (memory (export "memory") 1)
  (func (export "run")
    (v128.store (i32.const 1024)
      (f32x4.replace_lane 1
        (f64x2.mul (v128.load (i32.const 0)) (v128.load (i32.const 16)))
        (block (result f32)
          (block (result f32) (f32.const 1) (i32.load (i32.const 32)) (br_table 0 1))
          (f32.mul (f32.const 2)))))))"#;

#[test]
fn values_are_followed_past_dead_code() {
    let wasm = wat::parse_str(PAST_DEAD_CODE).unwrap();
    // After the vector multiply (read as f32 lanes), and after the scalar
    // one (a block's value).
    assert_eq!(inserted(&wasm), 2);
    let mut rng = StdRng::seed_from_u64(5);
    for _ in 0..50 {
        same_bits(&wasm, &input(&mut rng), "past dead code");
    }
}

/// Modules of every shape (wasm-smith: tables, globals, multi-value, every
/// SIMD operation, traps, start functions), within the features a model may
/// use: rewritten, each stays valid, and each exported function called
/// with zeros gives the same results, traps, globals and memory as on the
/// engine canonicalising.
#[test]
fn arbitrary_modules_stay_valid_and_give_the_same_bits() {
    // Each module is compiled twice: a few dozen keep the debug run short.
    let cases = std::env::var("GAIC_NAN_MODULES").ok().and_then(|v| v.parse().ok()).unwrap_or(40u64);
    let mut compared = 0;
    for seed in 0..cases {
        let mut rng = StdRng::seed_from_u64(seed);
        let bytes: Vec<u8> = (0..4096).map(|_| rng.random()).collect();
        let config = wasm_smith::Config {
            relaxed_simd_enabled: false,
            threads_enabled: false,
            gc_enabled: false,
            exceptions_enabled: false,
            tail_call_enabled: false,
            memory64_enabled: false,
            extended_const_enabled: false,
            // Reference types bring types wasmtime refuses without its GC
            // (the sandbox's engine too); they carry no floats.
            reference_types_enabled: false,
            max_imports: 0,
            max_memories: 1,
            export_everything: true,
            ..Default::default()
        };
        let Ok(mut module) = wasm_smith::Module::new(config, &mut arbitrary::Unstructured::new(&bytes)) else {
            continue;
        };
        if module.ensure_termination(1_000).is_err() {
            continue;
        }
        let wasm = module.to_bytes();
        let rewritten = canonicalise_nans(&wasm).unwrap_or_else(|e| panic!("module {seed}: {e}"));
        wasmparser::Validator::new().validate_all(&rewritten).unwrap_or_else(|e| panic!("module {seed}: {e}"));
        // Types wasmtime's defaults refuse (the sandbox's engine refuses
        // them too, as a module that does not compile).
        let Some(expected) = outcome(&wasm, true) else { continue };
        assert_eq!(Some(expected), outcome(&rewritten, false), "module {seed}");
        compared += 1;
    }
    assert!(compared > cases / 2, "only {compared} of {cases} modules were compared");
}

/// Everything a module shows when each exported function is called once
/// with zeros: results or trap, then every global and memory.
fn outcome(wasm: &[u8], engine_canonicalises: bool) -> Option<Vec<String>> {
    let mut config = Config::new();
    config.cranelift_nan_canonicalization(engine_canonicalises);
    let engine = Engine::new(&config).unwrap();
    let module = wasmtime::Module::new(&engine, wasm).ok()?;
    let mut store = Store::new(&engine, ());
    let instance = match Instance::new(&mut store, &module, &[]) {
        Ok(i) => i,
        Err(e) => return Some(vec![format!("start: {:?}", e.downcast_ref::<wasmtime::Trap>())]),
    };
    let show = |v: &Val| match v {
        Val::I32(x) => format!("{x}"),
        Val::I64(x) => format!("{x}"),
        Val::F32(x) => format!("f32 {x:#x}"),
        Val::F64(x) => format!("f64 {x:#x}"),
        Val::V128(x) => format!("v128 {:#x}", x.as_u128()),
        Val::FuncRef(f) => format!("funcref {}", f.is_some()),
        Val::ExternRef(r) => format!("externref {}", r.is_some()),
        _ => "ref".into(),
    };
    let mut seen = Vec::new();
    let exports: Vec<_> = module.exports().map(|e| e.name().to_owned()).collect();
    for name in &exports {
        let Some(func) = instance.get_func(&mut store, name) else { continue };
        let ty = func.ty(&store);
        let Some(args) = ty.params().map(|t| t.default_value()).collect::<Option<Vec<_>>>() else { continue };
        let mut results: Vec<Val> = ty.results().map(|_| Val::I32(0)).collect();
        match func.call(&mut store, &args, &mut results) {
            Ok(()) => seen.push(format!("{name}: {}", results.iter().map(show).collect::<Vec<_>>().join(" "))),
            Err(e) => seen.push(format!("{name}: {:?}", e.downcast_ref::<wasmtime::Trap>())),
        }
    }
    for name in &exports {
        if let Some(g) = instance.get_global(&mut store, name) {
            seen.push(format!("global {name}: {}", show(&g.get(&mut store))));
        }
        if let Some(m) = instance.get_memory(&mut store, name) {
            let data = m.data(&store);
            seen.push(format!("memory {name}: {} bytes, hash {:x}", data.len(), fxhash(data)));
        }
    }
    Some(seen)
}

/// A cheap hash of a memory's bytes (FNV-1a).
fn fxhash(data: &[u8]) -> u64 {
    data.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, &b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3))
}
