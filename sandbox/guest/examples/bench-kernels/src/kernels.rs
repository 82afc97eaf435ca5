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
            // 32 columns a turn (eight 4-lane vectors in wasm): the sandbox
            // checks fuel at every loop turn, so a short turn pays for it
            // more often.
            let mut o_blocks = or.chunks_exact_mut(32);
            let mut w_blocks = wr.chunks_exact(32);
            for (o, w) in (&mut o_blocks).zip(&mut w_blocks) {
                for j in 0..32 {
                    o[j] += a * w[j];
                }
            }
            for (o, w) in o_blocks.into_remainder().iter_mut().zip(w_blocks.remainder()) {
                *o += a * w;
            }
        }
    }
}
