//! The CUDA backend: matmul on cuBLAS, conv2d and maxpool2d as NVRTC-compiled
//! kernels.
//!
//! cudarc loads the driver, cuBLAS and NVRTC libraries at run time, so this
//! builds on any machine; [`CudaBackend::probe`] says why it cannot run
//! (no driver library, no device, …): with `auto` the device is chosen once,
//! at start, and is the CPU then. Should a GPU call fail mid-run (out of
//! device memory, a lost context) the op fails with [`OpStop::Device`]: the
//! run ends as a platform error and the job runs again (counted in
//! `/metrics` as `gaic_platform_errors_total{kind="device"}`); no op is ever
//! computed on the CPU instead, so a run's device is the one it reports.

use std::sync::{Arc, Mutex};

use cudarc::cublas::{CudaBlas, Gemm, GemmConfig, sys::cublasOperation_t};
use cudarc::driver::{CudaContext, CudaFunction, CudaStream, LaunchConfig, PushKernelArg};

use crate::tensor::{Deadline, OpStop, Tensor, TensorBackend};

const KERNELS: &str = r#"
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
    float best = -INFINITY;
    for (int ky = 0; ky < size; ++ky) {
        for (int kx = 0; kx < size; ++kx) {
            best = fmaxf(best, p[(oy * stride + ky) * wd + ox * stride + kx]);
        }
    }
    y[idx] = best;
}
"#;

struct Gpu {
    stream: Arc<CudaStream>,
    blas: CudaBlas,
    conv: CudaFunction,
    pool: CudaFunction,
}

/// Host ops on GPU 0.
pub struct CudaBackend {
    name: String,
    gpu: Mutex<Gpu>,
}

impl std::fmt::Debug for CudaBackend {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CudaBackend").field("name", &self.name).finish_non_exhaustive()
    }
}

impl CudaBackend {
    /// Opens GPU 0 with cuBLAS and the conv2d kernel, or says why not.
    pub fn probe() -> Result<Self, String> {
        // A missing driver library makes cudarc's loader panic: contain it,
        // without the default hook printing a backtrace for an expected case.
        let hook = std::panic::take_hook();
        std::panic::set_hook(Box::new(|_| {}));
        let opened = std::panic::catch_unwind(|| -> Result<Self, String> {
            let ctx = CudaContext::new(0).map_err(|e| format!("no CUDA device: {e:?}"))?;
            let name = ctx.name().unwrap_or_else(|_| "GPU".into());
            let stream = ctx.default_stream();
            let blas = CudaBlas::new(stream.clone()).map_err(|e| format!("cuBLAS: {e:?}"))?;
            let ptx = cudarc::nvrtc::compile_ptx(KERNELS).map_err(|e| format!("NVRTC: {e:?}"))?;
            let module = ctx.load_module(ptx).map_err(|e| format!("loading the kernels: {e:?}"))?;
            let conv = module.load_function("conv2d").map_err(|e| format!("conv2d kernel: {e:?}"))?;
            let pool = module.load_function("maxpool2d").map_err(|e| format!("maxpool2d kernel: {e:?}"))?;
            Ok(Self { name: format!("cuda:0 ({name})"), gpu: Mutex::new(Gpu { stream, blas, conv, pool }) })
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

    fn try_matmul(&self, a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Result<Vec<f32>, String> {
        let gpu = self.gpu.lock().map_err(|_| "poisoned".to_owned())?;
        let s = &gpu.stream;
        let da = s.clone_htod(a).map_err(|e| format!("{e:?}"))?;
        let db = s.clone_htod(b).map_err(|e| format!("{e:?}"))?;
        let mut dc = s.alloc_zeros::<f32>(m * n).map_err(|e| format!("{e:?}"))?;
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
        #[expect(unsafe_code, reason = "cuBLAS gemm on buffers allocated just above with the sizes in cfg")]
        // SAFETY: db is k×n, da is m×k and dc is m×n f32 buffers on this
        // stream, matching the dimensions and leading dimensions in `cfg`.
        unsafe {
            gpu.blas.gemm(cfg, &db, &da, &mut dc).map_err(|e| format!("{e:?}"))?;
        }
        s.clone_dtoh(&dc).map_err(|e| format!("{e:?}"))
    }

    fn try_conv2d(
        &self,
        x: &Tensor,
        w: &Tensor,
        stride: usize,
        pad: usize,
        out: [usize; 4],
    ) -> Result<Vec<f32>, String> {
        let [n, c, h, wd] = x.shape.map(|v| v as i32);
        let [o, _, kh, kw] = w.shape.map(|v| v as i32);
        let (stride, pad, oh, ow) = (stride as i32, pad as i32, out[2] as i32, out[3] as i32);
        let ints = [n, c, h, wd, o, kh, kw, stride, pad, oh, ow];
        self.run_kernel(Kernel::Conv2d, &[&x.data, &w.data], out.iter().product(), &ints)
    }

    fn try_maxpool2d(&self, x: &Tensor, size: usize, stride: usize, out: [usize; 4]) -> Result<Vec<f32>, String> {
        let [n, c, h, wd] = x.shape.map(|v| v as i32);
        let ints = [n, c, h, wd, size as i32, stride as i32, out[2] as i32, out[3] as i32];
        self.run_kernel(Kernel::Maxpool2d, &[&x.data], out.iter().product(), &ints)
    }

    /// Runs one of our kernels, one thread per output value. Its parameters
    /// are, in order: `inputs` (copied to the device), the output (`total`
    /// values, copied back) and `ints` — the order both kernels in
    /// [`KERNELS`] declare.
    fn run_kernel(&self, kernel: Kernel, inputs: &[&[f32]], total: usize, ints: &[i32]) -> Result<Vec<f32>, String> {
        let gpu = self.gpu.lock().map_err(|_| "poisoned".to_owned())?;
        let s = &gpu.stream;
        let device_inputs = inputs
            .iter()
            .map(|data| s.clone_htod(*data))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| format!("{e:?}"))?;
        let mut dy = s.alloc_zeros::<f32>(total).map_err(|e| format!("{e:?}"))?;
        let function = match kernel {
            Kernel::Conv2d => &gpu.conv,
            Kernel::Maxpool2d => &gpu.pool,
        };
        let mut launch = s.launch_builder(function);
        for input in &device_inputs {
            launch.arg(input);
        }
        launch.arg(&mut dy);
        for v in ints {
            launch.arg(v);
        }
        #[expect(unsafe_code, reason = "launching our kernels with arguments matching their signatures")]
        // SAFETY: the arguments match the kernel's parameter list in order
        // and type (the callers pass its inputs and its int parameters);
        // the buffers hold the sizes the shapes imply; the host checked the
        // shapes (a pooling window lies inside the image); each kernel
        // bounds-checks `idx` against `total`.
        unsafe {
            launch.launch(LaunchConfig::for_num_elems(total as u32)).map_err(|e| format!("{e:?}"))?;
        }
        s.clone_dtoh(&dy).map_err(|e| format!("{e:?}"))
    }
}

/// Which of [`KERNELS`] to run.
#[derive(Debug, Clone, Copy)]
enum Kernel {
    Conv2d,
    Maxpool2d,
}

impl TensorBackend for CudaBackend {
    fn name(&self) -> String {
        self.name.clone()
    }

    // One kernel launch is the unit of work on the GPU: the deadline is
    // looked at before it (the op's size is bounded by the memory cap).
    fn matmul(
        &self,
        a: &[f32],
        b: &[f32],
        m: usize,
        k: usize,
        n: usize,
        deadline: &Deadline,
    ) -> Result<Vec<f32>, OpStop> {
        deadline.check()?;
        self.try_matmul(a, b, m, k, n).map_err(|e| OpStop::Device(format!("matmul on {}: {e}", self.name)))
    }

    fn conv2d(
        &self,
        x: &Tensor,
        w: &Tensor,
        stride: usize,
        pad: usize,
        out: [usize; 4],
        deadline: &Deadline,
    ) -> Result<Vec<f32>, OpStop> {
        deadline.check()?;
        self.try_conv2d(x, w, stride, pad, out).map_err(|e| OpStop::Device(format!("conv2d on {}: {e}", self.name)))
    }

    fn maxpool2d(
        &self,
        x: &Tensor,
        size: usize,
        stride: usize,
        out: [usize; 4],
        deadline: &Deadline,
    ) -> Result<Vec<f32>, OpStop> {
        deadline.check()?;
        self.try_maxpool2d(x, size, stride, out).map_err(|e| OpStop::Device(format!("maxpool2d on {}: {e}", self.name)))
    }
}
