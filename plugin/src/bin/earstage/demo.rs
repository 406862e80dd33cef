//! `earstage demo`: the embedded demo signal through the plugin's engine, and what it measured.

use std::path::{Path, PathBuf};

use anyhow::Result;
use earstage::dsp::EngineSettings;
use serde::Serialize;

use crate::analyze::{MeterReport, measure_planar};
use crate::demo_signal;

/// Block size the demo feeds the engine with, as a host would.
const BLOCK: usize = 512;

#[derive(Serialize)]
struct Report {
    signal: &'static str,
    #[serde(flatten)]
    meters: MeterReport,
    /// Whether the processed feed equals the input bit for bit (it must at default settings).
    bit_exact_pass_through: bool,
    bundles: Vec<PathBuf>,
}

pub fn run(json: bool, bundles: Option<&Path>) -> Result<()> {
    let input = demo_signal::stereo();
    let mut output: Vec<Vec<f32>> = (0..2).map(|_| Vec::with_capacity(input[0].len())).collect();
    let settings = EngineSettings::default();
    let mut position = 0;
    let len = input[0].len();
    let collector = measure_planar(
        demo_signal::SAMPLE_RATE_HZ,
        2,
        &settings,
        |planar| {
            let end = (position + BLOCK).min(len);
            for (dst, src) in planar.iter_mut().zip(&input) {
                dst.clear();
                dst.extend_from_slice(&src[position..end]);
            }
            Ok(end - std::mem::replace(&mut position, end))
        },
        |processed| {
            for (dst, src) in output.iter_mut().zip(processed) {
                dst.extend_from_slice(src);
            }
        },
    )?;
    let report = Report {
        signal: demo_signal::DESCRIPTION,
        meters: MeterReport::new(&collector.frame, &collector.overs, demo_signal::DURATION_S),
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
    println!("Earstage demo — {}", report.signal);
    println!(
        "  signal                {} Hz, {} channels, {:.1} s",
        report.meters.sample_rate, report.meters.channels, report.meters.duration_s
    );
    report.meters.print_text();
    println!(
        "  pass-through at default settings: {}",
        if report.bit_exact_pass_through {
            "bit-exact"
        } else {
            "CHANGED THE SIGNAL"
        }
    );
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
