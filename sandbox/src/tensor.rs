//! Host tensor ops: the compute a model may hand to the host instead of
//! running it as wasm instructions.
//!
//! Tensors are row-major f32 with up to four dimensions; matrix ops view a
//! tensor as `[d0, d1·d2·d3]`. [`TensorBackend`] holds the heavy kernels
//! (matmul, conv2d); [`CpuBackend`] implements them on ndarray (its matmul is
//! the cache-blocked `matrixmultiply`). The fuel an op costs is computed from
//! shapes alone (see [`Cost`]), never from the backend, so a verdict is the
//! same on CPU and GPU.

use ndarray::ArrayView2;

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

/// Fuel charged per unit of host work: one per floating-point operation
/// (a multiply-add is two) and one per element an op reads or writes.
/// Documented in ABI.md; identical on every backend.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cost;

impl Cost {
    /// `[m,k] × [k,n]`: 2mkn FLOPs plus the output.
    pub fn matmul(m: usize, k: usize, n: usize) -> u64 {
        2 * (m as u64) * (k as u64) * (n as u64) + (m as u64) * (n as u64)
    }

    /// An elementwise op over `n` elements (transcendentals count 4).
    pub fn elementwise(n: usize, per: u64) -> u64 {
        n as u64 * per
    }

    /// A convolution: 2·N·O·OH·OW·C·KH·KW FLOPs plus the output.
    pub fn conv2d(out: [usize; 4], c: usize, kh: usize, kw: usize) -> u64 {
        let outputs = out.iter().map(|&d| d as u64).product::<u64>();
        outputs * (2 * c as u64 * kh as u64 * kw as u64 + 1)
    }
}

/// The heavy kernels, on some device.
pub trait TensorBackend: Send + Sync + std::fmt::Debug {
    /// The device's name, e.g. `cpu` or `cuda:0 (NVIDIA H200)`.
    fn name(&self) -> String;
    /// `a [m,k] × b [k,n]` into `out [m,n]`.
    fn matmul(&self, a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32>;
    /// NCHW convolution of `x [n,c,h,w]` by `w [o,c,kh,kw]`.
    fn conv2d(&self, x: &Tensor, w: &Tensor, stride: usize, pad: usize, out: [usize; 4]) -> Vec<f32>;
}

/// The CPU backend.
#[derive(Debug, Default, Clone, Copy)]
pub struct CpuBackend;

impl TensorBackend for CpuBackend {
    fn name(&self) -> String {
        "cpu".into()
    }

    fn matmul(&self, a: &[f32], b: &[f32], m: usize, k: usize, n: usize) -> Vec<f32> {
        let a = ArrayView2::from_shape((m, k), a).expect("shape checked by the caller");
        let b = ArrayView2::from_shape((k, n), b).expect("shape checked by the caller");
        a.dot(&b).into_raw_vec_and_offset().0
    }

    fn conv2d(&self, x: &Tensor, w: &Tensor, stride: usize, pad: usize, out: [usize; 4]) -> Vec<f32> {
        let [n, c, h, wd] = x.shape;
        let [o, _, kh, kw] = w.shape;
        let [_, _, oh, ow] = out;
        let mut y = vec![0.0f32; n * o * oh * ow];
        for b in 0..n {
            for oc in 0..o {
                for oy in 0..oh {
                    for ox in 0..ow {
                        let mut acc = 0.0f32;
                        for ic in 0..c {
                            for ky in 0..kh {
                                let iy = (oy * stride + ky) as isize - pad as isize;
                                if iy < 0 || iy >= h as isize {
                                    continue;
                                }
                                for kx in 0..kw {
                                    let ix = (ox * stride + kx) as isize - pad as isize;
                                    if ix < 0 || ix >= wd as isize {
                                        continue;
                                    }
                                    let xv = x.data[((b * c + ic) * h + iy as usize) * wd + ix as usize];
                                    let wv = w.data[((oc * c + ic) * kh + ky) * kw + kx];
                                    acc += xv * wv;
                                }
                            }
                        }
                        y[((b * o + oc) * oh + oy) * ow + ox] = acc;
                    }
                }
            }
        }
        y
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cpu_matmul_and_conv_are_right() {
        let c = CpuBackend.matmul(&[1.0, 2.0, 3.0, 4.0, 5.0, 6.0], &[1.0, 0.0, 0.0, 1.0, 1.0, 1.0], 2, 3, 2);
        assert_eq!(c, [4.0, 5.0, 10.0, 11.0]);
        // A 1x1x3x3 image with a 1x1x2x2 all-ones kernel, stride 1, no padding: 2x2 sums.
        let x = Tensor { shape: [1, 1, 3, 3], data: (1..=9).map(|v| v as f32).collect() };
        let w = Tensor { shape: [1, 1, 2, 2], data: vec![1.0; 4] };
        assert_eq!(CpuBackend.conv2d(&x, &w, 1, 0, [1, 1, 2, 2]), [12.0, 16.0, 24.0, 28.0]);
        // Padding 1, stride 2: corners see one pixel less.
        assert_eq!(CpuBackend.conv2d(&x, &w, 2, 1, [1, 1, 2, 2]), [1.0, 5.0, 11.0, 28.0]);
    }

    #[test]
    fn costs_depend_on_shapes_only() {
        assert_eq!(Cost::matmul(2, 3, 4), 2 * 2 * 3 * 4 + 8);
        assert_eq!(Cost::conv2d([1, 1, 2, 2], 1, 2, 2), 4 * (2 * 4 + 1));
    }
}
