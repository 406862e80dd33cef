//! `earstage demo`: the embedded demo signal through the plugin's engine, and what it measured.

use std::path::{Path, PathBuf};

use anyhow::{Context, Result};
use earstage::dsp::EngineSettings;
use earstage::model::Chain;
use earstage::model::advisor::{Advice, Target, advise};
use earstage::model::catalog::Catalog;
use earstage::model::chain::ChainReport;
use earstage::model::spl::{DEFAULT_REFERENCE_DBA, PinkBand, ReferenceLevel};
use earstage::offline::analysis::{MeterReport, SplReport, analyze_signal};
use earstage::offline::render::{ab_audition, write_float_wav};
use serde::Serialize;

use crate::chain::{THIRD_OCTAVES_HZ, advice_text};
use crate::demo_signal;
use crate::plot::write_chain_plot;
use crate::report::{print_meters, print_spl};

/// The advisor's target in the demo: LAeq of −20 dBFS RMS pink noise, dBA (a common reference
/// level, docs/spl.md: 79–85 dB SPL).
const DEMO_TARGET_LAEQ_DBA: f64 = 80.0;
/// The A/B audition alternates ideal source (A) and chain (B) in segments of this length, s.
const AB_SEGMENT_S: f64 = 2.0;

/// Block size the demo feeds the engine with, as a host would.
const BLOCK: usize = 512;

/// The reference level of the default chain.
#[derive(Serialize)]
struct ReferenceReport {
    /// The target for −20 dBFS RMS pink noise, LAeq at the eardrum, dBA.
    reference_target_dba: f64,
    /// What the chain delivers for it (full-band and 500 Hz–2 kHz noise), dBA.
    reference_delivered_dba: f64,
    reference_delivered_mid_band_dba: f64,
    /// The source volume change that meets the target, dB.
    reference_volume_change_db: f64,
}

impl ReferenceReport {
    fn new(chain: &Chain) -> Self {
        let full = ReferenceLevel::new(chain, PinkBand::Full, DEFAULT_REFERENCE_DBA);
        let mid = ReferenceLevel::new(chain, PinkBand::Mid, DEFAULT_REFERENCE_DBA);
        Self {
            reference_target_dba: full.target_dba,
            reference_delivered_dba: full.delivered_dba,
            reference_delivered_mid_band_dba: mid.delivered_dba,
            reference_volume_change_db: full.volume_change_db,
        }
    }
}

#[derive(Serialize)]
struct Report {
    signal: &'static str,
    #[serde(flatten)]
    meters: MeterReport,
    /// Whether the processed feed equals the input bit for bit (it must at default settings).
    bit_exact_pass_through: bool,
    /// The default chain's model report.
    chain: ChainReport,
    advisor: Advice,
    /// What the default chain delivers for the demo signal.
    delivered: SplReport,
    /// The default chain against the default reference level.
    reference: ReferenceReport,
    /// The coloration plots (PNG, SVG) and the A/B audition (WAV) written.
    files: Vec<PathBuf>,
    bundles: Vec<PathBuf>,
}

pub fn run(json: bool, bundles: Option<&Path>, out_dir: &Path) -> Result<()> {
    let catalog = Catalog::builtin();
    let chain = catalog.default_chain()?;
    let input = demo_signal::stereo();
    let measured = analyze_signal(
        &input,
        demo_signal::SAMPLE_RATE_HZ,
        BLOCK,
        &EngineSettings::default(),
        Some(&chain),
    );
    let meters = measured.meters;
    let true_peak = meters
        .true_peak_dbtp
        .iter()
        .flatten()
        .fold(f32::MIN, |a, &b| a.max(b));
    std::fs::create_dir_all(out_dir)
        .with_context(|| format!("cannot create {}", out_dir.display()))?;
    let mut files = write_plots(&chain, out_dir)?;
    files.push(write_ab(&chain, &input, out_dir)?);
    let report = Report {
        signal: demo_signal::DESCRIPTION,
        meters,
        bit_exact_pass_through: measured.bit_exact,
        chain: chain.report(&THIRD_OCTAVES_HZ, f64::from(true_peak)),
        advisor: advise(&chain, Target::Laeq(DEMO_TARGET_LAEQ_DBA), &catalog),
        delivered: measured
            .spl
            .expect("a chain was given, so SPL was measured"),
        reference: ReferenceReport::new(&chain),
        files,
        bundles: bundles.map(list_bundles).unwrap_or_default(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report, &chain);
    }
    anyhow::ensure!(
        report.bit_exact_pass_through,
        "the processing core changed the demo signal at default settings"
    );
    Ok(())
}

/// The coloration plot, PNG and SVG: the default chain against the same IEM on the ideal source.
fn write_plots(chain: &Chain, dir: &Path) -> Result<Vec<PathBuf>> {
    ["coloration.png", "coloration.svg"]
        .into_iter()
        .map(|name| {
            let path = dir.join(name);
            write_chain_plot(&path, chain, None, true)?;
            Ok(path)
        })
        .collect()
}

/// The A/B audition of the demo signal (`model::render::ab_audition`), as a WAV in `dir`.
fn write_ab(chain: &Chain, input: &[Vec<f32>; 2], dir: &Path) -> Result<PathBuf> {
    let path = dir.join("ab-audition.wav");
    let fs = demo_signal::SAMPLE_RATE_HZ;
    write_float_wav(&path, &ab_audition(chain, input, fs, AB_SEGMENT_S), fs)?;
    Ok(path)
}

fn print_text(report: &Report, chain: &Chain) {
    println!("Earstage demo — {}", report.signal);
    println!(
        "  signal                {} Hz, {} channels, {:.1} s",
        report.meters.sample_rate.unwrap_or(0),
        report.meters.channels,
        report.meters.duration_s
    );
    print_meters(&report.meters);
    println!(
        "  pass-through at default settings: {}",
        if report.bit_exact_pass_through {
            "bit-exact"
        } else {
            "CHANGED THE SIGNAL"
        }
    );
    println!("\nDelivered by the default chain");
    print_spl(&report.delivered);
    let r = &report.reference;
    println!(
        "  reference level       −20 dBFS RMS pink plays {:.1} dBA (500 Hz–2 kHz: {:.1} dBA); \
         for a {:.0} dBA target turn the source {:+.1} dB",
        r.reference_delivered_dba,
        r.reference_delivered_mid_band_dba,
        r.reference_target_dba,
        r.reference_volume_change_db
    );
    println!(
        "\n{}",
        crate::chain::text(chain, &report.chain, None, true).trim_end()
    );
    print!("{}", advice_text(&report.advisor));
    println!();
    for file in &report.files {
        println!("  wrote                 {}", file.display());
    }
    if report.bundles.is_empty() {
        println!("  bundles               none listed (run `cargo xtask demo` to build them)");
    }
    for bundle in &report.bundles {
        println!("  bundle                {}", bundle.display());
    }
}

fn list_bundles(dir: &Path) -> Vec<PathBuf> {
    ["Earstage.clap", "Earstage.vst3"]
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.exists())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn read(path: &Path) -> Vec<f32> {
        hound::WavReader::open(path)
            .unwrap()
            .samples::<f32>()
            .map(Result::unwrap)
            .collect()
    }

    /// A segments are the signal itself; B segments carry the chain's coloration; for an ideal
    /// chain B equals A (to the fit's accuracy).
    #[test]
    fn ab_audition_segments() {
        let dir = std::env::temp_dir().join(format!("earstage-ab-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let input = demo_signal::stereo();
        let catalog = Catalog::builtin();
        let chain = catalog.default_chain().unwrap();
        let colored = read(&write_ab(&chain, &input, &dir).unwrap());
        let ideal = read(&write_ab(&chain.reference(), &input, &dir).unwrap());
        let fs = demo_signal::SAMPLE_RATE_HZ as usize;
        let (a, b) = (fs / 2, 3 * fs);
        for ch in 0..2 {
            assert_eq!(colored[2 * a + ch], input[ch][a], "A is the signal itself");
            assert!(
                (ideal[2 * b + ch] - input[ch][b]).abs() < 1e-4,
                "ideal B equals A"
            );
        }
        let diff: f64 = (2 * fs..4 * fs)
            .map(|n| f64::from(colored[2 * n] - input[0][n]).powi(2))
            .sum();
        assert!(diff > 1.0, "the chain's B differs from the signal");
    }
}
