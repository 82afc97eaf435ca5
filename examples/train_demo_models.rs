//! Trains the example models of `sandbox/guest/examples` on the demo tasks'
//! public training data, deterministically, and writes their weights:
//!
//!     cargo run --release --example train_demo_models
//!
//! - digits-mlp: a 64→32→10 MLP (ReLU, softmax cross-entropy), plain SGD
//!   with a fixed seed, batch 16, 40 epochs, learning rate 0.1; pixels scaled
//!   by 1/16. Written as f32 little-endian W1, b1, W2, b2.
//! - breast-cancer-logreg: logistic regression on standardised features,
//!   full-batch gradient descent (2,000 steps, rate 0.5, L2 1e-3). Written as
//!   f32 mean[30], std[30], w[30], b.
//! - diabetes-linear: least squares with a small ridge (1e-6 relative), solved
//!   by Gaussian elimination in f64, written into a WAT module (the
//!   other-language example).
//!
//! Everything runs in a fixed order on one thread, so the output is the same
//! on every run of the same build.

use std::fs;
use std::path::Path;

fn read_csv(path: &Path) -> (Vec<String>, Vec<Vec<f64>>) {
    let text = fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header = lines.next().unwrap().split(',').map(str::to_owned).collect();
    let rows = lines.map(|l| l.split(',').map(|v| v.parse().unwrap()).collect()).collect();
    (header, rows)
}

/// xorshift64*: a tiny deterministic generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn unit(&mut self) -> f32 {
        (self.next() >> 40) as f32 / (1u64 << 24) as f32
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            v.swap(i, (self.next() % (i as u64 + 1)) as usize);
        }
    }
}

fn write_f32s(path: &Path, parts: &[&[f32]]) {
    let bytes: Vec<u8> = parts.iter().flat_map(|p| p.iter().flat_map(|v| v.to_le_bytes())).collect();
    fs::write(path, bytes).unwrap();
    println!("wrote {} ({} values)", path.display(), parts.iter().map(|p| p.len()).sum::<usize>());
}

fn digits(root: &Path, out: &Path) {
    let (_, rows) = read_csv(&root.join("tasks/digits/public/train.csv"));
    let x: Vec<Vec<f32>> = rows.iter().map(|r| r[1..65].iter().map(|&v| v as f32 / 16.0).collect()).collect();
    let y: Vec<usize> = rows.iter().map(|r| r[65] as usize).collect();
    let (i, h, o) = (64, 32, 10);
    let mut rng = Rng(0x005e_edd1_6175);
    let scale1 = (2.0 / i as f32).sqrt();
    let scale2 = (2.0 / h as f32).sqrt();
    let mut w1: Vec<f32> = (0..i * h).map(|_| (rng.unit() * 2.0 - 1.0) * scale1).collect();
    let mut b1 = vec![0.0f32; h];
    let mut w2: Vec<f32> = (0..h * o).map(|_| (rng.unit() * 2.0 - 1.0) * scale2).collect();
    let mut b2 = vec![0.0f32; o];
    let mut order: Vec<usize> = (0..x.len()).collect();
    let (lr, batch) = (0.1f32, 16);
    for _epoch in 0..40 {
        rng.shuffle(&mut order);
        for chunk in order.chunks(batch) {
            let (mut gw1, mut gb1, mut gw2, mut gb2) = (vec![0.0; i * h], vec![0.0; h], vec![0.0; h * o], vec![0.0; o]);
            for &n in chunk {
                let xn = &x[n];
                let mut a1 = b1.clone();
                for (k, &xv) in xn.iter().enumerate() {
                    for j in 0..h {
                        a1[j] += xv * w1[k * h + j];
                    }
                }
                let z1: Vec<f32> = a1.iter().map(|v| v.max(0.0)).collect();
                let mut a2 = b2.clone();
                for (k, &zv) in z1.iter().enumerate() {
                    for j in 0..o {
                        a2[j] += zv * w2[k * o + j];
                    }
                }
                let max = a2.iter().copied().fold(f32::NEG_INFINITY, f32::max);
                let exp: Vec<f32> = a2.iter().map(|v| (v - max).exp()).collect();
                let sum: f32 = exp.iter().sum();
                let d2: Vec<f32> = (0..o).map(|j| exp[j] / sum - if j == y[n] { 1.0 } else { 0.0 }).collect();
                for k in 0..h {
                    for j in 0..o {
                        gw2[k * o + j] += z1[k] * d2[j];
                    }
                }
                for j in 0..o {
                    gb2[j] += d2[j];
                }
                let d1: Vec<f32> = (0..h)
                    .map(|k| if a1[k] > 0.0 { (0..o).map(|j| w2[k * o + j] * d2[j]).sum() } else { 0.0 })
                    .collect();
                for (k, &xv) in xn.iter().enumerate() {
                    for j in 0..h {
                        gw1[k * h + j] += xv * d1[j];
                    }
                }
                for j in 0..h {
                    gb1[j] += d1[j];
                }
            }
            let s = lr / chunk.len() as f32;
            for (w, g) in w1.iter_mut().zip(&gw1) {
                *w -= s * g;
            }
            for (w, g) in b1.iter_mut().zip(&gb1) {
                *w -= s * g;
            }
            for (w, g) in w2.iter_mut().zip(&gw2) {
                *w -= s * g;
            }
            for (w, g) in b2.iter_mut().zip(&gb2) {
                *w -= s * g;
            }
        }
    }
    write_f32s(&out.join("digits-mlp/weights.bin"), &[&w1, &b1, &w2, &b2]);
}

fn breast_cancer(root: &Path, out: &Path) {
    let (_, rows) = read_csv(&root.join("tasks/breast-cancer/public/train.csv"));
    let d = 30;
    let n = rows.len() as f64;
    let mean: Vec<f64> = (0..d).map(|j| rows.iter().map(|r| r[1 + j]).sum::<f64>() / n).collect();
    let std: Vec<f64> = (0..d)
        .map(|j| (rows.iter().map(|r| (r[1 + j] - mean[j]).powi(2)).sum::<f64>() / n).sqrt().max(1e-12))
        .collect();
    let x: Vec<Vec<f64>> = rows.iter().map(|r| (0..d).map(|j| (r[1 + j] - mean[j]) / std[j]).collect()).collect();
    let y: Vec<f64> = rows.iter().map(|r| r[1 + d]).collect();
    let (mut w, mut b) = (vec![0.0f64; d], 0.0f64);
    for _ in 0..2000 {
        let (mut gw, mut gb) = (vec![0.0; d], 0.0);
        for (xi, &yi) in x.iter().zip(&y) {
            let z: f64 = b + xi.iter().zip(&w).map(|(a, b)| a * b).sum::<f64>();
            let p = 1.0 / (1.0 + (-z).exp());
            for j in 0..d {
                gw[j] += (p - yi) * xi[j];
            }
            gb += p - yi;
        }
        for j in 0..d {
            w[j] -= 0.5 * (gw[j] / n + 1e-3 * w[j]);
        }
        b -= 0.5 * gb / n;
    }
    let f = |v: &[f64]| v.iter().map(|&x| x as f32).collect::<Vec<f32>>();
    write_f32s(&out.join("breast-cancer-logreg/weights.bin"), &[&f(&mean), &f(&std), &f(&w), &[b as f32]]);
}

fn diabetes(root: &Path, out: &Path) {
    let (header, rows) = read_csv(&root.join("tasks/diabetes/public/train.csv"));
    let d = 10;
    // Normal equations with an intercept: (XᵀX + λI) β = Xᵀy.
    let k = d + 1;
    let mut a = vec![vec![0.0f64; k + 1]; k];
    for r in &rows {
        let mut xi = vec![1.0];
        xi.extend_from_slice(&r[1..=d]);
        let yi = r[d + 1];
        for p in 0..k {
            for q in 0..k {
                a[p][q] += xi[p] * xi[q];
            }
            a[p][k] += xi[p] * yi;
        }
    }
    let trace: f64 = (0..k).map(|p| a[p][p]).sum();
    for (p, row) in a.iter_mut().enumerate().skip(1) {
        row[p] += 1e-6 * trace / k as f64;
    }
    for c in 0..k {
        let piv = (c..k).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs())).unwrap();
        a.swap(c, piv);
        let pivot = a[c].clone();
        for (r, row) in a.iter_mut().enumerate() {
            if r != c {
                let f = row[c] / pivot[c];
                for (x, p) in row[c..].iter_mut().zip(&pivot[c..]) {
                    *x -= f * p;
                }
            }
        }
    }
    let beta: Vec<f64> = (0..k).map(|p| a[p][k] / a[p][p]).collect();
    let mut body = format!("    f32.const {}\n", beta[0] as f32);
    for j in 0..d {
        body += &format!(
            "    local.get $row f32.load offset={} f32.const {} f32.mul f32.add   ;; {}\n",
            4 * j,
            beta[j + 1] as f32,
            header[j + 1]
        );
    }
    let wat = format!(
        r#";; Linear regression for the diabetes demo task, written by hand in the
;; WebAssembly text format to show that the gaic guest ABI is language
;; neutral. The coefficients were fitted (least squares on public/train.csv)
;; by `cargo run --release --example train_demo_models`, which writes this file.
(module
  (memory (export "memory") 1)
  ;; A bump allocator: enough for the two buffers the host asks for.
  (global $heap (mut i32) (i32.const 1024))
  (func (export "gaic_abi_version") (result i32) i32.const 1)
  (func (export "gaic_alloc") (param $n i32) (result i32)
    (local $p i32)
    global.get $heap local.set $p
    global.get $heap local.get $n i32.add i32.const 7 i32.add i32.const -8 i32.and global.set $heap
    (block $ok
      (loop $grow
        global.get $heap memory.size i32.const 65536 i32.mul i32.le_u br_if $ok
        i32.const 1 memory.grow i32.const -1 i32.eq if unreachable end
        br $grow))
    local.get $p)
  ;; out[r] = b + Σ w_j · in[r, j]
  (func (export "gaic_predict") (param $in i32) (param $rows i32) (param $cols i32) (param $out i32) (param $oc i32) (result i32)
    (local $r i32) (local $row i32)
    local.get $cols i32.const {d} i32.ne if i32.const -1 return end
    local.get $oc i32.const 1 i32.ne if i32.const -2 return end
    (block $done
      (loop $next
        local.get $r local.get $rows i32.ge_s br_if $done
        local.get $in local.get $r i32.const {row_bytes} i32.mul i32.add local.set $row
        local.get $out local.get $r i32.const 4 i32.mul i32.add
{body}        f32.store
        local.get $r i32.const 1 i32.add local.set $r
        br $next))
    local.get $rows))
"#,
        row_bytes = 4 * d
    );
    let path = out.join("diabetes-linear.wat");
    fs::write(&path, wat).unwrap();
    println!("wrote {}", path.display());
}

fn main() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let out = root.join("sandbox/guest/examples");
    fs::create_dir_all(out.join("digits-mlp")).unwrap();
    fs::create_dir_all(out.join("breast-cancer-logreg")).unwrap();
    digits(root, &out);
    breast_cancer(root, &out);
    diabetes(root, &out);
}
