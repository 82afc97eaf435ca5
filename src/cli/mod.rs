//! The `gaic` command line: one binary for the server, the local judge,
//! remote workers and the client commands (which speak only HTTP to a
//! server). Doc comments are the help text.

pub mod client;
pub mod commands;
pub mod sandbox;
pub mod score;
pub mod worker;

use clap::{Parser, Subcommand};

use crate::server::ServeArgs;

/// gaic — the Global AI Challenge platform.
///
/// Start the server with the demo tasks:  gaic serve
///
/// Compete from a terminal:  gaic login --server URL --username NAME, then
/// gaic tasks list, gaic tasks download SLUG, gaic submit SLUG FILE --wait.
///
/// Client commands read the server and token from --server/--token,
/// GAIC_SERVER/GAIC_TOKEN, or what `gaic login` stored. Listings take --json
/// (the API's JSON, documented at /api/v1/openapi.json). Colour only on a
/// terminal; NO_COLOR turns it off.
///
/// Exit codes: 0 success; 1 an error (the server's message and a hint are
/// printed); 2 a submission that failed (`gaic submit --wait`).
#[derive(Debug, Parser)]
#[command(name = "gaic", version, about, long_about)]
pub struct Cli {
    /// Which server and token client commands use.
    #[command(flatten)]
    pub remote: client::Remote,
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
    Login(commands::LoginArgs),
    /// Revoke the stored token on the server and forget it here. Example: gaic logout
    Logout,
    /// Who the token belongs to. Example: gaic whoami --json
    Whoami {
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// List, show and download tasks; organizers create, publish, close and rescore.
    #[command(subcommand)]
    Tasks(commands::TasksCmd),
    Submit(commands::SubmitArgs),
    /// Your team's submissions to a task. Example: gaic submissions digits
    Submissions {
        /// The task.
        slug: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Select submissions for the private leaderboard. Example: gaic select digits 12 15
    Select {
        /// The task.
        slug: String,
        /// Submission ids.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Unselect a final submission. Example: gaic unselect digits 12
    Unselect {
        /// The task.
        slug: String,
        /// The submission.
        id: i64,
    },
    /// A task's leaderboard. Example: gaic leaderboard digits --top 10
    Leaderboard(commands::LeaderboardArgs),
    /// Teams: show, create, invite, accept, decline, leave.
    #[command(subcommand)]
    Team(commands::TeamCmd),
    /// Organizers: a task's evaluation queue. Example: gaic queue digits
    Queue {
        /// The task.
        slug: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Recruiters: search people who agreed to be found, and show one.
    #[command(subcommand)]
    Talent(commands::TalentCmd),
    /// Admins: roles and worker tokens.
    #[command(subcommand)]
    Admin(commands::AdminCmd),
    /// Download your signed result credentials. Example: gaic credentials --out creds/
    Credentials {
        /// Folder to write them into.
        #[arg(long, default_value = ".")]
        out: std::path::PathBuf,
        /// Print the API's JSON instead.
        #[arg(long)]
        json: bool,
    },
    Verify(commands::VerifyArgs),
}

/// Parses the command line and runs it; the exit code.
pub async fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let remote = cli.remote;
    let client = match cli.command {
        Command::Serve(args) => crate::server::serve(args).await,
        Command::Score(args) => return args.run(),
        Command::Sandbox(args) => return args.run(),
        Command::Worker(args) => args.run().await,
        Command::Login(args) => return exit(args.run().await.map(|()| 0)),
        Command::Logout => return exit(commands::logout(&remote).await.map(|()| 0)),
        Command::Whoami { json } => return exit(commands::whoami(&remote, json).await.map(|()| 0)),
        Command::Tasks(cmd) => return exit(cmd.run(&remote).await.map(|()| 0)),
        Command::Submit(args) => return exit(args.run(&remote).await),
        Command::Submissions { slug, json } => {
            return exit(commands::submissions(&remote, &slug, json).await.map(|()| 0));
        }
        Command::Select { slug, ids } => return exit(commands::select(&remote, &slug, &ids, true).await.map(|()| 0)),
        Command::Unselect { slug, id } => {
            return exit(commands::select(&remote, &slug, &[id], false).await.map(|()| 0));
        }
        Command::Leaderboard(args) => return exit(args.run(&remote).await.map(|()| 0)),
        Command::Team(cmd) => return exit(cmd.run(&remote).await.map(|()| 0)),
        Command::Queue { slug, json } => return exit(commands::queue(&remote, &slug, json).await.map(|()| 0)),
        Command::Talent(cmd) => return exit(cmd.run(&remote).await.map(|()| 0)),
        Command::Admin(cmd) => return exit(cmd.run(&remote).await.map(|()| 0)),
        Command::Credentials { out, json } => {
            return exit(commands::credentials(&remote, &out, json).await.map(|()| 0));
        }
        Command::Verify(args) => return exit(args.run(&remote).await),
    };
    let result = client;
    match result {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The exit code of a client command, printing its error and hint.
fn exit(result: client::CliResult<u8>) -> std::process::ExitCode {
    match result {
        Ok(code) => std::process::ExitCode::from(code),
        Err(e) => {
            eprintln!("error: {}", e.message);
            if let Some(hint) = e.hint {
                eprintln!("hint: {hint}");
            }
            std::process::ExitCode::from(e.code)
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
