//! `earstage render <in> <out>`: a file played as an audition chain would deliver it, through the
//! plugin's own processing (the same engine, designer and filter), written as 32-bit float WAV
//! at the input's rate and channel count.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use clap::{Args, ValueEnum};
use earstage::dsp::audition::{
    AuditionChains, AuditionSettings, AuditionValues, OfflineEngine, Selection,
};
use earstage::dsp::{Collector, EngineSettings};
use earstage::model::Chain;
use earstage::model::audition::{AuditionChain, CEILING_DB, DEFAULT_CEILING_DB, LevelMatch, Mode};
use earstage::model::catalog::Catalog;
use earstage::model::overrides::{OverrideError, RigOverrides};
use serde::Serialize;

use crate::analyze::progress_bar;
use crate::chain_args::ChainArgs;
use crate::report::print_meters;
use earstage::model::analysis::MeterReport;
use earstage::model::audio_file::AudioFile;

#[derive(Args, Debug)]
pub struct RenderCommand {
    /// The audio file to play through the audition chain (any format `analyze` reads).
    pub input: PathBuf,
    /// Where to write the result (32-bit float WAV, the input's rate and channels).
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
    #[arg(long, value_name = "DB", default_value_t = DEFAULT_CEILING_DB)]
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

/// What `render` reports.
#[derive(Serialize)]
struct Report {
    input: PathBuf,
    output: PathBuf,
    sample_rate: u32,
    channels: usize,
    duration_s: f64,
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
    meters: MeterReport,
}

pub fn run(cmd: &RenderCommand) -> Result<()> {
    let catalog = Catalog::builtin();
    let audition = cmd.chain.resolve(&catalog)?;
    let rig = cmd.rig.resolve(&audition, &catalog)?;
    CEILING_DB.check("--ceiling", cmd.ceiling)?;
    check_output(&cmd.input, &cmd.output, cmd.force)?;

    let mut file = AudioFile::open(&cmd.input)?;
    let (fs, channels) = (file.sample_rate, file.channels);
    let chain = AuditionChain::from_rig(&audition);
    let settings = EngineSettings {
        audition: AuditionSettings {
            selection: Selection::A,
            values: AuditionValues {
                a: chain.values(),
                b: chain.values(),
                mode: match cmd.mode {
                    ModeArg::Coloration => Mode::Coloration,
                    ModeArg::Level => Mode::Level,
                },
                level_match: match cmd.level_match {
                    MatchArg::Pink => LevelMatch::PinkLoudness,
                    MatchArg::OneKhz => LevelMatch::OneKilohertz,
                },
                ceiling_db: cmd.ceiling,
                chains_revision: 0,
            },
        },
        ..EngineSettings::default()
    };
    let chains = AuditionChains {
        rig: rig.clone(),
        a: chain.clone(),
        b: chain,
    };
    let mut engine = OfflineEngine::new(f64::from(fs), channels, settings, chains);

    let spec = hound::WavSpec {
        channels: channels as u16,
        sample_rate: fs,
        bits_per_sample: 32,
        sample_format: hound::SampleFormat::Float,
    };
    // Written beside the output and renamed at the end: a failed render leaves nothing behind
    // and never half-overwrites a file.
    let partial = partial_path(&cmd.output);
    let mut writer = hound::WavWriter::create(&partial, spec)
        .with_context(|| format!("cannot write {}", partial.display()))?;
    let progress = progress_bar(
        file.declared_frames.unwrap_or(0),
        file.declared_duration_s().unwrap_or(0.0),
        &format!("rendering {}", cmd.input.display()),
    );
    let mut collector = Collector::default();
    let mut planar = vec![Vec::new(); channels];
    let result = (|| -> Result<()> {
        loop {
            let n = file.read_block(&mut planar)?;
            if n == 0 {
                break;
            }
            let mut views: Vec<&mut [f32]> = planar.iter_mut().map(|c| c.as_mut_slice()).collect();
            engine.process(&mut views, &mut collector);
            for i in 0..n {
                for channel in &planar {
                    writer.write_sample(channel[i])?;
                }
            }
            progress.inc(n as u64);
        }
        writer.finalize()?;
        Ok(())
    })();
    progress.finish_and_clear();
    if let Err(err) = result {
        std::fs::remove_file(&partial).ok();
        return Err(err.context(format!("rendering {}", cmd.input.display())));
    }
    std::fs::rename(&partial, &cmd.output)
        .with_context(|| format!("cannot write {}", cmd.output.display()))?;
    engine.finish(&mut collector);
    let duration_s = file.duration_read_s();

    let status = engine.status();
    let load =
        |a: &atomic_float::AtomicF32| f64::from(a.load(std::sync::atomic::Ordering::Relaxed));
    let report = Report {
        input: cmd.input.clone(),
        output: cmd.output.clone(),
        sample_rate: fs,
        channels,
        duration_s,
        audition_chain: describe(&audition),
        rig: describe(&rig),
        mode: match cmd.mode {
            ModeArg::Coloration => "coloration",
            ModeArg::Level => "level",
        },
        audition_gain_db: load(&status.gain_db[0]),
        held_back_db: load(&status.held_back_db[0]),
        level_at_1k_db: load(&status.level_at_1k_db[0]),
        fit_error_db: load(&status.fit_error_db[0]),
        fit_error_deg: load(&status.fit_error_deg[0]),
        meters: MeterReport::new(&collector.frame, &collector.overs, duration_s),
    };
    if cmd.json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    Ok(())
}

/// Refuses to overwrite the input, or an existing file without `--force`.
fn check_output(input: &Path, output: &Path, force: bool) -> Result<()> {
    if let (Ok(a), Ok(b)) = (input.canonicalize(), output.canonicalize())
        && a == b
    {
        bail!(
            "{}: the output would overwrite the input; name another file",
            output.display()
        );
    }
    if output.exists() && !force {
        bail!("{} exists; add --force to replace it", output.display());
    }
    Ok(())
}

fn partial_path(output: &Path) -> PathBuf {
    let mut name = output.file_name().unwrap_or_default().to_os_string();
    name.push(".partial");
    output.with_file_name(name)
}

fn describe(chain: &Chain) -> String {
    let mut text = format!(
        "{} on {} ({} Ω)",
        chain.iem.name, chain.source.name, chain.source.output_ohms
    );
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
        r.sample_rate,
        r.channels,
        r.duration_s
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
    print_meters(&r.meters);
}
