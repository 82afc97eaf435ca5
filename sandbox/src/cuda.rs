//! The CUDA backend: a run's tensors live in device memory, matmul runs on
//! cuBLAS and every other op as an NVRTC-compiled kernel.
//!
//! cudarc loads the driver, cuBLAS and NVRTC libraries at run time, so this
//! builds on any machine; [`CudaBackend::probe`] says why it cannot run
//! (no driver library, no device, …): with `auto` the device is chosen once,
//! at start, and is the CPU then.
//!
//! Each run's [`Session`] takes a *lane* of its own: a CUDA stream, a
//! cuBLAS handle bound to it and a pinned staging buffer. Lanes are kept in
//! a pool and reused, so concurrent runs queue their work on separate
//! streams instead of behind one lock, and a run pays for no stream or
//! handle creation. `tensor_from` copies guest values into the staging
//! buffer and from there to the device; `tensor_read` the other way; every
//! op in between reads and writes device memory only, queued in order on
//! the lane's stream, and `tensor_read` waits for them.
//!
//! Should a GPU call fail mid-run (out of device memory, a lost context,
//! an error a queued kernel reports at the next wait) the op fails with
//! [`OpStop::Device`]: the run ends as a platform error and the job runs
//! again (counted in `/metrics` as
//! `gaic_platform_errors_total{kind="device"}`); no op is ever computed on
//! the CPU instead, so a run's device is the one it reports. A lane that
//! failed is dropped, not put back in the pool.

use std::sync::{Arc, Mutex};

use cudarc::cublas::{CudaBlas, Gemm, GemmConfig, sys::cublasOperation_t};
use cudarc::driver::{CudaContext, CudaFunction, CudaSlice, CudaStream, LaunchConfig, PinnedHostSlice, PushKernelArg};

use crate::tensor::{Deadline, Map, OpStop, Session, Stored, TensorBackend, elements, fill_from_le, write_le};

/// Our kernels: one thread per output value (per row for the row ops).
/// Every kernel bounds-checks its index; the host checked the shapes.
pub const KERNELS: &str = r#"
#define NEG_INF __int_as_float(0xff800000)

extern "C" __global__ void conv2d(const float* x, const float* w, float* y,
                                  int n, int c, int h, int wd, int o, int kh, int kw,
                                  int stride, int pad, int oh, int ow) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    int total = n * o * oh * ow;
    if (idx >= total) return;
    int ox = idx % ow;
    int oy = (idx / ow) % oh;
    int oc = (idx / (ow * oh)) % o;
    int b = idx / (ow * oh * o);
    float acc = 0.0f;
    for (int ic = 0; ic < c; ++ic) {
        for (int ky = 0; ky < kh; ++ky) {
            int iy = oy * stride + ky - pad;
            if (iy < 0 || iy >= h) continue;
            for (int kx = 0; kx < kw; ++kx) {
                int ix = ox * stride + kx - pad;
                if (ix < 0 || ix >= wd) continue;
                acc += x[((b * c + ic) * h + iy) * wd + ix] * w[((oc * c + ic) * kh + ky) * kw + kx];
            }
        }
    }
    y[idx] = acc;
}

extern "C" __global__ void maxpool2d(const float* x, float* y, int n, int c, int h, int wd,
                                     int size, int stride, int oh, int ow) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    int total = n * c * oh * ow;
    if (idx >= total) return;
    int ox = idx % ow;
    int oy = (idx / ow) % oh;
    int plane = idx / (ow * oh);
    const float* p = x + (size_t)plane * h * wd;
    float best = NEG_INF;
    for (int ky = 0; ky < size; ++ky) {
        for (int kx = 0; kx < size; ++kx) {
            best = fmaxf(best, p[(oy * stride + ky) * wd + ox * stride + kx]);
        }
    }
    y[idx] = best;
}

extern "C" __global__ void add_row(const float* x, const float* row, float* y, int n, int cols) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n) return;
    y[idx] = x[idx] + row[idx % cols];
}

/* op: 0 relu, 1 sigmoid, 2 tanh (the order of `Map` in map_code). */
extern "C" __global__ void unary(const float* x, float* y, int n, int op) {
    int idx = blockIdx.x * blockDim.x + threadIdx.x;
    if (idx >= n) return;
    float v = x[idx];
    y[idx] = op == 0 ? fmaxf(v, 0.0f) : op == 1 ? 1.0f / (1.0f + expf(-v)) : tanhf(v);
}

extern "C" __global__ void softmax_rows(const float* x, float* y, int rows, int cols) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    const float* p = x + (size_t)r * cols;
    float* q = y + (size_t)r * cols;
    float m = NEG_INF;
    for (int j = 0; j < cols; ++j) m = fmaxf(m, p[j]);
    float sum = 0.0f;
    for (int j = 0; j < cols; ++j) {
        float e = expf(p[j] - m);
        q[j] = e;
        sum += e;
    }
    for (int j = 0; j < cols; ++j) q[j] /= sum;
}

extern "C" __global__ void argmax_rows(const float* x, float* y, int rows, int cols) {
    int r = blockIdx.x * blockDim.x + threadIdx.x;
    if (r >= rows) return;
    const float* p = x + (size_t)r * cols;
    int best = 0;
    float value = NEG_INF;
    for (int j = 0; j < cols; ++j) {
        if (p[j] > value) {
            value = p[j];
            best = j;
        }
    }
    y[r] = (float)best;
}
"#;

/// The code `unary` takes for `f`.
fn map_code(f: Map) -> i32 {
    match f {
        Map::Relu => 0,
        Map::Sigmoid => 1,
        Map::Tanh => 2,
    }
}

/// The compiled kernels (cheap to clone: handles into one module).
#[derive(Debug, Clone)]
struct Kernels {
    conv2d: CudaFunction,
    maxpool2d: CudaFunction,
    add_row: CudaFunction,
    unary: CudaFunction,
    softmax_rows: CudaFunction,
    argmax_rows: CudaFunction,
}

/// A tensor in device memory.
#[derive(Debug)]
pub struct DeviceTensor {
    /// Shape, four dims (unused trailing dims are 1).
    pub shape: [usize; 4],
    data: CudaSlice<f32>,
}

/// One run's stream, with its cuBLAS handle and staging buffer.
struct Lane {
    stream: Arc<CudaStream>,
    blas: CudaBlas,
    /// Page-locked host memory for copies in and out, grown on demand.
    staging: Option<PinnedHostSlice<f32>>,
}

/// Lanes not in use.
type Pool = Arc<Mutex<Vec<Lane>>>;

/// Host ops on GPU 0.
pub struct CudaBackend {
    name: String,
    ctx: Arc<CudaContext>,
    kernels: Kernels,
    lanes: Pool,
}

impl std::fmt::Debug for CudaBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaBackend").field("name", &self.name).finish_non_exhaustive()
    }
}

fn driver(e: impl std::fmt::Debug) -> String {
    format!("{e:?}")
}

impl CudaBackend {
    /// Opens GPU 0, compiles the kernels and makes one lane, or says why not.
    pub fn probe() -> Result<Self, String> {
        // A missing driver library makes cudarc's loader panic: contain it,
        // without the default hook printing a backtrace for an expected case.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let opened = std::panic::catch_unwind(|| -> Result<Self, String> {
            let ctx = CudaContext::new(0).map_err(|e| format!("no CUDA device: {e:?}"))?;
            let name = ctx.name().unwrap_or_else(|_| "GPU".into());
            let ptx = cudarc::nvrtc::compile_ptx(KERNELS).map_err(|e| format!("NVRTC: {e:?}"))?;
            let module = ctx.load_module(ptx).map_err(|e| format!("loading the kernels: {e:?}"))?;
            let load = |f: &str| module.load_function(f).map_err(|e| format!("{f} kernel: {e:?}"));
            let kernels = Kernels {
                conv2d: load("conv2d")?,
                maxpool2d: load("maxpool2d")?,
                add_row: load("add_row")?,
                unary: load("unary")?,
                softmax_rows: load("softmax_rows")?,
                argmax_rows: load("argmax_rows")?,
            };
            let backend =
                Self { name: format!("cuda:0 ({name})"), ctx, kernels, lanes: Arc::new(Mutex::new(Vec::new())) };
            // One lane now: a device that cannot make a stream and a cuBLAS
            // handle is not usable, and the first run should not pay for it.
            let lane = backend.new_lane().map_err(|e| format!("a stream and cuBLAS handle: {e}"))?;
            backend.lanes.lock().map_err(|_| "poisoned".to_owned())?.push(lane);
            Ok(backend)
        });
        std::panic::set_hook(hook);
        match opened {
            Ok(r) => r,
            Err(panic) => {
                let why = panic
                    .downcast_ref::<String>()
                    .cloned()
                    .or_else(|| panic.downcast_ref::<&str>().map(|s| (*s).to_owned()))
                    .unwrap_or_else(|| "the CUDA libraries could not be loaded".into());
                // cudarc lists every file name it tried: keep the sentence.
                let short = why.split(" - searched for").next().unwrap_or(&why);
                Err(format!("CUDA unavailable: {short}"))
            }
        }
    }

    fn new_lane(&self) -> Result<Lane, String> {
        let stream = self.ctx.new_stream().map_err(driver)?;
        let blas = CudaBlas::new(stream.clone()).map_err(driver)?;
        Ok(Lane { stream, blas, staging: None })
    }
}

impl TensorBackend for CudaBackend {
    fn name(&self) -> String {
        self.name.clone()
    }

    fn session(&self, deadline: Deadline) -> Result<Box<dyn Session>, OpStop> {
        let pooled = self.lanes.lock().map_err(|_| OpStop::Device("the lane pool is poisoned".into()))?.pop();
        let lane = match pooled {
            Some(lane) => lane,
            None => self.new_lane().map_err(|e| OpStop::Device(format!("a stream on {}: {e}", self.name)))?,
        };
        Ok(Box::new(CudaSession {
            name: self.name.clone(),
            kernels: self.kernels.clone(),
            lane: Some(lane),
            pool: self.lanes.clone(),
            deadline,
            failed: false,
        }))
    }
}

/// One run on the GPU.
struct CudaSession {
    name: String,
    kernels: Kernels,
    /// Taken from the pool at the start, given back at the end.
    lane: Option<Lane>,
    pool: Pool,
    deadline: Deadline,
    /// Whether a device call failed: the lane is then not reused.
    failed: bool,
}

impl std::fmt::Debug for CudaSession {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaSession").field("name", &self.name).finish_non_exhaustive()
    }
}

impl Drop for CudaSession {
    fn drop(&mut self) {
        // Work a run queued and never waited for (it ended early) finishes
        // before the lane serves another run.
        if let Some(lane) = self.lane.take()
            && !self.failed
            && lane.stream.synchronize().is_ok()
            && let Ok(mut pool) = self.pool.lock()
        {
            pool.push(lane);
        }
    }
}

/// The device tensor in `t` (a CUDA session only ever holds those).
fn on_device(t: &Stored) -> Result<&DeviceTensor, String> {
    match t {
        Stored::Cuda(t) => Ok(t),
        Stored::Host(_) => Err("a host tensor reached the CUDA backend".into()),
    }
}

/// Launch arguments past the tensors: all `int`.
fn ints(values: &[usize]) -> Vec<i32> {
    values.iter().map(|&v| v as i32).collect()
}

impl CudaSession {
    fn lane(&mut self) -> Result<&mut Lane, String> {
        self.lane.as_mut().ok_or_else(|| "the session has no stream".to_owned())
    }

    /// The staging buffer, at least `n` values long.
    fn staging(&mut self, n: usize) -> Result<&mut [f32], String> {
        let lane = self.lane()?;
        if lane.staging.as_ref().is_none_or(|s| s.len() < n) {
            lane.staging = None;
            let ctx = lane.stream.context().clone();
            #[expect(unsafe_code, reason = "page-locked host memory, written before it is read")]
            // SAFETY: the buffer's values are only read after being written:
            // `upload_le` fills its first n values before copying them, and
            // `read_le` copies n values into it before reading them.
            let pinned = unsafe { ctx.alloc_pinned_with_flags::<f32>(n.max(1 << 16), 0) }.map_err(driver)?;
            lane.staging = Some(pinned);
        }
        match lane.staging.as_mut() {
            Some(s) => Ok(&mut s.as_mut_slice().map_err(driver)?[..n]),
            None => Err("no staging buffer".into()),
        }
    }

    /// Runs `f`, naming `op` and the device in its error and marking the
    /// lane failed. (Copies in and out do not look at the deadline, as on
    /// the CPU; an op does, before it is queued.)
    fn device<T>(&mut self, op: &str, f: impl FnOnce(&mut Self) -> Result<T, String>) -> Result<T, OpStop> {
        f(self).map_err(|e| {
            self.failed = true;
            OpStop::Device(format!("{op} on {}: {e}", self.name))
        })
    }

    /// A new device tensor of `shape`, zeroed.
    fn output(&mut self, shape: [usize; 4]) -> Result<DeviceTensor, String> {
        let n = elements(shape) as usize;
        let data = self.lane()?.stream.alloc_zeros::<f32>(n).map_err(driver)?;
        Ok(DeviceTensor { shape, data })
    }

    /// Launches one of [`KERNELS`] over `threads` threads with `inputs`,
    /// then the output, then `ints` — the order every kernel declares.
    fn launch(
        &mut self,
        kernel: &CudaFunction,
        inputs: &[&DeviceTensor],
        out: &mut DeviceTensor,
        ints: &[i32],
        threads: usize,
    ) -> Result<(), String> {
        let stream = self.lane()?.stream.clone();
        let mut launch = stream.launch_builder(kernel);
        for input in inputs {
            launch.arg(&input.data);
        }
        launch.arg(&mut out.data);
        for v in ints {
            launch.arg(v);
        }
        #[expect(unsafe_code, reason = "launching our kernels with arguments matching their signatures")]
        // SAFETY: the arguments match the kernel's parameter list in order
        // and type (the callers pass its input tensors, its output and its
        // int parameters); every buffer holds the values its shape implies;
        // the host checked the shapes (a pooling window lies inside the
        // image, a row has one value per column); each kernel bounds-checks
        // its index against the count it is given.
        unsafe {
            launch.launch(LaunchConfig::for_num_elems(threads as u32)).map_err(driver)?;
        }
        Ok(())
    }

    /// An op by one of our kernels into a new tensor of `shape`.
    fn kernel(
        &mut self,
        op: &str,
        pick: fn(&Kernels) -> &CudaFunction,
        inputs: &[&Stored],
        shape: [usize; 4],
        ints: &[i32],
        threads: usize,
    ) -> Result<Stored, OpStop> {
        self.deadline.check()?;
        self.device(op, |s| {
            let inputs = inputs.iter().map(|t| on_device(t)).collect::<Result<Vec<_>, _>>()?;
            let mut out = s.output(shape)?;
            let kernel = pick(&s.kernels).clone();
            s.launch(&kernel, &inputs, &mut out, ints, threads)?;
            Ok(Stored::Cuda(out))
        })
    }
}

impl Session for CudaSession {
    fn upload_le(&mut self, shape: [usize; 4], bytes: &[u8]) -> Result<Stored, OpStop> {
        self.device("tensor_from", |s| {
            let n = elements(shape) as usize;
            let mut out = s.output(shape)?;
            let stream = s.lane()?.stream.clone();
            let staging = s.staging(n)?;
            fill_from_le(staging, bytes);
            stream.memcpy_htod(&*staging, &mut out.data).map_err(driver)?;
            // The staging buffer is reused by the next copy.
            stream.synchronize().map_err(driver)?;
            Ok(Stored::Cuda(out))
        })
    }

    fn read_le(&mut self, t: &Stored, dst: &mut [u8]) -> Result<(), OpStop> {
        self.device("tensor_read", |s| {
            let t = on_device(t)?;
            let n = elements(t.shape) as usize;
            let stream = s.lane()?.stream.clone();
            let staging = s.staging(n)?;
            stream.memcpy_dtoh(&t.data, staging).map_err(driver)?;
            // Every op queued before, and the copy, have run.
            stream.synchronize().map_err(driver)?;
            write_le(dst, staging);
            Ok(())
        })
    }

    fn matmul(&mut self, a: &Stored, b: &Stored) -> Result<Stored, OpStop> {
        let (m, k, n) = (a.rows(), a.cols(), b.cols());
        self.deadline.check()?;
        self.device("matmul", |s| {
            let (a, b) = (on_device(a)?, on_device(b)?);
            let mut out = s.output([m, n, 1, 1])?;
            // Row-major C = A·B is column-major Cᵀ = Bᵀ·Aᵀ: swap the operands.
            let cfg = GemmConfig {
                transa: cublasOperation_t::CUBLAS_OP_N,
                transb: cublasOperation_t::CUBLAS_OP_N,
                m: n as i32,
                n: m as i32,
                k: k as i32,
                alpha: 1.0f32,
                lda: n as i32,
                ldb: k as i32,
                beta: 0.0f32,
                ldc: n as i32,
            };
            let lane = s.lane()?;
            #[expect(unsafe_code, reason = "cuBLAS gemm on device tensors whose shapes give the sizes in cfg")]
            // SAFETY: b is k×n, a is m×k and out is m×n f32 buffers on this
            // lane's stream (the host checked that a's columns are b's
            // rows), matching the dimensions and leading dimensions in `cfg`.
            unsafe {
                lane.blas.gemm(cfg, &b.data, &a.data, &mut out.data).map_err(driver)?;
            }
            Ok(Stored::Cuda(out))
        })
    }

    fn add_row(&mut self, a: &Stored, row: &Stored) -> Result<Stored, OpStop> {
        let (n, cols) = (a.len(), a.cols());
        self.kernel("add_row", |k| &k.add_row, &[a, row], a.shape(), &ints(&[n, cols]), n)
    }

    fn map(&mut self, f: Map, a: &Stored) -> Result<Stored, OpStop> {
        let n = a.len();
        self.kernel(f.name(), |k| &k.unary, &[a], a.shape(), &[n as i32, map_code(f)], n)
    }

    fn softmax_rows(&mut self, a: &Stored) -> Result<Stored, OpStop> {
        let (rows, cols) = (a.rows(), a.cols());
        self.kernel("softmax_rows", |k| &k.softmax_rows, &[a], a.shape(), &ints(&[rows, cols]), rows)
    }

    fn argmax_rows(&mut self, a: &Stored) -> Result<Stored, OpStop> {
        let (rows, cols) = (a.rows(), a.cols());
        self.kernel("argmax_rows", |k| &k.argmax_rows, &[a], [rows, 1, 1, 1], &ints(&[rows, cols]), rows)
    }

    fn conv2d(&mut self, x: &Stored, w: &Stored, stride: usize, pad: usize, out: [usize; 4]) -> Result<Stored, OpStop> {
        let [n, c, h, wd] = x.shape();
        let [o, _, kh, kw] = w.shape();
        let ints = ints(&[n, c, h, wd, o, kh, kw, stride, pad, out[2], out[3]]);
        self.kernel("conv2d", |k| &k.conv2d, &[x, w], out, &ints, elements(out) as usize)
    }

    fn maxpool2d(&mut self, x: &Stored, size: usize, stride: usize, out: [usize; 4]) -> Result<Stored, OpStop> {
        let [n, c, h, wd] = x.shape();
        let ints = ints(&[n, c, h, wd, size, stride, out[2], out[3]]);
        self.kernel("maxpool2d", |k| &k.maxpool2d, &[x], out, &ints, elements(out) as usize)
    }

    fn sync(&mut self) -> Result<(), OpStop> {
        self.device("sync", |s| s.lane()?.stream.synchronize().map_err(driver))
    }
}
