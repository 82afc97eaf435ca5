//! Host tensor ops: the compute a model may hand to the host instead of
//! running it as wasm instructions.
//!
//! Tensors are row-major f32 with up to four dimensions; matrix ops view a
//! tensor as `[d0, d1·d2·d3]` (so a convolution's output feeds a matmul as
//! it is: flattening costs nothing). A [`TensorBackend`] is a device; each
//! run opens a [`Session`] on it, which holds the run's tensors where that
//! device keeps them ([`Stored`]): on a GPU they stay in device memory from
//! `tensor_from` to `tensor_read`, and every op in between runs there.
//! [`CpuBackend`] computes on ndarray (its matmul is the cache-blocked
//! `matrixmultiply`, run in blocks of rows written in place, and its conv2d
//! the same product over blocks of image columns, so that a [`Deadline`] is
//! looked at every few milliseconds). The fuel an op costs is computed from
//! shapes alone (see [`Cost`]), never from the backend, so a verdict is the
//! same on CPU and GPU.

use std::time::Instant;

use ndarray::linalg::general_mat_mul;
use ndarray::{ArrayView2, ArrayViewMut2, s};

/// A host tensor.
#[derive(Debug, Clone, PartialEq)]
pub struct Tensor {
    /// Shape, four dims (unused trailing dims are 1).
    pub shape: [usize; 4],
    /// Row-major values.
    pub data: Vec<f32>,
}

impl Tensor {
    /// Rows when seen as a matrix.
    pub fn rows(&self) -> usize {
        self.shape[0]
    }

    /// Columns when seen as a matrix.
    pub fn cols(&self) -> usize {
        self.shape[1] * self.shape[2] * self.shape[3]
    }
}

/// The values a tensor of `shape` holds (saturating: a reservation then
/// refuses it).
pub(crate) fn elements(shape: [usize; 4]) -> u64 {
    shape.iter().fold(1u64, |p, &d| p.saturating_mul(d as u64))
}

/// Fuel charged per unit of host work: one per floating-point operation
/// (a multiply-add is two) and one per element an op reads or writes.
/// Documented in ABI.md; identical on every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost;

impl Cost {
    /// `[m,k] × [k,n]`: 2mkn FLOPs plus the output.
    pub fn matmul(m: usize, k: usize, n: usize) -> u64 {
        let mn = (m as u64).saturating_mul(n as u64);
        mn.saturating_mul(k as u64).saturating_mul(2).saturating_add(mn)
    }

    /// An elementwise op over `n` elements (transcendentals count 4).
    pub fn elementwise(n: usize, per: u64) -> u64 {
        (n as u64).saturating_mul(per)
    }

    /// A convolution: 2·N·O·OH·OW·C·KH·KW FLOPs plus the output.
    pub fn conv2d(out: [usize; 4], c: usize, kh: usize, kw: usize) -> u64 {
        let outputs = elements(out);
        let per = (c as u64).saturating_mul(kh as u64).saturating_mul(kw as u64).saturating_mul(2).saturating_add(1);
        outputs.saturating_mul(per)
    }

    /// Max pooling: one comparison per window value plus the output.
    pub fn maxpool2d(out: [usize; 4], size: usize) -> u64 {
        let outputs = elements(out);
        outputs.saturating_mul((size as u64).saturating_mul(size as u64).saturating_add(1))
    }
}

/// When a run's wall clock runs out. Long host ops work in chunks and look
/// at it between them, so a run stops within a chunk of its `wall_ms`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadline(Option<Instant>);

/// A host op stopped because the run's wall clock ran out.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the wall clock ran out inside a host op")]
pub struct Interrupted;

/// Why a backend op stopped without a result.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpStop {
    /// The run's wall clock ran out (the model's verdict: `timeout`).
    #[error("the wall clock ran out inside a host op")]
    Deadline,
    /// The device failed (a CUDA error): the platform's fault, never the
    /// model's, and never hidden by running the op elsewhere.
    #[error("the device failed: {0}")]
    Device(String),
}

impl From<Interrupted> for OpStop {
    fn from(_: Interrupted) -> Self {
        Self::Deadline
    }
}

impl Deadline {
    /// No deadline (benchmarks, parity tests).
    pub const NONE: Deadline = Deadline(None);

    /// A deadline at `at`.
    pub fn at(at: Instant) -> Self {
        Self(Some(at))
    }

    /// `Err(Interrupted)` once the deadline has passed.
    pub fn check(&self) -> Result<(), Interrupted> {
        match self.0 {
            Some(at) if Instant::now() >= at => Err(Interrupted),
            _ => Ok(()),
        }
    }
}

/// Work (in FLOPs) between two looks at the deadline: about 10 ms on one
/// core, and enough rows per matmul block to keep the kernel efficient.
pub(crate) const CHUNK_FLOPS: usize = 1 << 26;

/// The most values the CPU convolution's scratch (a block of image columns)
/// holds: 4 MiB.
const CONV_SCRATCH_VALUES: usize = 1 << 20;

/// Values an elementwise op handles between two looks at the deadline.
const CHUNK_VALUES: usize = CHUNK_FLOPS / 4;

/// A device that runs host ops. Each run opens its own [`Session`] on it
/// (on its first tensor op), which holds the run's tensors where the device
/// keeps them.
pub trait TensorBackend: Send + Sync + std::fmt::Debug {
    /// The device's name, e.g. `cpu` or `cuda:0 (NVIDIA H200)`.
    fn name(&self) -> String;
    /// Opens one run's session, whose ops stop at `deadline`.
    fn session(&self, deadline: Deadline) -> Result<Box<dyn Session>, OpStop>;
}

/// A tensor as a run holds it: on the host, or on the device that made it.
/// Only [`Session::upload_le`] and [`Session::read_le`] copy values between
/// the two; ops chain where their inputs are.
#[derive(Debug)]
pub enum Stored {
    /// Values in host memory.
    Host(Tensor),
    /// Values in a GPU's memory.
    #[cfg(feature = "cuda")]
    Cuda(crate::cuda::DeviceTensor),
}

impl Stored {
    /// The tensor's shape.
    pub fn shape(&self) -> [usize; 4] {
        match self {
            Self::Host(t) => t.shape,
            #[cfg(feature = "cuda")]
            Self::Cuda(t) => t.shape,
        }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        self.shape().iter().product()
    }

    /// Whether it holds no values (never: dimensions are positive).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Rows when seen as a matrix.
    pub fn rows(&self) -> usize {
        self.shape()[0]
    }

    /// Columns when seen as a matrix.
    pub fn cols(&self) -> usize {
        let [_, a, b, c] = self.shape();
        a * b * c
    }
}

/// An op whose output has its input's shape, value by value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Map {
    /// `max(x, 0)`.
    Relu,
    /// `1 / (1 + e^-x)`.
    Sigmoid,
    /// `tanh x`.
    Tanh,
}

impl Map {
    /// Every one.
    pub const ALL: [Map; 3] = [Self::Relu, Self::Sigmoid, Self::Tanh];

    /// The host op's name (its import in module `gaic`).
    pub fn name(self) -> &'static str {
        match self {
            Self::Relu => "relu",
            Self::Sigmoid => "sigmoid",
            Self::Tanh => "tanh",
        }
    }

    /// Fuel per value (a transcendental counts 4; see [`Cost`]).
    pub fn fuel_per(self) -> u64 {
        match self {
            Self::Relu => 1,
            Self::Sigmoid | Self::Tanh => 4,
        }
    }

    /// The function on one value (the CPU's definition).
    pub fn apply(self, x: f32) -> f32 {
        match self {
            Self::Relu => x.max(0.0),
            Self::Sigmoid => 1.0 / (1.0 + (-x).exp()),
            Self::Tanh => x.tanh(),
        }
    }
}

/// One run's use of a device. The caller (the host module) has checked
/// every shape, charged the fuel and reserved each output against the
/// run's memory cap before it calls an op; an op allocates nothing larger
/// than its output, besides a scratch of at most 4 MiB (or the session's
/// staging buffer, as large as the largest tensor copied in or out). Ops
/// look at the deadline before each unit of work; on a GPU they are queued
/// and run in order, and [`Session::read_le`] waits for them.
pub trait Session: Send + std::fmt::Debug {
    /// A tensor of `shape` from little-endian `f32` bytes (guest memory).
    fn upload_le(&mut self, shape: [usize; 4], bytes: &[u8]) -> Result<Stored, OpStop>;
    /// Writes `t`'s values into `dst` as little-endian bytes, once every op
    /// before has run.
    fn read_le(&mut self, t: &Stored, dst: &mut [u8]) -> Result<(), OpStop>;
    /// `a [m,k] × b [k,n]`.
    fn matmul(&mut self, a: &Stored, b: &Stored) -> Result<Stored, OpStop>;
    /// `a` with `row` (one value per column of `a`) added to every row.
    fn add_row(&mut self, a: &Stored, row: &Stored) -> Result<Stored, OpStop>;
    /// `f` of every value of `a`.
    fn map(&mut self, f: Map, a: &Stored) -> Result<Stored, OpStop>;
    /// The softmax of each row of `a`.
    fn softmax_rows(&mut self, a: &Stored) -> Result<Stored, OpStop>;
    /// The column of each row's largest value (the first of equals), as
    /// `[rows, 1, 1, 1]`.
    fn argmax_rows(&mut self, a: &Stored) -> Result<Stored, OpStop>;
    /// NCHW convolution of `x [n,c,h,w]` by `w [o,c,kh,kw]` into `out`.
    fn conv2d(&mut self, x: &Stored, w: &Stored, stride: usize, pad: usize, out: [usize; 4]) -> Result<Stored, OpStop>;
    /// Max pooling of `x [n,c,h,w]` over `size×size` windows every
    /// `stride` pixels, into `out [n,c,oh,ow]` (windows lie inside the image).
    fn maxpool2d(&mut self, x: &Stored, size: usize, stride: usize, out: [usize; 4]) -> Result<Stored, OpStop>;
    /// Waits until every op queued so far has run (benchmarks; a no-op on
    /// the CPU).
    fn sync(&mut self) -> Result<(), OpStop>;

    /// A tensor of `shape` from host values.
    fn upload(&mut self, shape: [usize; 4], values: &[f32]) -> Result<Stored, OpStop> {
        let mut bytes = vec![0u8; values.len() * 4];
        write_le(&mut bytes, values);
        self.upload_le(shape, &bytes)
    }

    /// `t`'s values on the host.
    fn values(&mut self, t: &Stored) -> Result<Vec<f32>, OpStop> {
        let mut bytes = vec![0u8; t.len() * 4];
        self.read_le(t, &mut bytes)?;
        Ok(f32s_from_le(&bytes))
    }
}

/// The CPU backend. Its kernels are also callable on host values directly
/// (the benchmarks' native side uses them).
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuBackend;

impl TensorBackend for CpuBackend {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn session(&self, deadline: Deadline) -> Result<Box<dyn Session>, OpStop> {
        Ok(Box::new(CpuSession { deadline }))
    }
}

/// A run's session on the CPU: its tensors are host tensors.
#[derive(Debug)]
struct CpuSession {
    deadline: Deadline,
}

/// The host tensor in `t` (a CPU session only ever holds those).
fn host(t: &Stored) -> Result<&Tensor, OpStop> {
    match t {
        Stored::Host(t) => Ok(t),
        #[cfg(feature = "cuda")]
        Stored::Cuda(_) => Err(OpStop::Device("a GPU tensor reached the CPU backend".into())),
    }
}

impl Session for CpuSession {
    fn upload_le(&mut self, shape: [usize; 4], bytes: &[u8]) -> Result<Stored, OpStop> {
        Ok(Stored::Host(Tensor { shape, data: f32s_from_le(bytes) }))
    }

    fn read_le(&mut self, t: &Stored, dst: &mut [u8]) -> Result<(), OpStop> {
        write_le(dst, &host(t)?.data);
        Ok(())
    }

    fn matmul(&mut self, a: &Stored, b: &Stored) -> Result<Stored, OpStop> {
        let (a, b) = (host(a)?, host(b)?);
        let (m, k, n) = (a.rows(), a.cols(), b.cols());
        let data = CpuBackend.matmul(&a.data, &b.data, m, k, n, &self.deadline)?;
        Ok(Stored::Host(Tensor { shape: [m, n, 1, 1], data }))
    }

    fn add_row(&mut self, a: &Stored, row: &Stored) -> Result<Stored, OpStop> {
        let (a, row) = (host(a)?, host(row)?);
        let data = CpuBackend.add_row(a, &row.data, &self.deadline)?;
        Ok(Stored::Host(Tensor { shape: a.shape, data }))
    }

    fn map(&mut self, f: Map, a: &Stored) -> Result<Stored, OpStop> {
        let a = host(a)?;
        Ok(Stored::Host(Tensor { shape: a.shape, data: CpuBackend.map(f, a, &self.deadline)? }))
    }

    fn softmax_rows(&mut self, a: &Stored) -> Result<Stored, OpStop> {
        let a = host(a)?;
        Ok(Stored::Host(Tensor { shape: a.shape, data: CpuBackend.softmax_rows(a, &self.deadline)? }))
    }

    fn argmax_rows(&mut self, a: &Stored) -> Result<Stored, OpStop> {
        let a = host(a)?;
        Ok(Stored::Host(Tensor { shape: [a.rows(), 1, 1, 1], data: CpuBackend.argmax_rows(a, &self.deadline)? }))
    }

    fn conv2d(&mut self, x: &Stored, w: &Stored, stride: usize, pad: usize, out: [usize; 4]) -> Result<Stored, OpStop> {
        let data = CpuBackend.conv2d(host(x)?, host(w)?, stride, pad, out, &self.deadline)?;
        Ok(Stored::Host(Tensor { shape: out, data }))
    }

    fn maxpool2d(&mut self, x: &Stored, size: usize, stride: usize, out: [usize; 4]) -> Result<Stored, OpStop> {
        let data = CpuBackend.maxpool2d(host(x)?, size, stride, out, &self.deadline)?;
        Ok(Stored::Host(Tensor { shape: out, data }))
    }

    fn sync(&mut self) -> Result<(), OpStop> {
        Ok(())
    }
}

/// Applies `f` to whole rows of `input` (`cols` values each), writing
/// `out_len` values, looking at the deadline every chunk.
fn chunked(
    input: &[f32],
    cols: usize,
    out_len: usize,
    deadline: &Deadline,
    f: impl Fn(&[f32], &mut Vec<f32>),
) -> Result<Vec<f32>, Interrupted> {
    let mut out = Vec::with_capacity(out_len);
    let rows_per_chunk = (CHUNK_VALUES / cols.max(1)).max(1);
    for chunk in input.chunks(rows_per_chunk * cols.max(1)) {
        deadline.check()?;
        for row in chunk.chunks(cols.max(1)) {
            f(row, &mut out);
        }
    }
    Ok(out)
}

impl CpuBackend {
    /// `a [m,k] × b [k,n]` into `out [m,n]`.
    pub fn matmul(
        &self,
        a: &[f32],
        b: &[f32],
        m: usize,
        k: usize,
        n: usize,
        deadline: &Deadline,
    ) -> Result<Vec<f32>, OpStop> {
        let a = ArrayView2::from_shape((m, k), a).expect("shape checked by the caller");
        let b = ArrayView2::from_shape((k, n), b).expect("shape checked by the caller");
        let mut out = vec![0.0f32; m * n];
        let mut c = ArrayViewMut2::from_shape((m, n), &mut out).expect("sized just above");
        // Blocks of rows, each a few milliseconds of work, written in place.
        let rows = (CHUNK_FLOPS / (2 * k * n).max(1)).clamp(1, m.max(1));
        let mut r0 = 0;
        while r0 < m {
            deadline.check()?;
            let r1 = (r0 + rows).min(m);
            general_mat_mul(1.0, &a.slice(s![r0..r1, ..]), &b, 0.0, &mut c.slice_mut(s![r0..r1, ..]));
            r0 = r1;
        }
        Ok(out)
    }

    /// `a` with `row` added to each of its rows.
    pub fn add_row(&self, a: &Tensor, row: &[f32], deadline: &Deadline) -> Result<Vec<f32>, OpStop> {
        Ok(chunked(&a.data, a.cols(), a.data.len(), deadline, |r, out| {
            out.extend(r.iter().zip(row).map(|(x, y)| x + y));
        })?)
    }

    /// `f` of every value of `a`.
    pub fn map(&self, f: Map, a: &Tensor, deadline: &Deadline) -> Result<Vec<f32>, OpStop> {
        Ok(chunked(&a.data, a.cols(), a.data.len(), deadline, |r, out| out.extend(r.iter().map(|&x| f.apply(x))))?)
    }

    /// The softmax of each row of `a`.
    pub fn softmax_rows(&self, a: &Tensor, deadline: &Deadline) -> Result<Vec<f32>, OpStop> {
        Ok(chunked(&a.data, a.cols(), a.data.len(), deadline, |row, out| {
            let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
            let start = out.len();
            let mut sum = 0.0;
            for &x in row {
                let e = (x - max).exp();
                sum += e;
                out.push(e);
            }
            for v in &mut out[start..] {
                *v /= sum;
            }
        })?)
    }

    /// The column of each row's largest value (the first of equals; 0 when
    /// no value is above minus infinity).
    pub fn argmax_rows(&self, a: &Tensor, deadline: &Deadline) -> Result<Vec<f32>, OpStop> {
        Ok(chunked(&a.data, a.cols(), a.rows(), deadline, |row, out| {
            let best =
                row.iter().enumerate().fold((0usize, f32::NEG_INFINITY), |b, (i, &v)| if v > b.1 { (i, v) } else { b });
            out.push(best.0 as f32);
        })?)
    }

    /// NCHW convolution of `x [n,c,h,w]` by `w [o,c,kh,kw]` into `out`.
    pub fn conv2d(
        &self,
        x: &Tensor,
        w: &Tensor,
        stride: usize,
        pad: usize,
        out: [usize; 4],
        deadline: &Deadline,
    ) -> Result<Vec<f32>, OpStop> {
        let [n, c, h, wd] = x.shape;
        let [o, _, kh, kw] = w.shape;
        let [_, _, oh, ow] = out;
        let (taps, pixels) = (c * kh * kw, oh * ow);
        let mut y = vec![0.0f32; n * o * pixels];
        // As matrix products (im2col): the kernel [o, c·kh·kw] times a block
        // of the image's columns [c·kh·kw, pixels of the block], one block of
        // output pixels at a time, small enough for a bounded scratch and
        // for the deadline to be looked at every CHUNK_FLOPS.
        let wm = ArrayView2::from_shape((o, taps), &w.data[..]).expect("shape checked by the caller");
        let block =
            (CONV_SCRATCH_VALUES / taps.max(1)).min(CHUNK_FLOPS / (2 * o * taps).max(1)).clamp(1, pixels.max(1));
        let mut cols = vec![0.0f32; taps * block];
        for b in 0..n {
            let image = &x.data[b * c * h * wd..(b + 1) * c * h * wd];
            let mut ym = ArrayViewMut2::from_shape((o, pixels), &mut y[b * o * pixels..(b + 1) * o * pixels])
                .expect("sized just above");
            let mut p0 = 0;
            while p0 < pixels {
                deadline.check()?;
                let p1 = (p0 + block).min(pixels);
                let width = p1 - p0;
                for (tap, row) in cols.chunks_exact_mut(width).take(taps).enumerate() {
                    let (ic, ky, kx) = (tap / (kh * kw), (tap / kw) % kh, tap % kw);
                    let plane = &image[ic * h * wd..(ic + 1) * h * wd];
                    for (j, v) in row.iter_mut().enumerate() {
                        let (oy, ox) = ((p0 + j) / ow, (p0 + j) % ow);
                        let iy = (oy * stride + ky).wrapping_sub(pad);
                        let ix = (ox * stride + kx).wrapping_sub(pad);
                        // Outside the image (a wrapped negative is huge): padding.
                        *v = if iy < h && ix < wd { plane[iy * wd + ix] } else { 0.0 };
                    }
                }
                let cm = ArrayView2::from_shape((taps, width), &cols[..taps * width]).expect("sized just above");
                general_mat_mul(1.0, &wm, &cm, 0.0, &mut ym.slice_mut(s![.., p0..p1]));
                p0 = p1;
            }
        }
        Ok(y)
    }

    /// Max pooling of `x [n,c,h,w]` over `size×size` windows every
    /// `stride` pixels, into `out [n,c,oh,ow]`.
    pub fn maxpool2d(
        &self,
        x: &Tensor,
        size: usize,
        stride: usize,
        out: [usize; 4],
        deadline: &Deadline,
    ) -> Result<Vec<f32>, OpStop> {
        let [_, _, h, wd] = x.shape;
        let [n, c, oh, ow] = out;
        let mut y = Vec::with_capacity(n * c * oh * ow);
        // One image plane between two looks at the deadline, or more when
        // planes are small.
        let plane_work = oh * ow * size * size;
        let mut since_check = usize::MAX;
        for plane in x.data.chunks_exact(h * wd).take(n * c) {
            since_check = since_check.saturating_add(plane_work);
            if since_check >= CHUNK_FLOPS {
                deadline.check()?;
                since_check = 0;
            }
            for oy in 0..oh {
                for ox in 0..ow {
                    let mut best = f32::NEG_INFINITY;
                    for ky in 0..size {
                        let row = &plane[(oy * stride + ky) * wd + ox * stride..][..size];
                        best = row.iter().copied().fold(best, f32::max);
                    }
                    y.push(best);
                }
            }
        }
        Ok(y)
    }
}

/// Which device runs host ops, as asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum DeviceChoice {
    /// CUDA if a GPU and its libraries are found, else the CPU.
    #[default]
    Auto,
    /// Always the CPU.
    Cpu,
    /// CUDA, or an error.
    Cuda,
}

impl DeviceChoice {
    /// The name `FromStr` reads: `auto`, `cpu` or `cuda`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Auto => "auto",
            Self::Cpu => "cpu",
            Self::Cuda => "cuda",
        }
    }
}

impl std::str::FromStr for DeviceChoice {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "auto" => Ok(Self::Auto),
            "cpu" => Ok(Self::Cpu),
            "cuda" => Ok(Self::Cuda),
            other => Err(format!("device must be auto, cpu or cuda, not {other:?}")),
        }
    }
}

/// The device actually in use, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Device {
    /// `cpu` or `cuda:N (name)`.
    pub name: String,
    /// Why this device was chosen (e.g. why CUDA was not).
    pub reason: String,
}

impl Device {
    /// Whether a device name (as a run report or a worker's registration
    /// gives it) is a CUDA device.
    pub fn is_cuda_name(name: &str) -> bool {
        name.starts_with("cuda")
    }

    /// Whether this is a CUDA device.
    pub fn is_cuda(&self) -> bool {
        Self::is_cuda_name(&self.name)
    }
}

/// Chooses the backend for `choice`: `auto` tries CUDA and falls back to
/// the CPU with the reason; `cuda` fails with it.
pub fn select(choice: DeviceChoice) -> Result<(Box<dyn TensorBackend>, Device), String> {
    if choice == DeviceChoice::Cpu {
        return Ok((Box::new(CpuBackend), Device { name: "cpu".into(), reason: "asked for the CPU".into() }));
    }
    match cuda() {
        Ok(backend) => {
            let name = backend.name();
            Ok((backend, Device { name, reason: "a CUDA device was found".into() }))
        }
        Err(why) if choice == DeviceChoice::Auto => {
            Ok((Box::new(CpuBackend), Device { name: "cpu".into(), reason: format!("{why}; host ops run on the CPU") }))
        }
        Err(why) => Err(why),
    }
}

#[cfg(feature = "cuda")]
fn cuda() -> Result<Box<dyn TensorBackend>, String> {
    crate::cuda::CudaBackend::probe().map(|b| Box::new(b) as Box<dyn TensorBackend>)
}

#[cfg(not(feature = "cuda"))]
fn cuda() -> Result<Box<dyn TensorBackend>, String> {
    Err("this build has no CUDA backend (the `cuda` feature is off)".into())
}

/// `f32`s from guest memory (WebAssembly is little-endian): one copy of the
/// bytes, not a conversion per value.
pub(crate) fn f32s_from_le(bytes: &[u8]) -> Vec<f32> {
    let mut out = vec![0f32; bytes.len() / 4];
    fill_from_le(&mut out, bytes);
    out
}

/// Fills `dst` with the little-endian `f32`s in `bytes` (as many as fit).
pub(crate) fn fill_from_le(dst: &mut [f32], bytes: &[u8]) {
    if cfg!(target_endian = "little") {
        let n = dst.len().min(bytes.len() / 4);
        bytemuck::cast_slice_mut::<f32, u8>(&mut dst[..n]).copy_from_slice(&bytes[..n * 4]);
    } else {
        for (v, b) in dst.iter_mut().zip(bytes.chunks_exact(4)) {
            *v = f32::from_le_bytes([b[0], b[1], b[2], b[3]]);
        }
    }
}

/// Writes `values` into guest memory `dst` (little-endian), one copy.
pub(crate) fn write_le(dst: &mut [u8], values: &[f32]) {
    if cfg!(target_endian = "little") {
        dst.copy_from_slice(bytemuck::cast_slice::<f32, u8>(values));
    } else {
        for (d, v) in dst.chunks_exact_mut(4).zip(values) {
            d.copy_from_slice(&v.to_le_bytes());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_matmul_and_conv_are_right() {
        let d = &Deadline::NONE;
        let c = CpuBackend.matmul(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], 2, 3, 2, d);
        assert_eq!(c.unwrap(), [4.0, 5.0, 10.0, 11.0]);
        // A 1x1x3x3 image with a 1x1x2x2 all-ones kernel, stride 1, no padding: 2x2 sums.
        let x = Tensor { shape: [1, 1, 3, 3], data: (1..=9).map(|v| v as f32).collect() };
        let w = Tensor { shape: [1, 1, 2, 2], data: vec![1.0; 4] };
        assert_eq!(CpuBackend.conv2d(&x, &w, 1, 0, [1, 1, 2, 2], d).unwrap(), [12.0, 16.0, 24.0, 28.0]);
        // Padding 1, stride 2: corners see one pixel less.
        assert_eq!(CpuBackend.conv2d(&x, &w, 2, 1, [1, 1, 2, 2], d).unwrap(), [1.0, 5.0, 11.0, 28.0]);
    }

    /// The convolution as its definition: one sum per output value.
    fn direct_conv(x: &Tensor, w: &Tensor, stride: usize, pad: usize, out: [usize; 4]) -> Vec<f32> {
        let ([n, c, h, wd], [o, _, kh, kw], [_, _, oh, ow]) = (x.shape, w.shape, out);
        let mut y = Vec::new();
        for b in 0..n {
            for oc in 0..o {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 0.0f64;
                        for ic in 0..c {
                            for ky in 0..kh {
                                for kx in 0..kw {
                                    let (iy, ix) = (
                                        (oy * stride + ky) as isize - pad as isize,
                                        (ox * stride + kx) as isize - pad as isize,
                                    );
                                    if (0..h as isize).contains(&iy) && (0..wd as isize).contains(&ix) {
                                        let xv = x.data[((b * c + ic) * h + iy as usize) * wd + ix as usize];
                                        acc += f64::from(xv) * f64::from(w.data[((oc * c + ic) * kh + ky) * kw + kx]);
                                    }
                                }
                            }
                        }
                        y.push(acc as f32);
                    }
                }
            }
        }
        y
    }

    #[test]
    fn cpu_conv_as_blocked_products_matches_the_direct_sum() {
        let values = |n: usize, seed: usize| -> Vec<f32> {
            (0..n).map(|i| ((i * 7919 + seed) % 201) as f32 / 100.0 - 1.0).collect()
        };
        // Odd sizes, strides and paddings; the last splits its 8,100 output
        // pixels into two blocks (64 filters of 75 taps).
        for (xs, ws, stride, pad) in [
            ([2, 3, 17, 13], [4, 3, 3, 3], 1, 0),
            ([2, 3, 17, 13], [4, 3, 3, 3], 2, 1),
            ([1, 2, 9, 11], [5, 2, 5, 4], 3, 2),
            ([3, 1, 6, 6], [2, 1, 1, 1], 1, 0),
            ([1, 3, 90, 90], [64, 3, 5, 5], 1, 2),
        ] {
            let x = Tensor { shape: xs, data: values(xs.iter().product(), 1) };
            let w = Tensor { shape: ws, data: values(ws.iter().product(), 2) };
            let out = [xs[0], ws[0], (xs[2] + 2 * pad - ws[2]) / stride + 1, (xs[3] + 2 * pad - ws[3]) / stride + 1];
            let got = CpuBackend.conv2d(&x, &w, stride, pad, out, &Deadline::NONE).unwrap();
            let want = direct_conv(&x, &w, stride, pad, out);
            assert_eq!(got.len(), want.len());
            for (i, (g, e)) in got.iter().zip(&want).enumerate() {
                assert!((g - e).abs() <= 1e-4 * (1.0 + e.abs()), "{xs:?} {ws:?} value {i}: {g} vs {e}");
            }
        }
    }

    #[test]
    fn cpu_maxpool_takes_each_windows_largest_value() {
        let d = &Deadline::NONE;
        // Two channels of a 4x4 image: 2x2 windows every 2, then 3x3 every 1.
        let data: Vec<f32> = (0..32).map(|v| if v % 5 == 0 { -(v as f32) } else { v as f32 }).collect();
        let x = Tensor { shape: [1, 2, 4, 4], data };
        let got = CpuBackend.maxpool2d(&x, 2, 2, [1, 2, 2, 2], d).unwrap();
        assert_eq!(got, [4.0, 7.0, 13.0, 14.0, 21.0, 23.0, 29.0, 31.0]);
        let got = CpuBackend.maxpool2d(&x, 3, 1, [1, 2, 2, 2], d).unwrap();
        assert_eq!(got, [9.0, 11.0, 14.0, 14.0, 26.0, 27.0, 29.0, 31.0]);
        // All negative values: the largest, not zero.
        let x = Tensor { shape: [1, 1, 2, 2], data: vec![-3.0, -1.0, -2.0, -4.0] };
        assert_eq!(CpuBackend.maxpool2d(&x, 2, 2, [1, 1, 1, 1], d).unwrap(), [-1.0]);
        let past = Deadline::at(Instant::now());
        let x = Tensor { shape: [1, 1, 64, 64], data: vec![1.0; 64 * 64] };
        assert_eq!(CpuBackend.maxpool2d(&x, 2, 2, [1, 1, 32, 32], &past), Err(OpStop::Deadline));
    }

    #[test]
    fn a_passed_deadline_stops_long_kernels() {
        let past = Deadline::at(Instant::now());
        let a = vec![1.0f32; 512 * 512];
        assert_eq!(CpuBackend.matmul(&a, &a, 512, 512, 512, &past), Err(OpStop::Deadline));
        let x = Tensor { shape: [1, 1, 64, 64], data: vec![1.0; 64 * 64] };
        let w = Tensor { shape: [1, 1, 3, 3], data: vec![1.0; 9] };
        assert_eq!(CpuBackend.conv2d(&x, &w, 1, 1, [1, 1, 64, 64], &past), Err(OpStop::Deadline));
        // Row blocks give the same numbers as one product.
        let m = 300;
        let a: Vec<f32> = (0..m * 7).map(|i| (i % 13) as f32).collect();
        let b: Vec<f32> = (0..7 * 5).map(|i| (i % 5) as f32).collect();
        let got = CpuBackend.matmul(&a, &b, m, 7, 5, &Deadline::NONE).unwrap();
        let want =
            ArrayView2::from_shape((m, 7), &a[..]).unwrap().dot(&ArrayView2::from_shape((7, 5), &b[..]).unwrap());
        assert_eq!(got, want.into_raw_vec_and_offset().0);
    }

    #[test]
    fn a_cpu_session_copies_only_in_and_out_and_chains_its_ops() {
        let mut s = CpuBackend.session(Deadline::NONE).unwrap();
        let x = s.upload([2, 3, 1, 1], &[1.0, -2.0, 3.0, 0.5, 0.5, -1.0]).unwrap();
        let row = s.upload([1, 3, 1, 1], &[10.0, 20.0, 30.0]).unwrap();
        let y = s.add_row(&x, &row).unwrap();
        assert_eq!(s.values(&y).unwrap(), [11.0, 18.0, 33.0, 10.5, 20.5, 29.0]);
        let r = s.map(Map::Relu, &x).unwrap();
        assert_eq!(s.values(&r).unwrap(), [1.0, 0.0, 3.0, 0.5, 0.5, 0.0]);
        let p = s.softmax_rows(&x).unwrap();
        let p = s.values(&p).unwrap();
        assert!((p[..3].iter().sum::<f32>() - 1.0).abs() < 1e-6 && p[2] > p[0] && p[0] > p[1], "{p:?}");
        // The first of equal values wins.
        let a = s.argmax_rows(&x).unwrap();
        assert_eq!(a.shape(), [2, 1, 1, 1]);
        assert_eq!(s.values(&a).unwrap(), [2.0, 0.0]);
        let w = s.upload([3, 2, 1, 1], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0]).unwrap();
        let m = s.matmul(&x, &w).unwrap();
        assert_eq!((m.shape(), s.values(&m).unwrap()), ([2, 2, 1, 1], vec![4.0, 1.0, -0.5, -0.5]));
        let mut bytes = [0u8; 8];
        assert!(s.read_le(&a, &mut bytes).is_ok());
        assert_eq!(f32s_from_le(&bytes), [2.0, 0.0]);
        assert!(matches!(y, Stored::Host(_)), "the CPU keeps its tensors on the host");
    }

    #[test]
    fn costs_depend_on_shapes_only() {
        assert_eq!(Cost::matmul(2, 3, 4), 2 * 2 * 3 * 4 + 8);
        assert_eq!(Cost::conv2d([1, 1, 2, 2], 1, 2, 2), 4 * (2 * 4 + 1));
        assert_eq!(Cost::maxpool2d([2, 3, 4, 4], 2), 2 * 3 * 16 * 5);
    }
}
