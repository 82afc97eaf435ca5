//! bench-kernels: `gaic_predict` multiplies its `rows × 512` input by a fixed
//! 512 × 512 matrix in plain wasm arithmetic (no host ops), for the sandbox's
//! wasm-versus-native benchmark.

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

use gaic_guest::Model;

mod kernels {
    include!("kernels.rs");
}

const N: usize = 512;

struct Bench(Vec<f32>);

impl Model for Bench {
    fn new() -> Self {
        Bench(kernels::weights(N))
    }

    fn predict(&self, input: &[f32], rows: usize, cols: usize, out: &mut [f32], out_cols: usize) -> Result<(), i32> {
        if cols != N || out_cols != N {
            return Err(-10);
        }
        kernels::matmul(input, &self.0, rows, N, N, out);
        Ok(())
    }
}

gaic_guest::export_model!(Bench);
