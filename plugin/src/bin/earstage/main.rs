//! `earstage`: the offline front end on the same core as the plugin.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod demo;
mod demo_signal;

#[derive(Parser)]
#[command(
    name = "earstage",
    version,
    about = "True peak, delivered SPL and IEM chain simulation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the main job on the embedded demo signal and print the report.
    Demo {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Where the plugin bundles are, to list them in the report.
        #[arg(long, value_name = "DIR")]
        bundles: Option<PathBuf>,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Demo { json, bundles } => demo::run(json, bundles.as_deref()),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("earstage: {err:#}");
            ExitCode::FAILURE
        }
    }
}
