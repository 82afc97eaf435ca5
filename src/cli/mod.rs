//! The `gaic` command line: one binary for the server and (later) the client
//! commands. Doc comments are the help text.

pub mod sandbox;
pub mod score;
pub mod worker;

use clap::{Parser, Subcommand};

use crate::server::ServeArgs;

/// gaic — the Global AI Challenge platform.
///
/// Start the server with the demo tasks:  gaic serve
#[derive(Debug, Parser)]
#[command(name = "gaic", version, about, long_about = None)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the platform server (API, pages, evaluation).
    ///
    /// Example: gaic serve --bind 0.0.0.0:8080 --database-url postgres://postgres@127.0.0.1/gaic
    Serve(ServeArgs),
    /// Score a submission file against a solution file, offline, exactly as the server does.
    Score(score::ScoreArgs),
    /// Run models in the sandbox locally, exactly as the judge does.
    Sandbox(sandbox::SandboxArgs),
    /// Run a remote evaluation worker that takes jobs from a server.
    Worker(worker::WorkerArgs),
}

/// Parses the command line and runs it; the exit code.
pub async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Serve(args) => crate::server::serve(args).await,
        Command::Score(args) => return args.run(),
        Command::Sandbox(args) => return args.run(),
        Command::Worker(args) => args.run().await,
    };
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use clap::CommandFactory;

    #[test]
    fn the_command_line_is_well_formed() {
        super::Cli::command().debug_assert();
    }
}
