/* Linear regression for the diabetes demo task in C, through the host's
 * tensor operations: the batch of inputs [rows, 10] times the coefficients
 * [10, 1], plus the intercept. The coefficients are those of
 * ../examples/diabetes-linear.wat (least squares on public/train.csv, by
 * `cargo run --release --example train_demo_models`). */
#include "gaic.h"

static const float COEF[10] = {
    -0.0037539883f, /* age */
    -16.03751f,     /* sex */
    5.572772f,      /* bmi */
    1.4689399f,     /* bp */
    -0.5787267f,    /* s1 */
    0.31821924f,    /* s2 */
    -0.026414802f,  /* s3 */
    8.029202f,      /* s4 */
    45.607483f,     /* s5 */
    0.09410958f,    /* s6 */
};
static const float INTERCEPT[1] = {-291.5557f};

GAIC_EXPORT("gaic_abi_version") int gaic_abi_version(void) { return 1; }

GAIC_EXPORT("gaic_alloc") void *gaic_alloc(int len) { return gaic_bump(len); }

GAIC_EXPORT("gaic_predict") int gaic_predict(const float *in, int rows, int cols, float *out, int out_cols) {
    if (cols != 10) {
        return -1;
    }
    if (out_cols != 1) {
        return -2;
    }
    gaic_tensor x = gaic_tensor_from(in, rows, 10, 1, 1);
    gaic_tensor w = gaic_tensor_from(COEF, 10, 1, 1, 1);
    gaic_tensor b = gaic_tensor_from(INTERCEPT, 1, 1, 1, 1);
    gaic_tensor xw = gaic_matmul(x, w);
    gaic_tensor y = gaic_add_row(xw, b);
    int n = gaic_tensor_read(y, out, rows);
    gaic_tensor_drop(x);
    gaic_tensor_drop(w);
    gaic_tensor_drop(b);
    gaic_tensor_drop(xw);
    gaic_tensor_drop(y);
    return n;
}
