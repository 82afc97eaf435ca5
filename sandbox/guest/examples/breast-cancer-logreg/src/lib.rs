//! breast-cancer-logreg: P(malignant) = σ(b + Σ wⱼ·(xⱼ − μⱼ)/σⱼ), in plain
//! wasm arithmetic (no host ops), for the `breast-cancer` task.
//!
//! Standardisation and weights were fitted on the task's public training
//! data by `cargo run --release --example train_demo_models` and are embedded
//! from `weights.bin`.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use gaic_guest::{Model, f32s};

const D: usize = 30;

struct LogReg(Vec<f32>);

impl Model for LogReg {
    fn new() -> Self {
        LogReg(f32s(include_bytes!("../weights.bin")))
    }

    fn predict(&self, input: &[f32], rows: usize, cols: usize, out: &mut [f32], out_cols: usize) -> Result<(), i32> {
        if cols != D || out_cols != 1 {
            return Err(-10);
        }
        let (mean, rest) = self.0.split_at(D);
        let (std, rest) = rest.split_at(D);
        let (w, b) = rest.split_at(D);
        for (r, o) in out.iter_mut().enumerate().take(rows) {
            let x = &input[r * D..(r + 1) * D];
            let mut z = b[0];
            for j in 0..D {
                z += w[j] * (x[j] - mean[j]) / std[j];
            }
            // A numerically safe sigmoid without libm: e^-|z| via exp2.
            *o = sigmoid(z);
        }
        Ok(())
    }
}

/// σ(z) with a small exp (range-reduced 2^x polynomial), accurate to ~1e-6.
fn sigmoid(z: f32) -> f32 {
    let t = (-z.abs()).max(-80.0) * core::f32::consts::LOG2_E;
    // floor for t ≤ 0 without libm: truncation rounds toward zero.
    let trunc = t as i32 as f32;
    let i = if trunc > t { trunc - 1.0 } else { trunc };
    let f = t - i;
    // 2^f on [0, 1): a degree-5 minimax polynomial.
    let p = 1.0 + f * (0.693_147_2 + f * (0.240_226_5 + f * (0.055_504_1 + f * (0.009_618_1 + f * 0.001_333_6))));
    let e = p * f32::from_bits((((i as i32) + 127).max(1) as u32) << 23);
    if z >= 0.0 { 1.0 / (1.0 + e) } else { e / (1.0 + e) }
}

gaic_guest::export_model!(LogReg);
