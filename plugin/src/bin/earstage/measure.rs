//! `earstage measure`: the stimulus to play through the impedance jig, and the IEM's impedance
//! from a two-channel recording of it (docs/measure.md).

use std::fmt::Write as _;
use std::path::PathBuf;

use anyhow::{Context, Result};
use clap::{Args, Subcommand};
use earstage::model::Iem;
use earstage::model::catalog::Catalog;
use earstage::model::import::zma_text;
use earstage::offline::figure::PlotFormat;
use earstage::offline::impedance::{
    BAND_START_HZ, BAND_STOP_HZ, ImpedanceMeasurement, Jig, RELIABLE_PERCENT, measure_impedance,
};
use earstage::offline::output::{check_new_file, write_bytes_atomically};
use earstage::offline::stimulus::{
    DEFAULT_LEVEL_DBFS, DEFAULT_RATE_HZ, DEFAULT_SECONDS, Stimulus, write_sweep,
};
use serde::Serialize;

use crate::impedance_plot::write_impedance_plot;

#[derive(Subcommand, Debug)]
pub enum MeasureCommand {
    /// Write the stimulus to play through the jig: an exponential sine sweep, 24-bit mono WAV.
    Stimulus(StimulusArgs),
    /// The IEM's impedance from a two-channel recording of the jig (input 1: the source side of
    /// the sense resistor, input 2: across the IEM), as REW-compatible text (Hz, Ω, degrees).
    Impedance(ImpedanceArgs),
}

#[derive(Args, Debug)]
pub struct StimulusArgs {
    /// Where to write the sweep (.wav).
    pub output: PathBuf,
    /// Sample rate, Hz (44100 to 384000): the rate the interface records at.
    #[arg(long, value_name = "HZ", default_value_t = DEFAULT_RATE_HZ)]
    pub rate: u32,
    /// Length of the sweep, seconds (2 to 120); longer sweeps give more signal per frequency.
    #[arg(long, value_name = "S", default_value_t = DEFAULT_SECONDS, allow_hyphen_values = true)]
    pub seconds: f64,
    /// Peak level, dBFS (−40 to −1).
    #[arg(long, value_name = "DBFS", default_value_t = DEFAULT_LEVEL_DBFS, allow_hyphen_values = true)]
    pub level_dbfs: f64,
    /// Replace OUTPUT if it exists.
    #[arg(long)]
    pub force: bool,
}

#[derive(Args, Debug)]
pub struct ImpedanceArgs {
    /// The two-channel recording (any format and rate `analyze` reads; any broadband excitation:
    /// the stimulus, another tool's sweep, pink noise, music).
    pub recording: PathBuf,
    /// The sense resistor, Ω (10 to 1000; measure it with a meter for the best result).
    #[arg(long, value_name = "OHMS", allow_hyphen_values = true)]
    pub sense_ohms: f64,
    /// Input 2's input impedance, Ω (1 k to 10 M; the interface's manual gives it), to allow
    /// for its load on the IEM: it lowers |Z| by about Z/R_in.
    #[arg(long, value_name = "OHMS", allow_hyphen_values = true)]
    pub input_ohms: Option<f64>,
    /// A recording with both inputs on the same node, same rate and channels: divides out the
    /// inputs' own gain and phase mismatch.
    #[arg(long, value_name = "FILE")]
    pub calibration: Option<PathBuf>,
    /// Where to write the curve (.zma or .txt: "Hz Ω degrees" rows, as REW writes).
    #[arg(short, long, value_name = "OUT.zma")]
    pub output: PathBuf,
    /// Print the report as JSON (every point with its estimated error).
    #[arg(long)]
    pub json: bool,
    /// Draw |Z| and phase into a plot, PNG or SVG by the extension.
    #[arg(long, value_name = "FILE.png|FILE.svg")]
    pub plot: Option<PathBuf>,
    /// The catalog IEM measured: its model is drawn beside the measurement and compared with it.
    #[arg(long, value_name = "NAME")]
    pub iem: Option<String>,
    /// Replace the output and the plot if they exist.
    #[arg(long)]
    pub force: bool,
}

pub fn run(cmd: &MeasureCommand) -> Result<()> {
    match cmd {
        MeasureCommand::Stimulus(args) => stimulus(args),
        MeasureCommand::Impedance(args) => impedance(args),
    }
}

fn stimulus(args: &StimulusArgs) -> Result<()> {
    let s = write_sweep(
        &args.output,
        args.force,
        args.rate,
        args.seconds,
        args.level_dbfs,
    )?;
    print!("{}", stimulus_text(&args.output, &s));
    Ok(())
}

fn stimulus_text(path: &std::path::Path, s: &Stimulus) -> String {
    format!(
        "{}: exponential sine sweep {:.0} Hz–{:.1} kHz in {:.1} s, peak {:.1} dBFS, {} Hz, 24-bit \
         mono, {:.1} s in all ({:.1} s of silence before, the rest after)\n\
         Play it from the output that drives the jig and record inputs 1 and 2 at {} Hz, \
         with the IEMs out of your ears; then:\n  earstage measure impedance RECORDING.wav \
         --sense-ohms R -o my-iem.zma\n",
        path.display(),
        s.start_hz,
        s.stop_hz / 1000.0,
        s.sweep_s,
        s.peak_dbfs,
        s.sample_rate_hz,
        s.total_s,
        earstage::offline::stimulus::LEAD_S,
        s.sample_rate_hz
    )
}

/// How far the catalog's model is from the measurement, over the reliable points in the band.
#[derive(Debug, Serialize)]
struct ModelComparison {
    iem: String,
    /// Largest |Z_model / Z_measured − 1|, per cent, and where.
    worst_magnitude_percent: f64,
    worst_magnitude_hz: f64,
    /// Largest phase difference, degrees, and where.
    worst_phase_deg: f64,
    worst_phase_hz: f64,
}

fn compare(measurement: &ImpedanceMeasurement, iem: &Iem) -> ModelComparison {
    let mut c = ModelComparison {
        iem: iem.name.clone(),
        worst_magnitude_percent: 0.0,
        worst_magnitude_hz: 0.0,
        worst_phase_deg: 0.0,
        worst_phase_hz: 0.0,
    };
    for p in measurement
        .points
        .iter()
        .filter(|p| p.reliable && (BAND_START_HZ..=BAND_STOP_HZ).contains(&p.hz))
    {
        let z = iem.impedance(p.hz);
        let magnitude = 100.0 * (z.norm() / p.ohms - 1.0);
        let phase = z.arg().to_degrees() - p.degrees;
        if magnitude.abs() > c.worst_magnitude_percent.abs() {
            c.worst_magnitude_percent = magnitude;
            c.worst_magnitude_hz = p.hz;
        }
        if phase.abs() > c.worst_phase_deg.abs() {
            c.worst_phase_deg = phase;
            c.worst_phase_hz = p.hz;
        }
    }
    c
}

#[derive(Serialize)]
struct Report<'a> {
    output: &'a std::path::Path,
    #[serde(flatten)]
    measurement: &'a ImpedanceMeasurement,
    #[serde(skip_serializing_if = "Option::is_none")]
    model: Option<&'a ModelComparison>,
}

/// Every output `measure impedance` writes, refused before the recording is read: the curve and
/// the plot each a new file (or `--force`), and not one file.
fn check_outputs(args: &ImpedanceArgs) -> Result<()> {
    check_new_file(
        &args.output,
        args.force,
        &["zma", "txt"],
        "REW impedance text",
    )?;
    if let Some(plot) = &args.plot {
        PlotFormat::of(plot)?;
        check_new_file(plot, args.force, &["png", "svg"], "a plot (PNG or SVG)")?;
        if plot == &args.output {
            anyhow::bail!(
                "{}: the curve and the plot cannot be one file",
                plot.display()
            );
        }
    }
    Ok(())
}

fn impedance(args: &ImpedanceArgs) -> Result<()> {
    check_outputs(args)?;
    let catalog = Catalog::builtin();
    let iem = args
        .iem
        .as_deref()
        .map(|name| catalog.iem(name).cloned())
        .transpose()
        .context("--iem")?;
    let measurement = measure_impedance(
        &args.recording,
        &Jig {
            sense_ohms: args.sense_ohms,
            input_ohms: args.input_ohms,
            calibration: args.calibration.as_deref(),
        },
    )?;
    let text = format!(
        "{}{}",
        zma_header(&measurement),
        zma_text(&measurement.curve())
    );
    write_bytes_atomically(&args.output, text.as_bytes())?;
    let comparison = iem.as_ref().map(|iem| compare(&measurement, iem));
    if let Some(plot) = &args.plot {
        let label = iem.as_ref().map(|i| format!("{} (catalog model)", i.name));
        let model = iem
            .as_ref()
            .zip(label.as_deref())
            .map(|(i, l)| (l, &i.impedance));
        write_impedance_plot(plot, &measurement, model, args.force)?;
        eprintln!("earstage: drew the plot into {}", plot.display());
    }
    if args.json {
        let report = Report {
            output: &args.output,
            measurement: &measurement,
            model: comparison.as_ref(),
        };
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print!(
            "{}",
            measurement_text(&args.output, &measurement, comparison.as_ref())
        );
    }
    Ok(())
}

fn zma_header(m: &ImpedanceMeasurement) -> String {
    let mut out = format!(
        "* Earstage impedance measurement of {} ({} Hz, {:.1} s), sense resistor {} Ω",
        m.recording.display(),
        m.sample_rate_hz,
        m.seconds,
        m.sense_ohms
    );
    if let Some(cal) = &m.calibration {
        let _ = write!(out, ", calibrated with {}", cal.display());
    }
    if let Some(ohms) = m.input_ohms {
        let _ = write!(out, ", input 2's {ohms} Ω load allowed for");
    }
    out.push('\n');
    for band in &m.unreliable_bands {
        let _ = writeln!(out, "* not within ±{RELIABLE_PERCENT} %: {band}");
    }
    out
}

/// The report as text: what was measured into what, the curve's figures, how far the catalog
/// model is, and how to use the curve.
fn measurement_text(
    output: &std::path::Path,
    m: &ImpedanceMeasurement,
    model: Option<&ModelComparison>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "{} → {}: {} points, {:.0} Hz–{:.1} kHz ({} Hz, {:.1} s{})",
        m.recording.display(),
        output.display(),
        m.points.len(),
        m.points.first().map_or(0.0, |p| p.hz),
        m.points.last().map_or(0.0, |p| p.hz) / 1000.0,
        m.sample_rate_hz,
        m.seconds,
        if m.calibration.is_some() {
            ", calibrated"
        } else {
            ", not calibrated"
        }
    );
    out.push_str(&figures_text(m));
    if let Some(c) = model {
        let _ = writeln!(
            out,
            "  catalog model         {}: |Z| off by up to {:+.1} % (at {:.0} Hz), phase by up \
             to {:+.1}° (at {:.0} Hz)",
            c.iem,
            c.worst_magnitude_percent,
            c.worst_magnitude_hz,
            c.worst_phase_deg,
            c.worst_phase_hz
        );
    }
    if m.calibration.is_none() {
        let _ = writeln!(
            out,
            "  not calibrated        the inputs' own gain and phase mismatch is in the result; \
             record both inputs on one node and give it with --calibration"
        );
    }
    let _ = writeln!(
        out,
        "Use it: earstage chain --iem NAME --iem-impedance {} (an IEM not in the catalog: \
         --iem-sensitivity \"112 dB/mW\" instead of --iem)",
        output.display()
    );
    out
}

/// The curve's figures: |Z| smallest and largest, the DC resistance, and how much of the band is
/// reliable, naming the bands that are not.
fn figures_text(m: &ImpedanceMeasurement) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "  |Z| minimum           {:.2} Ω at {:.0} Hz",
        m.minimum.ohms, m.minimum.hz
    );
    let _ = writeln!(
        out,
        "  |Z| maximum           {:.2} Ω at {:.0} Hz",
        m.maximum.ohms, m.maximum.hz
    );
    let _ = writeln!(
        out,
        "  DC resistance         ≈ {:.2} Ω (Re Z extrapolated from {:.0} Hz up)",
        m.dc_resistance.ohms, m.dc_resistance.hz
    );
    let _ = writeln!(
        out,
        "  within ±{RELIABLE_PERCENT} %         {:.0} % of 20 Hz–20 kHz",
        m.reliable_percent
    );
    for band in &m.unreliable_bands {
        let _ = writeln!(out, "  not reliable          {band}");
    }
    out
}
