//! `earstage demo`: the embedded demo signal through the plugin's processing core, and what it
//! measured.

use std::path::{Path, PathBuf};

use anyhow::Result;
use earstage::dsp::{Engine, EngineSettings};
use serde::Serialize;

use crate::demo_signal;

/// Block size the demo feeds the engine with, as a host would.
const BLOCK: usize = 512;

#[derive(Serialize)]
struct Report {
    sample_rate: u32,
    channels: usize,
    duration_s: f64,
    /// Per channel, channel order.
    sample_peak_dbfs: Vec<f64>,
    /// Per channel, channel order.
    rms_dbfs: Vec<f64>,
    /// Whether the processed feed equals the input bit for bit (it must at default settings).
    bit_exact_pass_through: bool,
    bundles: Vec<PathBuf>,
}

pub fn run(json: bool, bundles: Option<&Path>) -> Result<()> {
    let input = demo_signal::stereo();
    let mut output = input.clone();
    let settings = EngineSettings::default();
    let mut engine = Engine::new(demo_signal::SAMPLE_RATE_HZ as f32, &settings);
    let [left, right] = &mut output;
    for (l, r) in left.chunks_mut(BLOCK).zip(right.chunks_mut(BLOCK)) {
        engine.process(&mut [l, r], &settings);
    }

    let report = Report {
        sample_rate: demo_signal::SAMPLE_RATE_HZ,
        channels: output.len(),
        duration_s: output[0].len() as f64 / f64::from(demo_signal::SAMPLE_RATE_HZ),
        sample_peak_dbfs: output.iter().map(|c| to_db(sample_peak(c))).collect(),
        rms_dbfs: output.iter().map(|c| to_db(rms(c))).collect(),
        bit_exact_pass_through: input
            .iter()
            .zip(&output)
            .all(|(a, b)| a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())),
        bundles: bundles.map(list_bundles).unwrap_or_default(),
    };
    if json {
        println!("{}", serde_json::to_string_pretty(&report)?);
    } else {
        print_text(&report);
    }
    anyhow::ensure!(
        report.bit_exact_pass_through,
        "the processing core changed the demo signal at default settings"
    );
    Ok(())
}

fn print_text(report: &Report) {
    println!("Earstage demo — embedded demo signal through the processing core");
    println!(
        "  signal      {} Hz, {} channels, {:.1} s",
        report.sample_rate, report.channels, report.duration_s
    );
    for (ch, (peak, rms)) in report
        .sample_peak_dbfs
        .iter()
        .zip(&report.rms_dbfs)
        .enumerate()
    {
        println!("  channel {ch}   sample peak {peak:+6.2} dBFS   RMS {rms:+6.2} dBFS");
    }
    println!(
        "  pass-through at default settings: {}",
        if report.bit_exact_pass_through {
            "bit-exact"
        } else {
            "CHANGED THE SIGNAL"
        }
    );
    if report.bundles.is_empty() {
        println!("  bundles     none listed (run `cargo xtask demo` to build them)");
    }
    for bundle in &report.bundles {
        println!("  bundle      {}", bundle.display());
    }
}

fn sample_peak(samples: &[f32]) -> f64 {
    samples
        .iter()
        .fold(0.0f64, |m, &x| m.max(f64::from(x).abs()))
}

fn rms(samples: &[f32]) -> f64 {
    let sum: f64 = samples.iter().map(|&x| f64::from(x).powi(2)).sum();
    (sum / samples.len().max(1) as f64).sqrt()
}

fn to_db(amplitude: f64) -> f64 {
    20.0 * amplitude.max(1e-20).log10()
}

fn list_bundles(dir: &Path) -> Vec<PathBuf> {
    ["Earstage.clap", "Earstage.vst3"]
        .iter()
        .map(|name| dir.join(name))
        .filter(|path| path.exists())
        .collect()
}
