//! shapes-cnn: a small CNN for the `shapes` task (32×32 grey images, four
//! classes):
//!
//! pixels / 255 → conv 5×5, 8 filters, padding 2 (+ bias) → ReLU → max-pool
//! 2×2 → conv 3×3, 16 filters, padding 1 (+ bias) → ReLU → max-pool 2×2 →
//! 1,024 features → 4 scores.
//!
//! Every layer runs on the host (`conv2d`, `add_row`, `relu`, `maxpool2d`,
//! `matmul`), so on a GPU worker it runs on the GPU. The weights were
//! trained by `scripts/train-shapes-cnn.py` on the task's public training
//! data (`scripts/make-shapes-task.py`) and are embedded from `weights.bin`;
//! the weight tensors are made once, in `gaic_init`, and serve every batch.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use gaic_guest::{Model, Tensor, f32s};

const SIDE: usize = 32;
const C1: usize = 8;
const C2: usize = 16;
const FEATURES: usize = C2 * (SIDE / 4) * (SIDE / 4);
const OUT: usize = 4;

struct Cnn {
    w1: Tensor,
    b1: Tensor,
    w2: Tensor,
    b2: Tensor,
    w3: Tensor,
    b3: Tensor,
}

/// A channel bias as a row: each channel's value repeated over its
/// `pixels` outputs, for `add_row` on a `[n, c·pixels]` view.
fn bias_row(bias: &[f32], pixels: usize) -> Tensor {
    let row: Vec<f32> = bias.iter().flat_map(|&b| core::iter::repeat_n(b, pixels)).collect();
    Tensor::matrix(&row, 1, row.len())
}

impl Model for Cnn {
    fn new() -> Self {
        let w = f32s(include_bytes!("../weights.bin"));
        let (w1, rest) = w.split_at(C1 * 25);
        let (b1, rest) = rest.split_at(C1);
        let (w2, rest) = rest.split_at(C2 * C1 * 9);
        let (b2, rest) = rest.split_at(C2);
        let (w3, b3) = rest.split_at(FEATURES * OUT);
        Cnn {
            w1: Tensor::new(w1, &[C1, 1, 5, 5]),
            b1: bias_row(b1, SIDE * SIDE),
            w2: Tensor::new(w2, &[C2, C1, 3, 3]),
            b2: bias_row(b2, (SIDE / 2) * (SIDE / 2)),
            w3: Tensor::matrix(w3, FEATURES, OUT),
            b3: Tensor::matrix(b3, 1, OUT),
        }
    }

    fn predict(&self, input: &[f32], rows: usize, cols: usize, out: &mut [f32], out_cols: usize) -> Result<(), i32> {
        if cols != SIDE * SIDE || out_cols != OUT {
            return Err(-10);
        }
        // A scratch copy per batch: freed when `predict` returns, and the
        // SDK's allocator gives the memory back for the next batch.
        let x: Vec<f32> = input.iter().map(|v| v / 255.0).collect();
        let x = Tensor::new(&x, &[rows, 1, SIDE, SIDE]);
        let h = x.conv2d(&self.w1, 1, 2).add_row(&self.b1).relu().maxpool2d(2, 2);
        let h = h.conv2d(&self.w2, 1, 1).add_row(&self.b2).relu().maxpool2d(2, 2);
        // A [rows, 16, 8, 8] tensor is a [rows, 1024] matrix to matmul.
        h.matmul(&self.w3).add_row(&self.b3).read_into(out);
        Ok(())
    }
}

gaic_guest::export_model!(Cnn);
