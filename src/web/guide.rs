//! The newcomer's guides: "How to compete" (data → first CSV → first model
//! → board, with the CLI commands) in both languages, and "Build a model",
//! rendered from the sandbox's ABI guide with the repository's example
//! models, and the guest SDK to download. The texts are compiled in, so the
//! pages always describe the code they ship with.

use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use minijinja::context;

use super::{PageCtx, markdown};
use crate::http::MaybeUser;
use crate::messages::Lang;

const HOW_TO_EN: &str = include_str!("guide/how-to-compete.en.md");
const HOW_TO_KO: &str = include_str!("guide/how-to-compete.ko.md");
const BUILD_EN: &str = include_str!("guide/build-a-model.en.md");
const BUILD_KO: &str = include_str!("guide/build-a-model.ko.md");
const ABI: &str = include_str!("../../sandbox/ABI.md");
const RUST_EXAMPLE: &str = include_str!("../../sandbox/guest/examples/digits-mlp/src/lib.rs");
const WAT_EXAMPLE: &str = include_str!("../../sandbox/guest/examples/diabetes-linear.wat");
const C_HEADER: &str = include_str!("../../sandbox/guest/c/gaic.h");
const C_EXAMPLE: &str = include_str!("../../sandbox/guest/c/diabetes-linear.c");

/// The guest SDK's files (its Cargo workspace: the SDK crate and the
/// example models), as the download packs them under `gaic-guest-sdk/`.
const SDK: &[(&str, &[u8])] = &[
    ("ABI.md", include_bytes!("../../sandbox/ABI.md")),
    ("README.md", include_bytes!("../../sandbox/guest/README.md")),
    ("Cargo.toml", include_bytes!("../../sandbox/guest/Cargo.toml")),
    ("Cargo.lock", include_bytes!("../../sandbox/guest/Cargo.lock")),
    (".cargo/config.toml", include_bytes!("../../sandbox/guest/.cargo/config.toml")),
    ("gaic-guest/Cargo.toml", include_bytes!("../../sandbox/guest/gaic-guest/Cargo.toml")),
    ("gaic-guest/src/lib.rs", include_bytes!("../../sandbox/guest/gaic-guest/src/lib.rs")),
    ("examples/digits-mlp/Cargo.toml", include_bytes!("../../sandbox/guest/examples/digits-mlp/Cargo.toml")),
    ("examples/digits-mlp/src/lib.rs", include_bytes!("../../sandbox/guest/examples/digits-mlp/src/lib.rs")),
    ("examples/digits-mlp/weights.bin", include_bytes!("../../sandbox/guest/examples/digits-mlp/weights.bin")),
    ("examples/shapes-cnn/Cargo.toml", include_bytes!("../../sandbox/guest/examples/shapes-cnn/Cargo.toml")),
    ("examples/shapes-cnn/src/lib.rs", include_bytes!("../../sandbox/guest/examples/shapes-cnn/src/lib.rs")),
    ("examples/shapes-cnn/weights.bin", include_bytes!("../../sandbox/guest/examples/shapes-cnn/weights.bin")),
    (
        "examples/breast-cancer-logreg/Cargo.toml",
        include_bytes!("../../sandbox/guest/examples/breast-cancer-logreg/Cargo.toml"),
    ),
    (
        "examples/breast-cancer-logreg/src/lib.rs",
        include_bytes!("../../sandbox/guest/examples/breast-cancer-logreg/src/lib.rs"),
    ),
    (
        "examples/breast-cancer-logreg/weights.bin",
        include_bytes!("../../sandbox/guest/examples/breast-cancer-logreg/weights.bin"),
    ),
    ("examples/bench-kernels/Cargo.toml", include_bytes!("../../sandbox/guest/examples/bench-kernels/Cargo.toml")),
    ("examples/bench-kernels/src/lib.rs", include_bytes!("../../sandbox/guest/examples/bench-kernels/src/lib.rs")),
    (
        "examples/bench-kernels/src/kernels.rs",
        include_bytes!("../../sandbox/guest/examples/bench-kernels/src/kernels.rs"),
    ),
    ("examples/diabetes-linear.wat", include_bytes!("../../sandbox/guest/examples/diabetes-linear.wat")),
    ("c/gaic.h", include_bytes!("../../sandbox/guest/c/gaic.h")),
    ("c/diabetes-linear.c", include_bytes!("../../sandbox/guest/c/diabetes-linear.c")),
];

/// `/how-to-compete`.
pub(super) async fn how_to_compete(viewer: MaybeUser, headers: HeaderMap, uri: Uri) -> Response {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    let text = if page.lang == Lang::Ko { HOW_TO_KO } else { HOW_TO_EN };
    let body = context! { heading => page.t("how_to_compete"), html => markdown(text), sections => Vec::<()>::new(), sdk => false };
    page.render(StatusCode::OK, "guide.html", body)
}

/// `/build-a-model`: the introduction in the viewer's language, then the
/// ABI guide and two example models as the repository has them.
pub(super) async fn build_a_model(viewer: MaybeUser, headers: HeaderMap, uri: Uri) -> Response {
    let page = PageCtx::new(&headers, viewer.0.as_ref(), &uri);
    let intro = if page.lang == Lang::Ko { BUILD_KO } else { BUILD_EN };
    let sections = [
        context! { id => "abi", title => page.t("guide_abi"), html => markdown(ABI), lang => "en" },
        context! {
            id => "rust", title => page.t("guide_rust_example"),
            html => markdown(&format!("`examples/digits-mlp/src/lib.rs`\n\n```rust\n{RUST_EXAMPLE}```\n")), lang => "en",
        },
        context! {
            id => "c", title => page.t("guide_c_example"),
            html => markdown(&format!(
                "`c/diabetes-linear.c`\n\n```c\n{C_EXAMPLE}```\n\n`c/gaic.h`\n\n```c\n{C_HEADER}```\n"
            )),
            lang => "en",
        },
        context! {
            id => "wat", title => page.t("guide_wat_example"),
            html => markdown(&format!("`examples/diabetes-linear.wat`\n\n```wasm\n{WAT_EXAMPLE}```\n")), lang => "en",
        },
    ];
    let body =
        context! { heading => page.t("build_a_model"), html => markdown(intro), sections => sections, sdk => true };
    page.render(StatusCode::OK, "guide.html", body)
}

/// `/downloads/gaic-guest-sdk.tar.gz`: the SDK's files, packed once.
pub(super) async fn guest_sdk() -> Response {
    static PACKED: std::sync::OnceLock<Vec<u8>> = std::sync::OnceLock::new();
    let bytes = PACKED.get_or_init(pack_sdk).clone();
    let disposition = HeaderValue::from_static("attachment; filename=\"gaic-guest-sdk.tar.gz\"");
    (
        [
            (header::CONTENT_TYPE, HeaderValue::from_static("application/gzip")),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response()
}

/// The SDK as a `.tar.gz` under `gaic-guest-sdk/` (fixed times and modes, so
/// the same build always serves the same bytes).
fn pack_sdk() -> Vec<u8> {
    let gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    let mut tar = tar::Builder::new(gz);
    for (path, bytes) in SDK {
        let mut head = tar::Header::new_gnu();
        head.set_size(bytes.len() as u64);
        head.set_mode(0o644);
        head.set_mtime(0);
        head.set_cksum();
        tar.append_data(&mut head, format!("gaic-guest-sdk/{path}"), *bytes).expect("writing to memory");
    }
    tar.into_inner().and_then(flate2::write::GzEncoder::finish).expect("writing to memory")
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_sdk_unpacks_to_the_repositorys_guest_workspace() {
        let bytes = super::pack_sdk();
        let mut archive = tar::Archive::new(flate2::read::GzDecoder::new(&bytes[..]));
        let names: Vec<String> =
            archive.entries().unwrap().map(|e| e.unwrap().path().unwrap().display().to_string()).collect();
        assert!(names.contains(&"gaic-guest-sdk/gaic-guest/src/lib.rs".to_owned()), "{names:?}");
        assert!(names.contains(&"gaic-guest-sdk/examples/digits-mlp/weights.bin".to_owned()));
        // Every member of the workspace is in it, so it builds as it is.
        let manifest = std::str::from_utf8(super::SDK[2].1).unwrap();
        let members = manifest.split("members = [").nth(1).unwrap().split(']').next().unwrap();
        for member in members.split(',').map(|m| m.trim().trim_matches('"')).filter(|m| !m.is_empty()) {
            assert!(names.contains(&format!("gaic-guest-sdk/{member}/Cargo.toml")), "{member} is missing");
        }
        assert_eq!(super::pack_sdk(), bytes, "the same bytes every time");
    }
}
