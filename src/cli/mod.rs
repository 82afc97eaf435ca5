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
use client::Remote;

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
    Logout {
        #[command(flatten)]
        remote: Remote,
    },
    /// Who the token belongs to. Example: gaic whoami --json
    Whoami {
        #[command(flatten)]
        remote: Remote,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// List, show and download tasks; organizers create, publish, close and rescore.
    Tasks {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        cmd: commands::TasksCmd,
    },
    Submit(commands::SubmitArgs),
    /// Your team's submissions to a task. Example: gaic submissions digits
    Submissions {
        #[command(flatten)]
        remote: Remote,
        /// The task.
        slug: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Select submissions for the private leaderboard. Example: gaic select digits 12 15
    Select {
        #[command(flatten)]
        remote: Remote,
        /// The task.
        slug: String,
        /// Submission ids.
        #[arg(required = true)]
        ids: Vec<i64>,
    },
    /// Unselect a final submission. Example: gaic unselect digits 12
    Unselect {
        #[command(flatten)]
        remote: Remote,
        /// The task.
        slug: String,
        /// The submission.
        id: i64,
    },
    /// A task's leaderboard. Example: gaic leaderboard digits --top 10
    Leaderboard(commands::LeaderboardArgs),
    /// Teams: show, create, invite, accept, decline, leave.
    Team {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        cmd: commands::TeamCmd,
    },
    /// Organizers: a task's evaluation queue. Example: gaic queue digits
    Queue {
        #[command(flatten)]
        remote: Remote,
        /// The task.
        slug: String,
        /// Print the API's JSON.
        #[arg(long)]
        json: bool,
    },
    /// Recruiters: search people who agreed to be found, and show one.
    Talent {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        cmd: commands::TalentCmd,
    },
    /// Admins: roles and worker tokens.
    Admin {
        #[command(flatten)]
        remote: Remote,
        #[command(subcommand)]
        cmd: commands::AdminCmd,
    },
    /// Download your signed result credentials. Example: gaic credentials --out creds/
    Credentials {
        #[command(flatten)]
        remote: Remote,
        /// Folder to write them into.
        #[arg(long, default_value = ".")]
        out: std::path::PathBuf,
        /// Print the API's JSON instead.
        #[arg(long)]
        json: bool,
    },
    Verify(commands::VerifyArgs),
}

/// Parses the command line and runs it; the exit code. `gaic score` and
/// `gaic sandbox` (offline, on threads of their own) run without the async
/// runtime, whose worker threads they would only start and stop.
pub fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    match cli.command {
        Command::Score(args) => return args.run(),
        Command::Sandbox(args) => return args.run(),
        _ => {}
    }
    match tokio::runtime::Runtime::new() {
        Ok(runtime) => runtime.block_on(run(cli.command)),
        Err(e) => {
            eprintln!("error: starting the async runtime: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// Runs `command` on the async runtime; the exit code.
async fn run(command: Command) -> std::process::ExitCode {
    let client = match command {
        Command::Serve(args) => crate::server::serve(args).await,
        Command::Score(args) => return args.run(),
        Command::Sandbox(args) => return args.run(),
        Command::Worker(args) => args.run().await,
        Command::Login(args) => return exit(args.run().await.map(|()| 0)),
        Command::Logout { remote } => return exit(commands::logout(&remote).await.map(|()| 0)),
        Command::Whoami { remote, json } => return exit(commands::whoami(&remote, json).await.map(|()| 0)),
        Command::Tasks { remote, cmd } => return exit(cmd.run(&remote).await.map(|()| 0)),
        Command::Submit(args) => {
            let remote = args.remote.clone();
            return exit(args.run(&remote).await);
        }
        Command::Submissions { remote, slug, json } => {
            return exit(commands::submissions(&remote, &slug, json).await.map(|()| 0));
        }
        Command::Select { remote, slug, ids } => {
            return exit(commands::select(&remote, &slug, &ids, true).await.map(|()| 0));
        }
        Command::Unselect { remote, slug, id } => {
            return exit(commands::select(&remote, &slug, &[id], false).await.map(|()| 0));
        }
        Command::Leaderboard(args) => {
            let remote = args.remote.clone();
            return exit(args.run(&remote).await.map(|()| 0));
        }
        Command::Team { remote, cmd } => return exit(cmd.run(&remote).await.map(|()| 0)),
        Command::Queue { remote, slug, json } => return exit(commands::queue(&remote, &slug, json).await.map(|()| 0)),
        Command::Talent { remote, cmd } => return exit(cmd.run(&remote).await.map(|()| 0)),
        Command::Admin { remote, cmd } => return exit(cmd.run(&remote).await.map(|()| 0)),
        Command::Credentials { remote, out, json } => {
            return exit(commands::credentials(&remote, &out, json).await.map(|()| 0));
        }
        Command::Verify(args) => {
            let remote = args.remote.clone();
            return exit(args.run(&remote).await);
        }
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

    fn help(path: &[&str]) -> String {
        let mut cmd = super::Cli::command();
        // Building propagates global flags to the subcommands below.
        cmd.build();
        let mut sub = &mut cmd;
        for name in path {
            sub = sub.find_subcommand_mut(name).unwrap_or_else(|| panic!("no subcommand {name}"));
        }
        sub.render_long_help().to_string()
    }

    #[test]
    fn each_command_shows_only_its_own_flags() {
        for local in [&["serve"][..], &["score"], &["sandbox", "run"]] {
            let text = help(local);
            assert!(!text.contains("--token <TOKEN>") && !text.contains("GAIC_TOKEN"), "{local:?}:\n{text}");
        }
        assert!(!help(&["serve"]).contains("--server"), "{}", help(&["serve"]));
        for client in [&["tasks", "list"][..], &["submit"], &["leaderboard"], &["whoami"], &["admin", "grant"]] {
            let text = help(client);
            assert!(text.contains("--server") && text.contains("--token"), "{client:?}:\n{text}");
        }
        // The flags still go after the subcommand, at any depth.
        use clap::Parser;
        let cli =
            super::Cli::try_parse_from(["gaic", "tasks", "list", "--server", "http://x", "--token", "t"]).unwrap();
        let super::Command::Tasks { remote, .. } = cli.command else { panic!("not tasks") };
        assert_eq!(remote.server.as_deref(), Some("http://x"));
        assert_eq!(remote.token.as_deref(), Some("t"));
    }
}
