//! The `gaic` host module: a capped log and the tensor ops, registered on
//! the one linker every run shares.
//!
//! Every guest pointer and length is checked with overflow-safe 64-bit
//! arithmetic before memory is touched; a bad one, an unknown handle or a
//! shape mismatch ends the run with a `trap` verdict and a message, never a
//! host panic. Each op charges fuel for its work (from shapes alone) before
//! doing it, and host tensors count against the run's memory cap. No op ever
//! calls back into wasm.

use std::sync::Arc;

use wasmtime::{Caller, Extern, Linker, ResourceLimiter};

use crate::tensor::{Cost, Tensor, TensorBackend};

/// Most elements one host tensor may hold.
pub(crate) const MAX_TENSOR_ELEMENTS: u64 = 1 << 26;
/// Most live host tensors in one run.
pub(crate) const MAX_TENSORS: usize = 4096;

/// Why a host call ended the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HostError {
    /// The op's fuel cost exceeds what is left.
    #[error("out of fuel in host op {0}")]
    OutOfFuel(&'static str),
    /// Host tensors would exceed the memory cap.
    #[error("{0}")]
    MemoryLimit(String),
    /// A bad pointer, handle, shape or argument.
    #[error("{0}")]
    Bad(String),
}

/// Memory and table limits of one run, recording the peak and any refusal.
#[derive(Debug)]
pub(crate) struct Limiter {
    pub(crate) memory_cap: u64,
    pub(crate) peak: u64,
    pub(crate) denied: Option<u64>,
    pub(crate) table_cap: usize,
    pub(crate) table_denied: Option<usize>,
}

impl ResourceLimiter for Limiter {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired as u64 > self.memory_cap {
            self.denied = Some(desired as u64);
            return Ok(false);
        }
        self.peak = self.peak.max(desired as u64);
        Ok(true)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        if desired > self.table_cap {
            self.table_denied = Some(desired);
            return Ok(false);
        }
        Ok(true)
    }

    fn instances(&self) -> usize {
        1
    }

    fn tables(&self) -> usize {
        1
    }

    fn memories(&self) -> usize {
        1
    }
}

/// Everything one run's store holds.
#[derive(Debug)]
pub(crate) struct RunState {
    pub(crate) limiter: Limiter,
    pub(crate) tensors: Vec<Option<Tensor>>,
    pub(crate) tensor_bytes: u64,
    pub(crate) peak_tensor_bytes: u64,
    pub(crate) log: String,
    pub(crate) log_cap: usize,
    pub(crate) log_dropped: u64,
    pub(crate) backend: Arc<dyn TensorBackend>,
}

impl RunState {
    pub(crate) fn new(memory_cap: u64, log_cap: usize, backend: Arc<dyn TensorBackend>) -> Self {
        Self {
            limiter: Limiter { memory_cap, peak: 0, denied: None, table_cap: 10_000, table_denied: None },
            tensors: Vec::new(),
            tensor_bytes: 0,
            peak_tensor_bytes: 0,
            log: String::new(),
            log_cap,
            log_dropped: 0,
            backend,
        }
    }

    fn tensor(&self, h: i32) -> Result<&Tensor, HostError> {
        usize::try_from(h)
            .ok()
            .and_then(|i| self.tensors.get(i))
            .and_then(Option::as_ref)
            .ok_or_else(|| HostError::Bad(format!("no live tensor with handle {h}")))
    }

    fn store(&mut self, t: Tensor) -> Result<i32, HostError> {
        let bytes = t.data.len() as u64 * 4;
        if self.tensor_bytes + bytes > self.limiter.memory_cap {
            return Err(HostError::MemoryLimit(format!(
                "host tensors would use {} bytes; the task allows {}",
                self.tensor_bytes + bytes,
                self.limiter.memory_cap
            )));
        }
        let live = self.tensors.iter().filter(|t| t.is_some()).count();
        if live >= MAX_TENSORS {
            return Err(HostError::Bad(format!(
                "more than {MAX_TENSORS} live tensors; drop the ones you are done with"
            )));
        }
        self.tensor_bytes += bytes;
        self.peak_tensor_bytes = self.peak_tensor_bytes.max(self.tensor_bytes);
        let slot = self.tensors.iter().position(Option::is_none);
        let h = match slot {
            Some(i) => {
                self.tensors[i] = Some(t);
                i
            }
            None => {
                self.tensors.push(Some(t));
                self.tensors.len() - 1
            }
        };
        Ok(h as i32)
    }
}

type C<'a> = Caller<'a, RunState>;

fn charge(caller: &mut C<'_>, cost: u64, op: &'static str) -> wasmtime::Result<()> {
    let left = caller.get_fuel()?;
    if cost > left {
        caller.set_fuel(0)?;
        return Err(HostError::OutOfFuel(op).into());
    }
    caller.set_fuel(left - cost)?;
    Ok(())
}

/// The byte range `[ptr, ptr + len)` of guest memory, checked.
fn range(ptr: i32, len: u64, memory_len: usize, what: &str) -> Result<std::ops::Range<usize>, HostError> {
    let start = u64::from(ptr as u32);
    let end = start.checked_add(len).filter(|&e| e <= memory_len as u64).ok_or_else(|| {
        HostError::Bad(format!(
            "{what}: {len} bytes at address {start} run past the end of memory ({memory_len} bytes)"
        ))
    })?;
    Ok(start as usize..end as usize)
}

fn dims(ds: [i32; 4], op: &str) -> Result<[usize; 4], HostError> {
    let mut out = [0usize; 4];
    let mut n: u64 = 1;
    for (i, &d) in ds.iter().enumerate() {
        if d <= 0 {
            return Err(HostError::Bad(format!("{op}: dimension {i} is {d}; dimensions are positive")));
        }
        n = n.saturating_mul(d as u64);
        out[i] = d as usize;
    }
    if n > MAX_TENSOR_ELEMENTS {
        return Err(HostError::Bad(format!("{op}: {n} elements; a host tensor holds at most {MAX_TENSOR_ELEMENTS}")));
    }
    Ok(out)
}

fn memory(caller: &mut C<'_>) -> Result<wasmtime::Memory, HostError> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => Err(HostError::Bad("the module exports no memory".into())),
    }
}

fn unary(
    caller: &mut C<'_>,
    h: i32,
    op: &'static str,
    per: u64,
    f: impl Fn(&Tensor) -> Tensor,
) -> wasmtime::Result<i32> {
    let n = caller.data().tensor(h)?.data.len();
    charge(caller, Cost::elementwise(n, per), op)?;
    let out = f(caller.data().tensor(h)?);
    Ok(caller.data_mut().store(out)?)
}

fn map(t: &Tensor, f: impl Fn(f32) -> f32) -> Tensor {
    Tensor { shape: t.shape, data: t.data.iter().map(|&x| f(x)).collect() }
}

/// Registers module `gaic` on `linker`.
pub(crate) fn register(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    linker.func_wrap("gaic", "log", |mut caller: C<'_>, ptr: i32, len: i32| -> wasmtime::Result<()> {
        let len = u64::from(len as u32);
        charge(&mut caller, len + 100, "log")?;
        let mem = memory(&mut caller)?;
        let r = range(ptr, len, mem.data_size(&caller), "log")?;
        let text = String::from_utf8_lossy(&mem.data(&caller)[r]).into_owned();
        let state = caller.data_mut();
        let room = state.log_cap.saturating_sub(state.log.len());
        if text.len() <= room {
            state.log.push_str(&text);
        } else {
            let mut cut = room;
            while !text.is_char_boundary(cut) {
                cut -= 1;
            }
            state.log.push_str(&text[..cut]);
            state.log_dropped += (text.len() - cut) as u64;
        }
        Ok(())
    })?;
    linker.func_wrap(
        "gaic",
        "tensor_from",
        |mut caller: C<'_>, ptr: i32, d0: i32, d1: i32, d2: i32, d3: i32| -> wasmtime::Result<i32> {
            let shape = dims([d0, d1, d2, d3], "tensor_from")?;
            let n = shape.iter().product::<usize>();
            charge(&mut caller, n as u64, "tensor_from")?;
            let mem = memory(&mut caller)?;
            let r = range(ptr, n as u64 * 4, mem.data_size(&caller), "tensor_from")?;
            let data: Vec<f32> =
                mem.data(&caller)[r].chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect();
            Ok(caller.data_mut().store(Tensor { shape, data })?)
        },
    )?;
    linker.func_wrap("gaic", "tensor_dim", |caller: C<'_>, h: i32, i: i32| -> wasmtime::Result<i32> {
        let t = caller.data().tensor(h)?;
        let i = usize::try_from(i)
            .ok()
            .filter(|&i| i < 4)
            .ok_or_else(|| HostError::Bad(format!("tensor_dim: no dimension {i}")))?;
        Ok(t.shape[i] as i32)
    })?;
    linker.func_wrap(
        "gaic",
        "tensor_read",
        |mut caller: C<'_>, h: i32, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let n = caller.data().tensor(h)?.data.len();
            if len < 0 || len as usize != n {
                return Err(HostError::Bad(format!("tensor_read: the tensor holds {n} values, not {len}")).into());
            }
            charge(&mut caller, n as u64, "tensor_read")?;
            let mem = memory(&mut caller)?;
            let r = range(ptr, n as u64 * 4, mem.data_size(&caller), "tensor_read")?;
            let (bytes, state) = mem.data_and_store_mut(&mut caller);
            let t = state.tensor(h)?;
            for (dst, v) in bytes[r].chunks_exact_mut(4).zip(&t.data) {
                dst.copy_from_slice(&v.to_le_bytes());
            }
            Ok(n as i32)
        },
    )?;
    linker.func_wrap("gaic", "tensor_drop", |mut caller: C<'_>, h: i32| -> wasmtime::Result<()> {
        let state = caller.data_mut();
        state.tensor(h)?;
        let t = state.tensors[h as usize].take().unwrap_or_else(|| Tensor { shape: [0; 4], data: Vec::new() });
        state.tensor_bytes -= t.data.len() as u64 * 4;
        Ok(())
    })?;
    linker.func_wrap("gaic", "matmul", |mut caller: C<'_>, a: i32, b: i32| -> wasmtime::Result<i32> {
        let (m, k, k2, n) = {
            let s = caller.data();
            let (ta, tb) = (s.tensor(a)?, s.tensor(b)?);
            (ta.rows(), ta.cols(), tb.rows(), tb.cols())
        };
        if k != k2 {
            return Err(HostError::Bad(format!("matmul: [{m}, {k}] × [{k2}, {n}] do not fit")).into());
        }
        charge(&mut caller, Cost::matmul(m, k, n), "matmul")?;
        let s = caller.data();
        let data = s.backend.matmul(&s.tensor(a)?.data, &s.tensor(b)?.data, m, k, n);
        Ok(caller.data_mut().store(Tensor { shape: [m, n, 1, 1], data })?)
    })?;
    linker.func_wrap("gaic", "add_row", |mut caller: C<'_>, a: i32, b: i32| -> wasmtime::Result<i32> {
        let (n, cols, bn) = {
            let s = caller.data();
            let (ta, tb) = (s.tensor(a)?, s.tensor(b)?);
            (ta.data.len(), ta.cols(), tb.data.len())
        };
        if bn != cols {
            return Err(
                HostError::Bad(format!("add_row: the row has {bn} values; the tensor has {cols} columns")).into()
            );
        }
        charge(&mut caller, Cost::elementwise(n, 1), "add_row")?;
        let s = caller.data();
        let (ta, tb) = (s.tensor(a)?, s.tensor(b)?);
        let data = ta.data.iter().enumerate().map(|(i, x)| x + tb.data[i % cols]).collect();
        let out = Tensor { shape: ta.shape, data };
        Ok(caller.data_mut().store(out)?)
    })?;
    linker.func_wrap("gaic", "relu", |mut c: C<'_>, h: i32| unary(&mut c, h, "relu", 1, |t| map(t, |x| x.max(0.0))))?;
    linker.func_wrap("gaic", "sigmoid", |mut c: C<'_>, h: i32| {
        unary(&mut c, h, "sigmoid", 4, |t| map(t, |x| 1.0 / (1.0 + (-x).exp())))
    })?;
    linker.func_wrap("gaic", "tanh", |mut c: C<'_>, h: i32| unary(&mut c, h, "tanh", 4, |t| map(t, f32::tanh)))?;
    linker.func_wrap("gaic", "softmax_rows", |mut c: C<'_>, h: i32| {
        unary(&mut c, h, "softmax_rows", 5, |t| {
            let cols = t.cols();
            let mut out = t.clone();
            for row in out.data.chunks_mut(cols) {
                let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let mut sum = 0.0;
                for v in row.iter_mut() {
                    *v = (*v - max).exp();
                    sum += *v;
                }
                for v in row.iter_mut() {
                    *v /= sum;
                }
            }
            out
        })
    })?;
    linker.func_wrap("gaic", "argmax_rows", |mut c: C<'_>, h: i32| {
        unary(&mut c, h, "argmax_rows", 1, |t| {
            let cols = t.cols();
            let data = t
                .data
                .chunks(cols)
                .map(|row| {
                    row.iter()
                        .enumerate()
                        .fold((0usize, f32::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b })
                        .0 as f32
                })
                .collect();
            Tensor { shape: [t.rows(), 1, 1, 1], data }
        })
    })?;
    linker.func_wrap(
        "gaic",
        "conv2d",
        |mut caller: C<'_>, x: i32, w: i32, stride: i32, pad: i32| -> wasmtime::Result<i32> {
            let (xs, ws) = {
                let s = caller.data();
                (s.tensor(x)?.shape, s.tensor(w)?.shape)
            };
            let [n, c, h, wd] = xs;
            let [o, wc, kh, kw] = ws;
            if c != wc {
                return Err(HostError::Bad(format!("conv2d: the input has {c} channels, the kernel {wc}")).into());
            }
            if !(1..=64).contains(&stride) || !(0..=64).contains(&pad) {
                return Err(
                    HostError::Bad(format!("conv2d: stride {stride} must be 1-64 and padding {pad} 0-64")).into()
                );
            }
            let (stride, pad) = (stride as usize, pad as usize);
            if h + 2 * pad < kh || wd + 2 * pad < kw {
                return Err(HostError::Bad(format!(
                    "conv2d: a {kh}×{kw} kernel does not fit a {h}×{wd} image padded by {pad}"
                ))
                .into());
            }
            let out = [n, o, (h + 2 * pad - kh) / stride + 1, (wd + 2 * pad - kw) / stride + 1];
            if out.iter().map(|&d| d as u64).product::<u64>() > MAX_TENSOR_ELEMENTS {
                return Err(HostError::Bad("conv2d: the output would be too large".into()).into());
            }
            charge(&mut caller, Cost::conv2d(out, c, kh, kw), "conv2d")?;
            let s = caller.data();
            let data = s.backend.conv2d(s.tensor(x)?, s.tensor(w)?, stride, pad, out);
            Ok(caller.data_mut().store(Tensor { shape: out, data })?)
        },
    )?;
    Ok(())
}
