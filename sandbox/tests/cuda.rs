//! CPU-versus-CUDA parity of the host tensor ops. They need a GPU, so they
//! are `#[ignore]`d and show as such in an ordinary run. `scripts/gpu-check.sh
//! pack` builds them (and the host-op benchmark) into `gpu-pack/`, whose
//! `run.sh` runs them on a GPU machine that has no Rust toolchain, with
//! `--ignored` and GAIC_REQUIRE_CUDA=1, where a missing device fails instead
//! of skipping. A CUDA op never falls back to the CPU (it fails the run), so
//! a parity test cannot pass by comparing the CPU with itself.
//!
//! Every op's output must be in device memory (`Stored::Cuda`): an op that
//! ran on the CPU fails the test, and a chain of the shapes CNN's layers
//! must keep all its 14 tensors on the device.
//!
//! Tolerance: matmul, conv2d, sigmoid, tanh and softmax agree with the CPU
//! to 1e-4 relative (plus 1e-5 absolute): cuBLAS and the kernels sum in
//! another order, and the device's `expf`/`tanhf` round differently from
//! Rust's. maxpool2d, relu, add_row and argmax_rows involve at most one
//! rounding and agree bit for bit. Fuel is identical by construction (it is
//! computed from shapes before the op runs) and asserted below.

use gaic_sandbox::tensor::{self, CpuBackend, Deadline, DeviceChoice, Map, Session, Stored, Tensor, TensorBackend};
use gaic_sandbox::{Limits, Sandbox, SandboxConfig, Verdict};

/// A session on the GPU, or `None` (skipped, said so) without one.
fn cuda() -> Option<Box<dyn Session>> {
    match tensor::select(DeviceChoice::Cuda) {
        Ok((backend, device)) => {
            println!("running on {}", device.name);
            Some(backend.session(Deadline::NONE).expect("a session on the device"))
        }
        Err(why) => {
            assert!(std::env::var("GAIC_REQUIRE_CUDA").as_deref() != Ok("1"), "CUDA required but unavailable: {why}");
            println!("SKIPPED: no CUDA device ({why})");
            None
        }
    }
}

/// The tensor an op gave, which must be in device memory: an op that ran
/// on the CPU fails here.
fn on_gpu(t: Result<Stored, tensor::OpStop>) -> Stored {
    let t = t.expect("the op ran");
    assert!(!matches!(t, Stored::Host(_)), "an op left its output on the host");
    t
}

fn close(a: &[f32], b: &[f32]) {
    assert_eq!(a.len(), b.len());
    for (i, (x, y)) in a.iter().zip(b).enumerate() {
        assert!((x - y).abs() <= 1e-5 + 1e-4 * x.abs().max(y.abs()), "value {i}: cpu {x} vs cuda {y}");
    }
}

fn values(n: usize, seed: u32) -> Vec<f32> {
    let mut s = seed;
    (0..n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect()
}

/// `t` as a host tensor and on the GPU.
fn both(gpu: &mut dyn Session, shape: [usize; 4], data: Vec<f32>) -> (Tensor, Stored) {
    let on = on_gpu(gpu.upload(shape, &data));
    (Tensor { shape, data }, on)
}

#[test]
#[ignore = "needs an NVIDIA GPU: scripts/gpu-check.sh runs it"]
fn matmul_on_cuda_matches_the_cpu() {
    let Some(mut gpu) = cuda() else { return };
    for (m, k, n) in [(1, 1, 1), (257, 129, 65), (512, 512, 512), (3, 1000, 7)] {
        let (a, ga) = both(gpu.as_mut(), [m, k, 1, 1], values(m * k, 1));
        let (b, gb) = both(gpu.as_mut(), [k, n, 1, 1], values(k * n, 2));
        let d = &Deadline::NONE;
        let on = on_gpu(gpu.matmul(&ga, &gb));
        close(&CpuBackend.matmul(&a.data, &b.data, m, k, n, d).unwrap(), &gpu.values(&on).unwrap());
    }
}

#[test]
#[ignore = "needs an NVIDIA GPU: scripts/gpu-check.sh runs it"]
fn conv2d_on_cuda_matches_the_cpu() {
    let Some(mut gpu) = cuda() else { return };
    let (x, gx) = both(gpu.as_mut(), [2, 3, 17, 13], values(2 * 3 * 17 * 13, 3));
    let (w, gw) = both(gpu.as_mut(), [4, 3, 3, 3], values(4 * 3 * 3 * 3, 4));
    for (stride, pad) in [(1, 0), (1, 1), (2, 1), (3, 2)] {
        let out = [2, 4, (17 + 2 * pad - 3) / stride + 1, (13 + 2 * pad - 3) / stride + 1];
        let on = on_gpu(gpu.conv2d(&gx, &gw, stride, pad, out));
        close(&CpuBackend.conv2d(&x, &w, stride, pad, out, &Deadline::NONE).unwrap(), &gpu.values(&on).unwrap());
    }
}

#[test]
#[ignore = "needs an NVIDIA GPU: scripts/gpu-check.sh runs it"]
fn maxpool2d_on_cuda_matches_the_cpu_exactly() {
    let Some(mut gpu) = cuda() else { return };
    let (x, gx) = both(gpu.as_mut(), [3, 5, 17, 13], values(3 * 5 * 17 * 13, 5));
    for (size, stride) in [(1, 1), (2, 2), (3, 1), (3, 2), (13, 4)] {
        let out = [3, 5, (17 - size) / stride + 1, (13 - size) / stride + 1];
        let on = on_gpu(gpu.maxpool2d(&gx, size, stride, out));
        // A maximum involves no rounding: the two agree bit for bit.
        assert_eq!(CpuBackend.maxpool2d(&x, size, stride, out, &Deadline::NONE).unwrap(), gpu.values(&on).unwrap());
    }
}

#[test]
#[ignore = "needs an NVIDIA GPU: scripts/gpu-check.sh runs it"]
fn the_row_and_elementwise_ops_on_cuda_match_the_cpu() {
    let Some(mut gpu) = cuda() else { return };
    let d = &Deadline::NONE;
    // Values up to ±40, so that exp over- and underflows are exercised;
    // one row of equal values (argmax takes the first).
    let mut data: Vec<f32> = values(300 * 37, 6).iter().map(|v| v * 80.0).collect();
    data[37..74].fill(1.5);
    let (a, ga) = both(gpu.as_mut(), [300, 37, 1, 1], data);
    let (row, grow) = both(gpu.as_mut(), [1, 37, 1, 1], values(37, 7));
    let got = on_gpu(gpu.add_row(&ga, &grow));
    // A sum of two values rounds the same on both: exact.
    assert_eq!(CpuBackend.add_row(&a, &row.data, d).unwrap(), gpu.values(&got).unwrap());
    for f in Map::ALL {
        let got = on_gpu(gpu.map(f, &ga));
        close(&CpuBackend.map(f, &a, d).unwrap(), &gpu.values(&got).unwrap());
    }
    let got = on_gpu(gpu.softmax_rows(&ga));
    close(&CpuBackend.softmax_rows(&a, d).unwrap(), &gpu.values(&got).unwrap());
    let got = on_gpu(gpu.argmax_rows(&ga));
    assert_eq!(got.shape(), [300, 1, 1, 1]);
    assert_eq!(CpuBackend.argmax_rows(&a, d).unwrap(), gpu.values(&got).unwrap());
}

#[test]
#[ignore = "needs an NVIDIA GPU: scripts/gpu-check.sh runs it"]
fn a_chain_of_ops_stays_on_the_device_and_matches_the_cpu() {
    let Some(mut gpu) = cuda() else { return };
    let mut cpu = CpuBackend.session(Deadline::NONE).unwrap();
    let (want, on_device) = chain(cpu.as_mut());
    assert_eq!(on_device, 0);
    let (got, on_device) = chain(gpu.as_mut());
    assert_eq!(on_device, 14, "every tensor of the chain in device memory");
    close(&want, &got);
}

/// The shapes CNN's layers on 64 images: conv → relu → pool → conv → relu
/// → pool → matmul (the pooled maps seen as rows) → add_row → softmax. The
/// result, and how many of the 14 tensors made were in device memory.
fn chain(s: &mut dyn Session) -> (Vec<f32>, usize) {
    let mut on_device = 0;
    let mut keep = |t: Result<Stored, tensor::OpStop>| {
        let t = t.expect("the op ran");
        on_device += usize::from(!matches!(t, Stored::Host(_)));
        t
    };
    let x = keep(s.upload([64, 1, 32, 32], &values(64 * 1024, 8)));
    let w1 = keep(s.upload([8, 1, 5, 5], &values(8 * 25, 9)));
    let w2 = keep(s.upload([16, 8, 3, 3], &values(16 * 72, 10)));
    let w3 = keep(s.upload([1024, 4, 1, 1], &values(4096, 11)));
    let b = keep(s.upload([1, 4, 1, 1], &values(4, 12)));
    let h = keep(s.conv2d(&x, &w1, 1, 2, [64, 8, 32, 32]));
    let h = keep(s.map(Map::Relu, &h));
    let h = keep(s.maxpool2d(&h, 2, 2, [64, 8, 16, 16]));
    let h = keep(s.conv2d(&h, &w2, 1, 1, [64, 16, 16, 16]));
    let h = keep(s.map(Map::Relu, &h));
    let h = keep(s.maxpool2d(&h, 2, 2, [64, 16, 8, 8]));
    let y = keep(s.matmul(&h, &w3));
    let y = keep(s.add_row(&y, &b));
    let y = keep(s.softmax_rows(&y));
    (s.values(&y).expect("read back"), on_device)
}

#[test]
#[ignore = "needs an NVIDIA GPU: scripts/gpu-check.sh runs it"]
fn a_model_costs_the_same_fuel_on_both_devices() {
    if cuda().is_none() {
        return;
    }
    let model = wat::parse_str(
        r#"(module
          (import "gaic" "tensor_from" (func $from (param i32 i32 i32 i32 i32) (result i32)))
          (import "gaic" "matmul" (func $matmul (param i32 i32) (result i32)))
          (import "gaic" "tensor_read" (func $read (param i32 i32 i32) (result i32)))
          (memory (export "memory") 2) (global $h (mut i32) (i32.const 1024))
          (func (export "gaic_abi_version") (result i32) i32.const 1)
          (func (export "gaic_alloc") (param $n i32) (result i32) global.get $h global.get $h local.get $n i32.add global.set $h)
          (func (export "gaic_predict") (param $in i32) (param $rows i32) (param $cols i32) (param $out i32) (param $oc i32) (result i32)
            (local $t i32)
            local.get $in local.get $rows local.get $cols i32.const 1 i32.const 1 call $from local.set $t
            local.get $t local.get $in local.get $cols local.get $cols i32.const 1 i32.const 1 call $from call $matmul
            local.get $out local.get $rows local.get $cols i32.mul call $read))"#,
    )
    .unwrap();
    let inputs = values(16 * 16, 5);
    let run = |device| {
        let s =
            Sandbox::new(SandboxConfig { concurrency: 1, max_memory_bytes: 16 << 20, device, ..Default::default() })
                .unwrap();
        s.compile_and_run(&model, &inputs, 16, 16, &Limits { memory_bytes: 8 << 20, ..Limits::default() })
    };
    let (cpu, gpu) = (run(DeviceChoice::Cpu), run(DeviceChoice::Cuda));
    assert_eq!(cpu.verdict, Verdict::Ok, "{cpu:?}");
    assert_eq!(gpu.verdict, Verdict::Ok, "{gpu:?}");
    assert_eq!(cpu.fuel_used, gpu.fuel_used, "fuel must not depend on the device");
    close(&cpu.outputs, &gpu.outputs);
}

#[test]
#[ignore = "needs NVRTC (libnvrtc, e.g. from PyPI's nvidia-cuda-nvrtc-cu12): scripts/gpu-check.sh runs it"]
fn the_kernels_compile_with_nvrtc() {
    // NVRTC needs no GPU: where the library is found (LD_LIBRARY_PATH),
    // this checks every kernel's source without a device.
    match cudarc::nvrtc::compile_ptx(gaic_sandbox::cuda::KERNELS) {
        Ok(ptx) => {
            let text = ptx.to_src();
            for kernel in ["conv2d", "maxpool2d", "add_row", "unary", "softmax_rows", "argmax_rows"] {
                assert!(text.contains(&format!(".entry {kernel}(")), "{kernel} missing from the PTX");
            }
        }
        Err(e) => panic!("the kernels do not compile: {e:?}"),
    }
}
