/* The gaic guest ABI, version 1, for C (see ../../ABI.md): what a model
 * exports and the host operations it may import from module `gaic`.
 *
 * Build with clang for plain WebAssembly, no libc:
 *
 *   clang --target=wasm32 -O2 -nostdlib -Wl,--no-entry -o model.wasm model.c
 *
 * wasm-ld exports `memory` by itself; the functions below marked GAIC_EXPORT
 * are exported by name. Pointers are plain guest addresses (no alignment is
 * required by the host); every number is 32-bit. */
#ifndef GAIC_H
#define GAIC_H

#define GAIC_IMPORT(name) __attribute__((import_module("gaic"), import_name(name)))
#define GAIC_EXPORT(name) __attribute__((export_name(name)))

typedef int gaic_tensor; /* a host tensor handle */

/* Logs UTF-8 text to the run's log. */
GAIC_IMPORT("log") void gaic_log(const char *text, int len);
/* Copies d0·d1·d2·d3 floats from guest memory into a new host tensor. */
GAIC_IMPORT("tensor_from") gaic_tensor gaic_tensor_from(const float *data, int d0, int d1, int d2, int d3);
/* Dimension i (0–3) of a tensor. */
GAIC_IMPORT("tensor_dim") int gaic_tensor_dim(gaic_tensor t, int i);
/* Copies a tensor (exactly len values) into guest memory. */
GAIC_IMPORT("tensor_read") int gaic_tensor_read(gaic_tensor t, float *out, int len);
/* Frees a tensor. */
GAIC_IMPORT("tensor_drop") void gaic_tensor_drop(gaic_tensor t);
/* [m,k] × [k,n]. */
GAIC_IMPORT("matmul") gaic_tensor gaic_matmul(gaic_tensor a, gaic_tensor b);
/* Adds row vector b to every row of a. */
GAIC_IMPORT("add_row") gaic_tensor gaic_add_row(gaic_tensor a, gaic_tensor b);
GAIC_IMPORT("relu") gaic_tensor gaic_relu(gaic_tensor a);
GAIC_IMPORT("sigmoid") gaic_tensor gaic_sigmoid(gaic_tensor a);
GAIC_IMPORT("tanh") gaic_tensor gaic_tanh(gaic_tensor a);
GAIC_IMPORT("softmax_rows") gaic_tensor gaic_softmax_rows(gaic_tensor a);
GAIC_IMPORT("argmax_rows") gaic_tensor gaic_argmax_rows(gaic_tensor a);
/* NCHW convolution of x [n,c,h,w] by w [o,c,kh,kw], zero padding. */
GAIC_IMPORT("conv2d") gaic_tensor gaic_conv2d(gaic_tensor x, gaic_tensor w, int stride, int pad);
/* The largest value of each size×size window of each channel of x [n,c,h,w],
 * windows every stride pixels. */
GAIC_IMPORT("maxpool2d") gaic_tensor gaic_maxpool2d(gaic_tensor x, int size, int stride);

/* A model defines these three (and may define gaic_init, returning 0 when
 * ready):
 *
 *   GAIC_EXPORT("gaic_abi_version") int gaic_abi_version(void) { return 1; }
 *   GAIC_EXPORT("gaic_alloc") void *gaic_alloc(int len);   never 0: a 0 is refused
 *   GAIC_EXPORT("gaic_predict") int gaic_predict(const float *in, int rows, int cols, float *out, int out_cols);
 *
 * gaic_predict returns rows × out_cols, or a negative error code. */

/* A bump allocator over the memory after the program's data, growing it
 * when needed; the host asks for two buffers per run and never frees. */
extern unsigned char __heap_base;
static unsigned long gaic_heap_next;

static inline void *gaic_bump(int len) {
    if (gaic_heap_next == 0) {
        gaic_heap_next = (unsigned long)&__heap_base;
    }
    unsigned long start = (gaic_heap_next + 15) & ~15UL;
    unsigned long end = start + (unsigned long)len;
    unsigned long have = __builtin_wasm_memory_size(0) * 65536UL;
    if (end > have && __builtin_wasm_memory_grow(0, (end - have + 65535) / 65536) == (unsigned long)-1) {
        __builtin_trap();
    }
    gaic_heap_next = end;
    return (void *)start;
}

#endif
