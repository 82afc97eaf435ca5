//! Write a gaic model in Rust.
//!
//! Implement [`Model`] and call [`export_model!`]; build the crate as a
//! `cdylib` for `wasm32-unknown-unknown`. The macro exports the ABI v1
//! functions (`gaic_abi_version`, `gaic_alloc`, `gaic_init`, `gaic_predict`,
//! see the sandbox's ABI.md) and [`Tensor`] wraps the host tensor ops, which
//! run natively on the judge's CPU or GPU and are charged fuel by FLOPs.
//!
//! ```ignore
//! struct Mean;
//! impl gaic_guest::Model for Mean {
//!     fn new() -> Self { Mean }
//!     fn predict(&self, x: &[f32], rows: usize, cols: usize, out: &mut [f32], _out_cols: usize) -> Result<(), i32> {
//!         for r in 0..rows { out[r] = x[r * cols..(r + 1) * cols].iter().sum::<f32>() / cols as f32; }
//!         Ok(())
//!     }
//! }
//! gaic_guest::export_model!(Mean);
//! ```

#![no_std]

extern crate alloc;

use alloc::vec::Vec;

/// The ABI version this SDK implements.
pub const ABI_VERSION: i32 = 1;

/// A model: built once by `gaic_init`, then asked for batches.
pub trait Model {
    /// Builds the model (load embedded weights, etc.).
    fn new() -> Self;
    /// Fills `out` (`rows × out_cols`, row-major) from `input` (`rows ×
    /// cols`). An `Err(code)` ends the run with that (negative) error code.
    fn predict(&self, input: &[f32], rows: usize, cols: usize, out: &mut [f32], out_cols: usize) -> Result<(), i32>;
}

/// Reserves `len` bytes of guest memory for the host and never frees them
/// (the host asks twice per run). Returns the address, or 0.
pub fn alloc(len: i32) -> i32 {
    let Ok(len) = usize::try_from(len) else { return 0 };
    let mut v: Vec<u8> = Vec::with_capacity(len.max(8));
    let ptr = v.as_mut_ptr();
    core::mem::forget(v);
    ptr as usize as i32
}

/// Runs `model.predict` over the host's buffers; the ABI's return value.
///
/// # Safety
/// `input` and `out` must be buffers the host filled through [`alloc`], of
/// `rows × cols` and `rows × out_cols` f32 values.
pub unsafe fn predict_raw<M: Model>(model: &M, input: i32, rows: i32, cols: i32, out: i32, out_cols: i32) -> i32 {
    let (Ok(rows), Ok(cols), Ok(out_cols)) = (usize::try_from(rows), usize::try_from(cols), usize::try_from(out_cols)) else {
        return -1;
    };
    // SAFETY: the caller guarantees the buffers, allocated by `alloc` and
    // sized by the host for this batch.
    let (x, y) = unsafe {
        (
            core::slice::from_raw_parts(input as usize as *const f32, rows * cols),
            core::slice::from_raw_parts_mut(out as usize as *mut f32, rows * out_cols),
        )
    };
    match model.predict(x, rows, cols, y, out_cols) {
        Ok(()) => (rows * out_cols) as i32,
        Err(code) => code.min(-1),
    }
}

/// Exports the ABI for a [`Model`] type.
#[macro_export]
macro_rules! export_model {
    ($model:ty) => {
        static MODEL: $crate::Once<$model> = $crate::Once::new();

        #[unsafe(no_mangle)]
        pub extern "C" fn gaic_abi_version() -> i32 {
            $crate::ABI_VERSION
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn gaic_alloc(len: i32) -> i32 {
            $crate::alloc(len)
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn gaic_init() -> i32 {
            MODEL.set(<$model as $crate::Model>::new());
            0
        }

        #[unsafe(no_mangle)]
        pub extern "C" fn gaic_predict(input: i32, rows: i32, cols: i32, out: i32, out_cols: i32) -> i32 {
            match MODEL.get() {
                // SAFETY: the host passes the buffers it got from gaic_alloc.
                Some(m) => unsafe { $crate::predict_raw(m, input, rows, cols, out, out_cols) },
                None => -2,
            }
        }
    };
}

/// A value set once, by `gaic_init` (wasm32 guests are single-threaded).
pub struct Once<T>(core::cell::UnsafeCell<Option<T>>);

// SAFETY: wasm32-unknown-unknown without the threads feature has one thread.
unsafe impl<T> Sync for Once<T> {}

impl<T> Once<T> {
    /// Empty.
    pub const fn new() -> Self {
        Self(core::cell::UnsafeCell::new(None))
    }

    /// Sets the value (from `gaic_init`, before any `get`).
    pub fn set(&self, v: T) {
        // SAFETY: single-threaded, and no reference from `get` is alive
        // while the host calls gaic_init.
        unsafe { *self.0.get() = Some(v) }
    }

    /// The value, once set.
    pub fn get(&self) -> Option<&T> {
        // SAFETY: single-threaded; `set` runs only in gaic_init.
        unsafe { (*self.0.get()).as_ref() }
    }
}

impl<T> Default for Once<T> {
    fn default() -> Self {
        Self::new()
    }
}

/// The host functions of module `gaic`.
mod sys {
    #[link(wasm_import_module = "gaic")]
    unsafe extern "C" {
        pub fn log(ptr: *const u8, len: i32);
        pub fn tensor_from(ptr: *const f32, d0: i32, d1: i32, d2: i32, d3: i32) -> i32;
        pub fn tensor_dim(h: i32, i: i32) -> i32;
        pub fn tensor_read(h: i32, ptr: *mut f32, len: i32) -> i32;
        pub fn tensor_drop(h: i32);
        pub fn matmul(a: i32, b: i32) -> i32;
        pub fn add_row(a: i32, b: i32) -> i32;
        pub fn relu(a: i32) -> i32;
        pub fn sigmoid(a: i32) -> i32;
        pub fn tanh(a: i32) -> i32;
        pub fn softmax_rows(a: i32) -> i32;
        pub fn argmax_rows(a: i32) -> i32;
        pub fn conv2d(x: i32, w: i32, stride: i32, pad: i32) -> i32;
        pub fn maxpool2d(x: i32, size: i32, stride: i32) -> i32;
    }
}

/// Writes a line to the run's log (capped by the host).
pub fn log(msg: &str) {
    // SAFETY: a valid slice of guest memory.
    unsafe { sys::log(msg.as_ptr(), msg.len() as i32) }
}

/// A tensor held by the host, dropped when this handle is.
#[derive(Debug)]
pub struct Tensor(i32);

impl Drop for Tensor {
    fn drop(&mut self) {
        // SAFETY: a live handle we own.
        unsafe { sys::tensor_drop(self.0) }
    }
}

impl Tensor {
    /// A host copy of `data` with `shape` (up to four dims; its product must
    /// equal `data.len()`).
    pub fn new(data: &[f32], shape: &[usize]) -> Tensor {
        let mut s = [1i32; 4];
        for (d, &v) in s.iter_mut().zip(shape) {
            *d = v as i32;
        }
        debug_assert_eq!(shape.iter().product::<usize>(), data.len());
        // SAFETY: a valid slice of guest memory of the stated length.
        Tensor(unsafe { sys::tensor_from(data.as_ptr(), s[0], s[1], s[2], s[3]) })
    }

    /// A `rows × cols` matrix.
    pub fn matrix(data: &[f32], rows: usize, cols: usize) -> Tensor {
        Self::new(data, &[rows, cols])
    }

    /// Dimension `i` (0–3).
    pub fn dim(&self, i: usize) -> usize {
        // SAFETY: a live handle.
        unsafe { sys::tensor_dim(self.0, i as i32) as usize }
    }

    /// Number of values.
    pub fn len(&self) -> usize {
        (0..4).map(|i| self.dim(i)).product()
    }

    /// Whether it holds no values (never, for a live tensor).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `self [m,k] × other [k,n]`.
    pub fn matmul(&self, other: &Tensor) -> Tensor {
        // SAFETY: live handles.
        Tensor(unsafe { sys::matmul(self.0, other.0) })
    }

    /// Adds the row vector `row` to every row.
    pub fn add_row(&self, row: &Tensor) -> Tensor {
        // SAFETY: live handles.
        Tensor(unsafe { sys::add_row(self.0, row.0) })
    }

    /// max(x, 0).
    pub fn relu(&self) -> Tensor {
        // SAFETY: a live handle.
        Tensor(unsafe { sys::relu(self.0) })
    }

    /// 1 / (1 + e^-x).
    pub fn sigmoid(&self) -> Tensor {
        // SAFETY: a live handle.
        Tensor(unsafe { sys::sigmoid(self.0) })
    }

    /// tanh(x).
    pub fn tanh(&self) -> Tensor {
        // SAFETY: a live handle.
        Tensor(unsafe { sys::tanh(self.0) })
    }

    /// Softmax of each row.
    pub fn softmax_rows(&self) -> Tensor {
        // SAFETY: a live handle.
        Tensor(unsafe { sys::softmax_rows(self.0) })
    }

    /// Index of each row's largest value, as `[rows, 1]`.
    pub fn argmax_rows(&self) -> Tensor {
        // SAFETY: a live handle.
        Tensor(unsafe { sys::argmax_rows(self.0) })
    }

    /// NCHW convolution by `kernel [o,c,kh,kw]`.
    pub fn conv2d(&self, kernel: &Tensor, stride: usize, padding: usize) -> Tensor {
        // SAFETY: live handles.
        Tensor(unsafe { sys::conv2d(self.0, kernel.0, stride as i32, padding as i32) })
    }

    /// The largest value of each `size×size` window of each channel,
    /// windows every `stride` pixels.
    pub fn maxpool2d(&self, size: usize, stride: usize) -> Tensor {
        // SAFETY: a live handle.
        Tensor(unsafe { sys::maxpool2d(self.0, size as i32, stride as i32) })
    }

    /// Copies the values into `out` (whose length must equal [`Tensor::len`]).
    pub fn read_into(&self, out: &mut [f32]) {
        // SAFETY: a valid, writable slice of guest memory of the stated length.
        unsafe { sys::tensor_read(self.0, out.as_mut_ptr(), out.len() as i32) };
    }
}

/// Decodes little-endian f32 weights (e.g. from `include_bytes!`).
pub fn f32s(bytes: &[u8]) -> Vec<f32> {
    bytes.chunks_exact(4).map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]])).collect()
}

#[cfg(target_arch = "wasm32")]
mod runtime {
    //! A heap for a `no_std` guest and a panic that traps.

    /// A bump allocator that gives back the most recent allocation: memory
    /// a batch allocates and frees (a scratch `Vec` in `predict`) is reused
    /// by the next batch instead of growing the heap on every call; the
    /// most recent allocation also grows in place.
    struct Bump;

    static mut NEXT: usize = 0;

    unsafe extern "C" {
        /// The first byte after the stack and data (set by the linker).
        static __heap_base: u8;
    }

    /// Makes room up to `end`, growing memory; `false` when it cannot grow.
    unsafe fn reach(end: usize) -> bool {
        let have = core::arch::wasm32::memory_size(0) * 65536;
        end <= have || core::arch::wasm32::memory_grow(0, (end - have).div_ceil(65536)) != usize::MAX
    }

    // SAFETY: single-threaded guest; memory grows as needed, never shrinks.
    unsafe impl core::alloc::GlobalAlloc for Bump {
        unsafe fn alloc(&self, layout: core::alloc::Layout) -> *mut u8 {
            unsafe {
                if NEXT == 0 {
                    // The heap starts where the linker ends the stack and
                    // data: memory the module starts with is used before
                    // any is grown.
                    NEXT = &raw const __heap_base as usize;
                }
                let start = (NEXT + layout.align() - 1) & !(layout.align() - 1);
                let end = start + layout.size();
                if !reach(end) {
                    return core::ptr::null_mut();
                }
                NEXT = end;
                start as *mut u8
            }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: core::alloc::Layout) {
            unsafe {
                if ptr as usize + layout.size() == NEXT {
                    NEXT = ptr as usize;
                }
            }
        }

        unsafe fn realloc(&self, ptr: *mut u8, layout: core::alloc::Layout, new_size: usize) -> *mut u8 {
            unsafe {
                if ptr as usize + layout.size() == NEXT {
                    if !reach(ptr as usize + new_size) {
                        return core::ptr::null_mut();
                    }
                    NEXT = ptr as usize + new_size;
                    return ptr;
                }
                let new = self.alloc(core::alloc::Layout::from_size_align_unchecked(new_size, layout.align()));
                if !new.is_null() {
                    core::ptr::copy_nonoverlapping(ptr, new, layout.size().min(new_size));
                }
                new
            }
        }
    }

    #[global_allocator]
    static ALLOC: Bump = Bump;

    #[panic_handler]
    fn panic(_: &core::panic::PanicInfo<'_>) -> ! {
        core::arch::wasm32::unreachable()
    }
}
