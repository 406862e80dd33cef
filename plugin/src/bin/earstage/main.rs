//! `earstage`: the offline front end on the same core as the plugin.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use earstage::model::delivery::DeliveryTarget;

mod analyze;
mod catalog;
mod chain;
mod chain_args;
mod demo;
mod demo_signal;
mod exposure;
mod history;
mod impedance_plot;
mod measure;
mod plot;
mod render;
mod report;

#[derive(Parser)]
#[command(
    name = "earstage",
    version,
    about = "True peak, loudness, delivered SPL and IEM chain simulation"
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Meter audio files: true peak (precise and BS.1770), sample peak, overs, loudness; several
    /// files (or folders) also as one album.
    Analyze {
        /// Audio files (WAV, AIFF, FLAC, MP3, Ogg Vorbis, AAC or ALAC, 1 to 8 channels) or
        /// folders of them, analysed in this order (a folder's files by name, with subfolders).
        #[arg(required = true, value_name = "FILE|FOLDER")]
        files: Vec<PathBuf>,
        /// Print the report as JSON.
        #[arg(long, conflicts_with = "csv")]
        json: bool,
        /// Print the report as CSV: one row per file (the highest channel's peaks), then the album.
        #[arg(long)]
        csv: bool,
        /// Files analysed at once, 1 to 256 (default: one per core).
        #[arg(
            long,
            value_name = "N",
            allow_hyphen_values = true,
            value_parser = clap::value_parser!(i64).range(1..=256)
        )]
        jobs: Option<i64>,
        /// True peaks above this count as overs, dBTP.
        #[arg(
            long,
            value_name = "DBTP",
            default_value_t = 0.0,
            allow_hyphen_values = true
        )]
        over_threshold: f32,
        /// Write the loudness history as CSV, one row per 100 ms: time_s, momentary (400 ms),
        /// short-term (3 s) and integrated LUFS ending there, and the highest true peak (dBTP) of
        /// the 100 ms ending there; "-inf" below the −70 LUFS gate or for silence, empty before a
        /// window is full. With several files: a folder, one NAME.history.csv per input.
        #[arg(long, value_name = "OUT.csv|FOLDER")]
        history: Option<PathBuf>,
        /// Draw the history, PNG or SVG by the extension (with the target's line and band, and
        /// true-peak overs marked). With several files: a folder, one NAME.history.png per input.
        #[arg(long, value_name = "OUT.png|OUT.svg|FOLDER")]
        plot: Option<PathBuf>,
        /// A delivery target to measure against and draw: ebu-r128, atsc-a85, streaming,
        /// apple-music, podcast, podcast-mono, or a loudness in LUFS (e.g. -18: ±1 LU, −1 dBTP).
        #[arg(long, value_name = "NAME|LUFS", allow_hyphen_values = true)]
        target: Option<DeliveryTarget>,
        /// Replace history and plot files that exist.
        #[arg(long)]
        force: bool,
        /// With any chain option: also the SPL and dose the chain delivers (per ear).
        #[command(flatten)]
        chain: Box<chain_args::ChainArgs>,
    },
    /// Play an audio file as an audition chain would deliver it, through the plugin's own filter,
    /// into a 32-bit float WAV file.
    Render(Box<render::RenderCommand>),
    /// The playback-chain model: response, coloration, impedance, SPL, hiss, headroom, advisor.
    Chain(Box<chain::ChainCommand>),
    /// Measure your own IEM: the stimulus for the impedance jig, and the impedance from a
    /// recording of it (docs/measure.md).
    #[command(subcommand)]
    Measure(measure::MeasureCommand),
    /// Your exposure over the rolling 7 days, from every instance and project of the plugin:
    /// per day, the IEC 62368-1 / WHO weekly dose and NIOSH (docs/spl.md, "Your week").
    Exposure(exposure::ExposureCommand),
    /// List the built-in IEMs, sources and attenuators with where their figures come from.
    Catalog {
        /// Print the whole catalog (every field) as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Run the main job on the embedded demo signal and print the report.
    Demo {
        /// Print the report as JSON.
        #[arg(long)]
        json: bool,
        /// Where the plugin bundles are, to list them in the report.
        #[arg(long, value_name = "DIR")]
        bundles: Option<PathBuf>,
        /// Where to write the coloration plot and the A/B audition WAV.
        #[arg(long, value_name = "DIR", default_value = "earstage-demo")]
        out: PathBuf,
    },
}

/// A Unix tool ends quietly when the reader of its output goes away (`earstage catalog | head`).
/// Rust ignores SIGPIPE, so every print would then fail (and `println!` panic); the default action
/// ends the process as the shell's other tools end.
fn end_quietly_on_closed_pipe() {
    #[cfg(unix)]
    // SAFETY: called first thing in `main`, before any thread exists; SIG_DFL is a valid action
    // for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
}

fn main() -> ExitCode {
    end_quietly_on_closed_pipe();
    let cli = Cli::parse();
    let result = match cli.command {
        Command::Analyze {
            files,
            json,
            csv,
            jobs,
            over_threshold,
            history,
            plot,
            target,
            force,
            chain,
        } => {
            let format = match (json, csv) {
                (true, _) => analyze::Format::Json,
                (_, true) => analyze::Format::Csv,
                _ => analyze::Format::Text,
            };
            analyze::run(
                &files,
                format,
                jobs.map(|n| n as usize),
                over_threshold,
                &chain,
                &history::HistoryOutputs {
                    csv: history,
                    plot,
                    target,
                    over_threshold_dbtp: f64::from(over_threshold),
                    force,
                },
            )
        }
        Command::Chain(cmd) => chain::run(&cmd),
        Command::Render(cmd) => render::run(&cmd),
        Command::Measure(cmd) => measure::run(&cmd),
        Command::Catalog { json } => catalog::run(json),
        Command::Exposure(cmd) => exposure::run(&cmd),
        Command::Demo { json, bundles, out } => demo::run(json, bundles.as_deref(), &out),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("earstage: {}", report::error_text(&err));
            ExitCode::FAILURE
        }
    }
}
