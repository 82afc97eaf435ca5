//! The `gaic` binary: everything is in the library.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    gaic::cli::main().await
}
