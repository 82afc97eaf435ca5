//! The `gaic` binary: everything is in the library.

fn main() -> std::process::ExitCode {
    gaic::cli::main()
}
