//! `earstage render <in> <out>`: a file played as an audition chain would deliver it, through the
//! plugin's own processing (the same engine, designer and filter), written as 32-bit float WAV
//! at the input's rate and channel count.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use clap::{Args, ValueEnum};
use earstage::model::Chain;
use earstage::model::audition::{CEILING_DB, DEFAULT_CEILING_DB, LevelMatch, Mode};
use earstage::model::catalog::Catalog;
use earstage::model::overrides::{OverrideError, RigOverrides};
use earstage::offline::analysis::MeterReport;
use earstage::offline::render::{RenderSettings, render_file};
use serde::Serialize;

use crate::analyze::FileProgress;
use crate::chain_args::ChainArgs;
use crate::report::print_meters;

#[derive(Args, Debug)]
pub struct RenderCommand {
    /// The audio file to play through the audition chain (any format `analyze` reads).
    pub input: PathBuf,
    /// Where to write the result: a .wav file (32-bit float WAV, the input's rate and channels;
    /// another extension is refused rather than mislabelled).
    pub output: PathBuf,
    /// Replace OUTPUT if it exists.
    #[arg(long)]
    pub force: bool,
    /// coloration: level-matched (only the change of shape); level: with the level change.
    #[arg(long, value_enum, default_value_t = ModeArg::Coloration)]
    pub mode: ModeArg,
    /// What coloration mode matches: K-weighted loudness of pink noise, or the level at 1 kHz.
    #[arg(long = "match", value_enum, default_value_t = MatchArg::Pink)]
    pub level_match: MatchArg,
    /// The largest boost at any frequency, dB (0 to 24).
    #[arg(
        long,
        value_name = "DB",
        default_value_t = DEFAULT_CEILING_DB,
        allow_hyphen_values = true
    )]
    pub ceiling: f64,
    /// Print the report as JSON.
    #[arg(long)]
    pub json: bool,
    /// The audition chain (the source, attenuator and cable to hear, in front of the IEM).
    #[command(flatten)]
    pub chain: ChainArgs,
    #[command(flatten)]
    pub rig: RigArgs,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ModeArg {
    Coloration,
    Level,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum MatchArg {
    Pink,
    #[value(name = "1k")]
    OneKhz,
}

/// The chain the result is played through: by default the same IEM on an ideal 0 Ω source at the
/// audition source's full-scale voltage and volume, so that `--mode level` outputs exactly
/// `H = V_iem/V_EMF` of the audition chain.
#[derive(Args, Debug, Default, Clone)]
pub struct RigArgs {
    /// The rig's source, from the catalog.
    #[arg(
        long,
        value_name = "NAME",
        help_heading = "Rig (what you listen through)"
    )]
    pub rig_source: Option<String>,
    /// The rig source's output impedance, Ω.
    #[arg(
        long,
        value_name = "OHMS",
        help_heading = "Rig (what you listen through)"
    )]
    pub rig_source_impedance: Option<f64>,
    /// The rig source's volume, dB.
    #[arg(
        long,
        value_name = "DB",
        allow_hyphen_values = true,
        help_heading = "Rig (what you listen through)"
    )]
    pub rig_source_volume: Option<f64>,
    /// The rig's attenuator or adapter, from the catalog.
    #[arg(
        long,
        value_name = "NAME",
        help_heading = "Rig (what you listen through)"
    )]
    pub rig_attenuator: Option<String>,
}

impl RigArgs {
    /// The rig for `audition`, resolved by the model's rules.
    pub fn resolve(&self, audition: &Chain, catalog: &Catalog) -> Result<Chain, OverrideError> {
        RigOverrides {
            source: self.rig_source.clone(),
            source_impedance: self.rig_source_impedance,
            source_volume: self.rig_source_volume,
            attenuator: self.rig_attenuator.clone(),
        }
        .resolve(audition, catalog)
    }
}

/// What `render` reports: the files and chains, then the model's report as flat keys.
#[derive(Serialize)]
struct Report<'a> {
    input: &'a Path,
    output: &'a Path,
    audition_chain: String,
    rig: String,
    mode: &'static str,
    /// Gain applied besides the change of shape (level match or EMF ratio), dB.
    audition_gain_db: f64,
    /// What the ceiling held back, dB.
    held_back_db: f64,
    /// Level change at 1 kHz the ear gets, dB.
    level_at_1k_db: f64,
    /// Largest deviation of the filter from the model, 20 Hz–20 kHz.
    fit_error_db: f64,
    fit_error_deg: f64,
    /// The meters on the rendered output.
    #[serde(flatten)]
    meters: &'a MeterReport,
}

pub fn run(cmd: &RenderCommand) -> Result<()> {
    let catalog = Catalog::builtin();
    let audition = cmd.chain.resolve(&catalog)?;
    let rig = cmd.rig.resolve(&audition, &catalog)?;
    let settings = RenderSettings {
        mode: match cmd.mode {
            ModeArg::Coloration => Mode::Coloration,
            ModeArg::Level => Mode::Level,
        },
        level_match: match cmd.level_match {
            MatchArg::Pink => LevelMatch::PinkLoudness,
            MatchArg::OneKhz => LevelMatch::OneKilohertz,
        },
        ceiling_db: CEILING_DB.check("--ceiling", cmd.ceiling)?,
    };
    let mut progress = FileProgress::new(format!("rendering {}", cmd.input.display()));
    let rendered = render_file(
        &cmd.input,
        &cmd.output,
        cmd.force,
        &audition,
        &rig,
        &settings,
        &mut progress,
    );
    progress.finish();
    let rendered = rendered.with_context(|| format!("rendering {}", cmd.input.display()))?;
    let m = &rendered.meters;
    let report = Report {
        input: &cmd.input,
        output: &cmd.output,
        audition_chain: describe(&audition),
        rig: describe(&rig),
        mode: match cmd.mode {
            ModeArg::Coloration => "coloration",
            ModeArg::Level => "level",
        },
        audition_gain_db: rendered.audition_gain_db,
        held_back_db: rendered.held_back_db,
        level_at_1k_db: rendered.level_at_1k_db,
        fit_error_db: rendered.fit_error_db,
        fit_error_deg: rendered.fit_error_deg,
        meters: m,
    };
    if cmd.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(())
}

fn describe(chain: &Chain) -> String {
    let source = &chain.source;
    // Catalog names such as "Ideal source (0 Ω)" already say the impedance.
    let ohms = format!("{} Ω", source.output_ohms);
    let mut text = if source.name.contains(&ohms) {
        format!("{} on {}", chain.iem.name, source.name)
    } else {
        format!("{} on {} ({ohms})", chain.iem.name, source.name)
    };
    if chain.attenuator.name != "none" {
        text.push_str(&format!(" via {}", chain.attenuator.name));
    }
    text
}

fn print_text(r: &Report) {
    println!(
        "{} → {}: {} Hz, {} channel(s), {:.2} s",
        r.input.display(),
        r.output.display(),
        r.meters.sample_rate.unwrap_or(0),
        r.meters.channels,
        r.meters.duration_s
    );
    println!("  auditioned            {}", r.audition_chain);
    println!("  through the rig       {}", r.rig);
    println!(
        "  mode                  {} (gain {:+.2} dB, level at 1 kHz {:+.2} dB)",
        r.mode, r.audition_gain_db, r.level_at_1k_db
    );
    if r.held_back_db > 0.0 {
        println!(
            "  ceiling               held back {:.2} dB of boost",
            r.held_back_db
        );
    }
    println!(
        "  filter vs model       within {:.3} dB, {:.2}° (20 Hz–20 kHz)",
        r.fit_error_db, r.fit_error_deg
    );
    println!("Output");
    print_meters(r.meters);
}
