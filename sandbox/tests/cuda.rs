//! CPU-versus-CUDA parity of the host tensor ops. They need a GPU, so they
//! are `#[ignore]`d and show as such in an ordinary run. `scripts/gpu-check.sh
//! pack` builds them (and the host-op benchmark) into `gpu-pack/`, whose
//! `run.sh` runs them on a GPU machine that has no Rust toolchain, with
//! `--ignored` and GAIC_REQUIRE_CUDA=1, where a missing device fails instead
//! of skipping. A CUDA op never falls back to the CPU (it fails the run), so
//! a parity test cannot pass by comparing the CPU with itself.
//!
//! Tolerance: matmul and conv2d agree with the CPU to 1e-4 relative (plus
//! 1e-5 absolute): cuBLAS and the kernel sum in another order, and f32
//! rounding differs with it. Fuel is identical by construction (it is
//! computed from shapes before the op runs) and asserted below.

use gaic_sandbox::tensor::{self, CpuBackend, Deadline, DeviceChoice, Tensor, TensorBackend};
use gaic_sandbox::{Limits, Sandbox, SandboxConfig, Verdict};

fn cuda() -> Option<Box<dyn TensorBackend>> {
    match tensor::select(DeviceChoice::Cuda) {
        Ok((backend, device)) => {
            println!("running on {}", device.name);
            Some(backend)
        }
        Err(why) => {
            assert!(std::env::var("GAIC_REQUIRE_CUDA").as_deref() != Ok("1"), "CUDA required but unavailable: {why}");
            println!("SKIPPED: no CUDA device ({why})");
            None
        }
    }
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

#[test]
#[ignore = "needs an NVIDIA GPU: scripts/gpu-check.sh runs it"]
fn matmul_on_cuda_matches_the_cpu() {
    let Some(gpu) = cuda() else { return };
    for (m, k, n) in [(1, 1, 1), (257, 129, 65), (512, 512, 512), (3, 1000, 7)] {
        let (a, b) = (values(m * k, 1), values(k * n, 2));
        let d = &Deadline::NONE;
        close(&CpuBackend.matmul(&a, &b, m, k, n, d).unwrap(), &gpu.matmul(&a, &b, m, k, n, d).unwrap());
    }
}

#[test]
#[ignore = "needs an NVIDIA GPU: scripts/gpu-check.sh runs it"]
fn conv2d_on_cuda_matches_the_cpu() {
    let Some(gpu) = cuda() else { return };
    let x = Tensor { shape: [2, 3, 17, 13], data: values(2 * 3 * 17 * 13, 3) };
    let w = Tensor { shape: [4, 3, 3, 3], data: values(4 * 3 * 3 * 3, 4) };
    for (stride, pad) in [(1, 0), (1, 1), (2, 1), (3, 2)] {
        let out = [2, 4, (17 + 2 * pad - 3) / stride + 1, (13 + 2 * pad - 3) / stride + 1];
        let d = &Deadline::NONE;
        close(
            &CpuBackend.conv2d(&x, &w, stride, pad, out, d).unwrap(),
            &gpu.conv2d(&x, &w, stride, pad, out, d).unwrap(),
        );
    }
}

#[test]
#[ignore = "needs an NVIDIA GPU: scripts/gpu-check.sh runs it"]
fn maxpool2d_on_cuda_matches_the_cpu_exactly() {
    let Some(gpu) = cuda() else { return };
    let x = Tensor { shape: [3, 5, 17, 13], data: values(3 * 5 * 17 * 13, 5) };
    for (size, stride) in [(1, 1), (2, 2), (3, 1), (3, 2), (13, 4)] {
        let out = [3, 5, (17 - size) / stride + 1, (13 - size) / stride + 1];
        let d = &Deadline::NONE;
        // A maximum involves no rounding: the two agree bit for bit.
        assert_eq!(
            CpuBackend.maxpool2d(&x, size, stride, out, d).unwrap(),
            gpu.maxpool2d(&x, size, stride, out, d).unwrap()
        );
    }
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
