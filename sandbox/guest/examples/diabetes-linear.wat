;; Linear regression for the diabetes demo task, written by hand in the
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
    local.get $cols i32.const 10 i32.ne if i32.const -1 return end
    local.get $oc i32.const 1 i32.ne if i32.const -2 return end
    (block $done
      (loop $next
        local.get $r local.get $rows i32.ge_s br_if $done
        local.get $in local.get $r i32.const 40 i32.mul i32.add local.set $row
        local.get $out local.get $r i32.const 4 i32.mul i32.add
    f32.const -291.5557
    local.get $row f32.load offset=0 f32.const -0.0037539883 f32.mul f32.add   ;; age
    local.get $row f32.load offset=4 f32.const -16.03751 f32.mul f32.add   ;; sex
    local.get $row f32.load offset=8 f32.const 5.572772 f32.mul f32.add   ;; bmi
    local.get $row f32.load offset=12 f32.const 1.4689399 f32.mul f32.add   ;; bp
    local.get $row f32.load offset=16 f32.const -0.5787267 f32.mul f32.add   ;; s1
    local.get $row f32.load offset=20 f32.const 0.31821924 f32.mul f32.add   ;; s2
    local.get $row f32.load offset=24 f32.const -0.026414802 f32.mul f32.add   ;; s3
    local.get $row f32.load offset=28 f32.const 8.029202 f32.mul f32.add   ;; s4
    local.get $row f32.load offset=32 f32.const 45.607483 f32.mul f32.add   ;; s5
    local.get $row f32.load offset=36 f32.const 0.09410958 f32.mul f32.add   ;; s6
        f32.store
        local.get $r i32.const 1 i32.add local.set $r
        br $next))
    local.get $rows))
