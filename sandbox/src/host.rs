//! The `gaic` host module: a capped log and the tensor ops, registered on
//! the one linker every run shares.
//!
//! Every guest pointer and length is checked with overflow-safe 64-bit
//! arithmetic before memory is touched; a bad one, an unknown handle or a
//! shape mismatch ends the run with a `trap` verdict and a message, never a
//! host panic. No op ever calls back into wasm.
//!
//! The order inside every op is fixed, so a hostile model cannot make the
//! host spend before it is refused: (1) check the shapes, (2) compute the
//! output's size and *reserve* it against the per-tensor limit, the live
//! tensor count and the run's tensor memory cap, (3) charge the fuel (a flat
//! [`HOST_CALL_FEE`] plus the op's work, from shapes alone), and only then
//! (4) allocate and compute. Long kernels work in chunks and look at the
//! run's wall-clock [`Deadline`] between them. Handles are slots with a free
//! list: lookup and free are O(1). The tensors live in the run's
//! [`Session`] on the backend's device, opened by the first op that needs
//! it: on a GPU, only `tensor_from` and `tensor_read` copy values across.

use std::sync::Arc;

use wasmtime::{Caller, Extern, Linker, ResourceLimiter};

use crate::tensor::{Cost, Deadline, Map, OpStop, Session, Stored, TensorBackend, elements};

/// Most elements one host tensor may hold.
pub(crate) const MAX_TENSOR_ELEMENTS: u64 = 1 << 26;
/// Most live host tensors in one run.
pub(crate) const MAX_TENSORS: usize = 4096;
/// Fuel every host call costs on top of its work (documented in ABI.md), so
/// that a loop of cheap calls ends `out_of_fuel` like any other loop.
pub const HOST_CALL_FEE: u64 = 100;

/// Why a host call ended the run.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub(crate) enum HostError {
    /// The op's fuel cost exceeds what is left.
    #[error("out of fuel in host op {0}")]
    OutOfFuel(&'static str),
    /// Host tensors would exceed the memory cap.
    #[error("{0}")]
    MemoryLimit(String),
    /// The wall clock ran out inside an op.
    #[error("the wall clock ran out in host op {0}")]
    Timeout(&'static str),
    /// A bad pointer, handle, shape or argument.
    #[error("{0}")]
    Bad(String),
    /// The device failed in an op: the platform's fault (the run is a
    /// platform error, run again), not a verdict on the model.
    #[error("{0}")]
    Device(String),
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

/// Most table elements a model may have (also checked before compiling).
pub(crate) const TABLE_CAP: usize = 10_000;

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
    /// Tensor slots; a handle is an index. (Declared before `session`,
    /// so that a run's tensors are freed before its session closes.)
    tensors: Vec<Option<Stored>>,
    /// Empty slots, reused before the vector grows.
    free: Vec<usize>,
    /// Live tensors.
    live: usize,
    /// Bytes of live tensors plus reservations not yet filled.
    pub(crate) tensor_bytes: u64,
    pub(crate) peak_tensor_bytes: u64,
    pub(crate) log: String,
    pub(crate) log_cap: usize,
    pub(crate) log_dropped: u64,
    pub(crate) backend: Arc<dyn TensorBackend>,
    /// The run's session on `backend`, once an op has needed it.
    session: Option<Box<dyn Session>>,
    pub(crate) deadline: Deadline,
}

/// Room for one op's output, taken from the run's cap before the op
/// allocates; [`RunState::store`] turns it into a live tensor.
#[derive(Debug)]
#[must_use]
pub(crate) struct Reservation {
    bytes: u64,
}

impl Reservation {
    /// The reserved bytes, using the reservation up.
    fn into_bytes(self) -> u64 {
        self.bytes
    }
}

impl RunState {
    pub(crate) fn new(memory_cap: u64, log_cap: usize, backend: Arc<dyn TensorBackend>, deadline: Deadline) -> Self {
        Self {
            limiter: Limiter { memory_cap, peak: 0, denied: None, table_cap: TABLE_CAP, table_denied: None },
            tensors: Vec::new(),
            free: Vec::new(),
            live: 0,
            tensor_bytes: 0,
            peak_tensor_bytes: 0,
            log: String::new(),
            log_cap,
            log_dropped: 0,
            backend,
            session: None,
            deadline,
        }
    }

    fn tensor(&self, h: i32) -> Result<&Stored, HostError> {
        lookup(&self.tensors, h)
    }

    /// Runs `op` on the run's session, opened now if this is the first op
    /// to need it, with the tensors of `handles`. The outer error is a bad
    /// handle; the inner one, the op's own stop.
    fn compute<T>(
        &mut self,
        handles: &[i32],
        op: impl FnOnce(&mut dyn Session, &[&Stored]) -> Result<T, OpStop>,
    ) -> Result<Result<T, OpStop>, HostError> {
        let inputs = handles.iter().map(|&h| lookup(&self.tensors, h)).collect::<Result<Vec<_>, _>>()?;
        let session = match &mut self.session {
            Some(session) => session,
            none => match self.backend.session(self.deadline) {
                Ok(session) => none.insert(session),
                Err(stop) => return Ok(Err(stop)),
            },
        };
        Ok(op(session.as_mut(), &inputs))
    }

    /// Reserves room for an output of `elements` values, or refuses.
    fn reserve(&mut self, elements: u64, op: &str) -> Result<Reservation, HostError> {
        if elements > MAX_TENSOR_ELEMENTS {
            return Err(HostError::MemoryLimit(format!(
                "{op}: the output would hold {elements} values; a host tensor holds at most {MAX_TENSOR_ELEMENTS}"
            )));
        }
        let bytes = elements * 4;
        if self.tensor_bytes + bytes > self.limiter.memory_cap {
            return Err(HostError::MemoryLimit(format!(
                "{op}: host tensors would use {} bytes; the task allows {}",
                self.tensor_bytes + bytes,
                self.limiter.memory_cap
            )));
        }
        if self.live >= MAX_TENSORS {
            return Err(HostError::Bad(format!(
                "{op}: more than {MAX_TENSORS} live tensors; drop the ones you are done with"
            )));
        }
        self.tensor_bytes += bytes;
        self.peak_tensor_bytes = self.peak_tensor_bytes.max(self.tensor_bytes);
        Ok(Reservation { bytes })
    }

    /// Gives back a reservation whose op did not finish.
    fn release(&mut self, r: Reservation) {
        self.tensor_bytes -= r.into_bytes();
    }

    /// Stores an op's output in the room reserved for it.
    fn store(&mut self, r: Reservation, t: Stored) -> i32 {
        let reserved = r.into_bytes();
        debug_assert_eq!(t.len() as u64 * 4, reserved, "an op filled its reservation exactly");
        self.live += 1;
        let h = match self.free.pop() {
            Some(i) => {
                self.tensors[i] = Some(t);
                i
            }
            None => {
                self.tensors.push(Some(t));
                self.tensors.len() - 1
            }
        };
        h as i32
    }

    /// Frees tensor `h`.
    fn drop_tensor(&mut self, h: i32) -> Result<(), HostError> {
        let t = usize::try_from(h)
            .ok()
            .and_then(|i| self.tensors.get_mut(i))
            .and_then(Option::take)
            .ok_or_else(|| HostError::Bad(format!("tensor_drop: no live tensor with handle {h}")))?;
        self.tensor_bytes -= t.len() as u64 * 4;
        self.live -= 1;
        self.free.push(h as usize);
        Ok(())
    }
}

/// The live tensor of handle `h`.
fn lookup(tensors: &[Option<Stored>], h: i32) -> Result<&Stored, HostError> {
    usize::try_from(h)
        .ok()
        .and_then(|i| tensors.get(i))
        .and_then(Option::as_ref)
        .ok_or_else(|| HostError::Bad(format!("no live tensor with handle {h}")))
}

/// What ended an op early, as the run's error.
fn stopped(stop: OpStop, op: &'static str) -> HostError {
    match stop {
        OpStop::Deadline => HostError::Timeout(op),
        OpStop::Device(why) => HostError::Device(why),
    }
}

type C<'a> = Caller<'a, RunState>;

/// Charges the flat fee plus `work` fuel, or ends the run `out_of_fuel`.
fn charge(caller: &mut C<'_>, work: u64, op: &'static str) -> wasmtime::Result<()> {
    let cost = work.saturating_add(HOST_CALL_FEE);
    let left = caller.get_fuel()?;
    if cost > left {
        caller.set_fuel(0)?;
        return Err(HostError::OutOfFuel(op).into());
    }
    caller.set_fuel(left - cost)?;
    Ok(())
}

/// Reserves the output, then charges the fuel: both before any work.
fn reserve_and_charge(caller: &mut C<'_>, elements: u64, work: u64, op: &'static str) -> wasmtime::Result<Reservation> {
    let r = caller.data_mut().reserve(elements, op)?;
    if let Err(e) = charge(caller, work, op) {
        caller.data_mut().release(r);
        return Err(e);
    }
    Ok(r)
}

/// Runs `f` on the tensors of `handles` in the room reserved for its
/// output and stores the result, or gives the room back when it stopped.
fn finish(
    state: &mut RunState,
    r: Reservation,
    handles: &[i32],
    f: impl FnOnce(&mut dyn Session, &[&Stored]) -> Result<Stored, OpStop>,
    op: &'static str,
) -> wasmtime::Result<i32> {
    match state.compute(handles, f) {
        Ok(Ok(t)) => Ok(state.store(r, t)),
        Ok(Err(stop)) => {
            state.release(r);
            Err(stopped(stop, op).into())
        }
        Err(bad) => {
            state.release(r);
            Err(bad.into())
        }
    }
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

/// A shape from the guest: positive dimensions. The element count is
/// returned unchecked (saturating), for the reservation to judge.
fn dims(ds: [i32; 4], op: &str) -> Result<([usize; 4], u64), HostError> {
    let mut out = [0usize; 4];
    let mut n: u64 = 1;
    for (i, &d) in ds.iter().enumerate() {
        if d <= 0 {
            return Err(HostError::Bad(format!("{op}: dimension {i} is {d}; dimensions are positive")));
        }
        n = n.saturating_mul(d as u64);
        out[i] = d as usize;
    }
    Ok((out, n))
}

fn memory(caller: &mut C<'_>) -> Result<wasmtime::Memory, HostError> {
    match caller.get_export("memory") {
        Some(Extern::Memory(m)) => Ok(m),
        _ => Err(HostError::Bad("the module exports no memory".into())),
    }
}

/// An op whose output has the input's shape.
fn same_shape(
    caller: &mut C<'_>,
    h: i32,
    op: &'static str,
    per: u64,
    f: impl FnOnce(&mut dyn Session, &Stored) -> Result<Stored, OpStop>,
) -> wasmtime::Result<i32> {
    let n = caller.data().tensor(h)?.len();
    let r = reserve_and_charge(caller, n as u64, Cost::elementwise(n, per), op)?;
    finish(caller.data_mut(), r, &[h], |s, t| f(s, t[0]), op)
}

/// Registers module `gaic` on `linker`.
pub(crate) fn register(linker: &mut Linker<RunState>) -> wasmtime::Result<()> {
    linker.func_wrap("gaic", "log", |mut caller: C<'_>, ptr: i32, len: i32| -> wasmtime::Result<()> {
        let len = u64::from(len as u32);
        charge(&mut caller, len, "log")?;
        let mem = memory(&mut caller)?;
        let r = range(ptr, len, mem.data_size(&caller), "log")?;
        // Only the bytes the log still has room for are copied; the rest
        // is counted.
        let (bytes, state) = mem.data_and_store_mut(&mut caller);
        let room = state.log_cap.saturating_sub(state.log.len());
        let keep = r.start..r.end.min(r.start + room);
        let text = String::from_utf8_lossy(&bytes[keep.clone()]);
        let mut cut = text.len().min(room);
        while !text.is_char_boundary(cut) {
            cut -= 1;
        }
        state.log.push_str(&text[..cut]);
        // Bytes of the guest's text that were not kept (a replacement
        // character stands for at least one guest byte).
        let kept_guest_bytes = if cut == text.len() { keep.len() } else { cut.min(keep.len()) };
        state.log_dropped += (r.len() - kept_guest_bytes) as u64;
        Ok(())
    })?;
    linker.func_wrap(
        "gaic",
        "tensor_from",
        |mut caller: C<'_>, ptr: i32, d0: i32, d1: i32, d2: i32, d3: i32| -> wasmtime::Result<i32> {
            let (shape, n) = dims([d0, d1, d2, d3], "tensor_from")?;
            // The source must exist before anything is reserved.
            let mem = memory(&mut caller)?;
            let src = range(ptr, n.saturating_mul(4), mem.data_size(&caller), "tensor_from")?;
            let r = reserve_and_charge(&mut caller, n, n, "tensor_from")?;
            let (bytes, state) = mem.data_and_store_mut(&mut caller);
            finish(state, r, &[], |s, _| s.upload_le(shape, &bytes[src]), "tensor_from")
        },
    )?;
    linker.func_wrap("gaic", "tensor_dim", |mut caller: C<'_>, h: i32, i: i32| -> wasmtime::Result<i32> {
        charge(&mut caller, 0, "tensor_dim")?;
        let t = caller.data().tensor(h)?;
        let i = usize::try_from(i)
            .ok()
            .filter(|&i| i < 4)
            .ok_or_else(|| HostError::Bad(format!("tensor_dim: no dimension {i}")))?;
        Ok(t.shape()[i] as i32)
    })?;
    linker.func_wrap(
        "gaic",
        "tensor_read",
        |mut caller: C<'_>, h: i32, ptr: i32, len: i32| -> wasmtime::Result<i32> {
            let n = caller.data().tensor(h)?.len();
            if len < 0 || len as usize != n {
                return Err(HostError::Bad(format!("tensor_read: the tensor holds {n} values, not {len}")).into());
            }
            charge(&mut caller, n as u64, "tensor_read")?;
            let mem = memory(&mut caller)?;
            let r = range(ptr, n as u64 * 4, mem.data_size(&caller), "tensor_read")?;
            let (bytes, state) = mem.data_and_store_mut(&mut caller);
            state.compute(&[h], |s, t| s.read_le(t[0], &mut bytes[r]))?.map_err(|stop| stopped(stop, "tensor_read"))?;
            Ok(n as i32)
        },
    )?;
    linker.func_wrap("gaic", "tensor_drop", |mut caller: C<'_>, h: i32| -> wasmtime::Result<()> {
        charge(&mut caller, 0, "tensor_drop")?;
        Ok(caller.data_mut().drop_tensor(h)?)
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
        let r = reserve_and_charge(&mut caller, (m as u64).saturating_mul(n as u64), Cost::matmul(m, k, n), "matmul")?;
        finish(caller.data_mut(), r, &[a, b], |s, t| s.matmul(t[0], t[1]), "matmul")
    })?;
    linker.func_wrap("gaic", "add_row", |mut caller: C<'_>, a: i32, b: i32| -> wasmtime::Result<i32> {
        let (n, cols, bn) = {
            let s = caller.data();
            let (ta, tb) = (s.tensor(a)?, s.tensor(b)?);
            (ta.len(), ta.cols(), tb.len())
        };
        if bn != cols {
            return Err(
                HostError::Bad(format!("add_row: the row has {bn} values; the tensor has {cols} columns")).into()
            );
        }
        let r = reserve_and_charge(&mut caller, n as u64, Cost::elementwise(n, 1), "add_row")?;
        finish(caller.data_mut(), r, &[a, b], |s, t| s.add_row(t[0], t[1]), "add_row")
    })?;
    for f in Map::ALL {
        let (name, per) = (f.name(), f.fuel_per());
        linker.func_wrap("gaic", name, move |mut c: C<'_>, h: i32| {
            same_shape(&mut c, h, name, per, |s, t| s.map(f, t))
        })?;
    }
    linker.func_wrap("gaic", "softmax_rows", |mut c: C<'_>, h: i32| {
        same_shape(&mut c, h, "softmax_rows", 5, |s, t| s.softmax_rows(t))
    })?;
    linker.func_wrap("gaic", "argmax_rows", |mut caller: C<'_>, h: i32| -> wasmtime::Result<i32> {
        let (rows, n) = {
            let t = caller.data().tensor(h)?;
            (t.rows(), t.len())
        };
        let r = reserve_and_charge(&mut caller, rows as u64, Cost::elementwise(n, 1), "argmax_rows")?;
        finish(caller.data_mut(), r, &[h], |s, t| s.argmax_rows(t[0]), "argmax_rows")
    })?;
    linker.func_wrap(
        "gaic",
        "conv2d",
        |mut caller: C<'_>, x: i32, w: i32, stride: i32, pad: i32| -> wasmtime::Result<i32> {
            let (xs, ws) = {
                let s = caller.data();
                (s.tensor(x)?.shape(), s.tensor(w)?.shape())
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
            let r = reserve_and_charge(&mut caller, elements(out), Cost::conv2d(out, c, kh, kw), "conv2d")?;
            finish(caller.data_mut(), r, &[x, w], |s, t| s.conv2d(t[0], t[1], stride, pad, out), "conv2d")
        },
    )?;
    linker.func_wrap(
        "gaic",
        "maxpool2d",
        |mut caller: C<'_>, x: i32, size: i32, stride: i32| -> wasmtime::Result<i32> {
            let [n, c, h, wd] = caller.data().tensor(x)?.shape();
            if !(1..=64).contains(&size) || !(1..=64).contains(&stride) {
                return Err(HostError::Bad(format!("maxpool2d: window {size} and stride {stride} must be 1-64")).into());
            }
            let (size, stride) = (size as usize, stride as usize);
            if h < size || wd < size {
                return Err(
                    HostError::Bad(format!("maxpool2d: a {size}×{size} window does not fit a {h}×{wd} image")).into()
                );
            }
            let out = [n, c, (h - size) / stride + 1, (wd - size) / stride + 1];
            let r = reserve_and_charge(&mut caller, elements(out), Cost::maxpool2d(out, size), "maxpool2d")?;
            finish(caller.data_mut(), r, &[x], |s, t| s.maxpool2d(t[0], size, stride, out), "maxpool2d")
        },
    )?;
    Ok(())
}
