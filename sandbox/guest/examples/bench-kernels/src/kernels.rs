// Shared verbatim by the guest (compiled to wasm) and the sandbox's
// benchmark (compiled natively), so the two run the very same code.

/// The deterministic `n × n` weight matrix the benchmark multiplies by.
pub fn weights(n: usize) -> alloc::vec::Vec<f32> {
    let mut s: u32 = 12345;
    (0..n * n)
        .map(|_| {
            s = s.wrapping_mul(1_664_525).wrapping_add(1_013_904_223);
            (s >> 8) as f32 / (1u32 << 24) as f32 - 0.5
        })
        .collect()
}

/// `out [rows, n] = x [rows, k] × w [k, n]`, i-k-j loop order.
pub fn matmul(x: &[f32], w: &[f32], rows: usize, k: usize, n: usize, out: &mut [f32]) {
    for v in out.iter_mut() {
        *v = 0.0;
    }
    for i in 0..rows {
        for p in 0..k {
            let a = x[i * k + p];
            let wr = &w[p * n..(p + 1) * n];
            let or = &mut out[i * n..(i + 1) * n];
            for j in 0..n {
                or[j] += a * wr[j];
            }
        }
    }
}
