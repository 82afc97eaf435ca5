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

/// `out [rows, n] = x [rows, k] × w [k, n]`.
///
/// Blocked so that a 4 × 8 tile of `out` stays in registers (eight 4-lane
/// vectors in wasm) while `p` runs over `k`: each tile is stored once, and
/// each step of `p` does 32 multiply-adds for four loads of `x` and two of
/// `w`. Rows and columns outside whole tiles take the plain loop.
pub fn matmul(x: &[f32], w: &[f32], rows: usize, k: usize, n: usize, out: &mut [f32]) {
    const R: usize = 4;
    const C: usize = 8;
    let (row_tiles, col_tiles) = (rows / R, n / C);
    for it in 0..row_tiles {
        let i = it * R;
        let rows_of = |r: usize| &x[(i + r) * k..(i + r + 1) * k];
        let (x0, x1, x2, x3) = (rows_of(0), rows_of(1), rows_of(2), rows_of(3));
        for jt in 0..col_tiles {
            let j = jt * C;
            let mut acc = [[0.0f32; C]; R];
            // One step of `p` (a macro, not a closure: a closure holding
            // `acc` would keep it in memory instead of registers).
            macro_rules! step {
                ($p:expr) => {{
                    let p = $p;
                    let (a0, a1, a2, a3) = (x0[p], x1[p], x2[p], x3[p]);
                    let wr: &[f32; C] = w[p * n + j..p * n + j + C].try_into().unwrap();
                    for c in 0..C {
                        acc[0][c] += a0 * wr[c];
                        acc[1][c] += a1 * wr[c];
                        acc[2][c] += a2 * wr[c];
                        acc[3][c] += a3 * wr[c];
                    }
                }};
            }
            // Four steps a loop turn: the sandbox checks fuel at every turn.
            let mut p = 0;
            while p + 4 <= k {
                step!(p);
                step!(p + 1);
                step!(p + 2);
                step!(p + 3);
                p += 4;
            }
            while p < k {
                step!(p);
                p += 1;
            }
            for (r, tile) in acc.iter().enumerate() {
                out[(i + r) * n + j..(i + r) * n + j + C].copy_from_slice(tile);
            }
        }
    }
    // What the tiles left: the last rows when `rows` is not a multiple of 4,
    // and the columns past the last whole tile in every row.
    for i in 0..rows {
        let from = if i < row_tiles * R { col_tiles * C } else { 0 };
        for j in from..n {
            let mut s = 0.0f32;
            for p in 0..k {
                s += x[i * k + p] * w[p * n + j];
            }
            out[i * n + j] = s;
        }
    }
}
