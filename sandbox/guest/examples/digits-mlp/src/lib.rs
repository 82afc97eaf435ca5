//! digits-mlp: 64 → 32 (ReLU) → 10 scores, for the `digits` task.
//!
//! The weights were trained on the task's public training data by
//! `cargo run --release --example train_demo_models` (deterministic) and are
//! embedded from `weights.bin`. Both matrix products run on the host
//! (`gaic.matmul`), charged fuel by FLOPs.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use gaic_guest::{Model, Tensor, f32s};

const IN: usize = 64;
const HIDDEN: usize = 32;
const OUT: usize = 10;

struct Mlp {
    w1: Vec<f32>,
    b1: Vec<f32>,
    w2: Vec<f32>,
    b2: Vec<f32>,
}

impl Model for Mlp {
    fn new() -> Self {
        let w = f32s(include_bytes!("../weights.bin"));
        let (w1, rest) = w.split_at(IN * HIDDEN);
        let (b1, rest) = rest.split_at(HIDDEN);
        let (w2, b2) = rest.split_at(HIDDEN * OUT);
        // Pixels are 0-16 and the network was trained on them scaled to
        // 0-1: the scale is folded into the first layer once, so a batch
        // goes to the host as it came, with no copy in the guest.
        let w1 = w1.iter().map(|w| w / 16.0).collect();
        Mlp { w1, b1: b1.to_vec(), w2: w2.to_vec(), b2: b2.to_vec() }
    }

    fn predict(&self, input: &[f32], rows: usize, cols: usize, out: &mut [f32], out_cols: usize) -> Result<(), i32> {
        if cols != IN || out_cols != OUT {
            return Err(-10);
        }
        let x = Tensor::matrix(input, rows, IN);
        let h = x.matmul(&Tensor::matrix(&self.w1, IN, HIDDEN)).add_row(&Tensor::matrix(&self.b1, 1, HIDDEN)).relu();
        let y = h.matmul(&Tensor::matrix(&self.w2, HIDDEN, OUT)).add_row(&Tensor::matrix(&self.b2, 1, OUT));
        y.read_into(out);
        Ok(())
    }
}

gaic_guest::export_model!(Mlp);
