//! `earstage analyze <file>`: the meters over a whole audio file, through the plugin's engine.

use std::path::Path;

use anyhow::Result;
use earstage::dsp::meter::SILENCE_DB;
use earstage::dsp::{Collector, Engine, EngineSettings, MeterFrame, OverEvent};
use indicatif::{ProgressBar, ProgressStyle};
use serde::Serialize;

use crate::chain_args::ChainArgs;
use crate::spl::{SplAnalyzer, SplReport};
use earstage::model::audio_file::AudioFile;
use earstage::model::catalog::Catalog;

/// Files longer than this get a progress bar (on a terminal).
const PROGRESS_MIN_S: f64 = 30.0;

/// One over in the report.
#[derive(Serialize)]
pub struct OverLogEntry {
    pub time_s: f64,
    /// 1-based channel number.
    pub channel: usize,
    pub level_dbtp: f32,
}

/// The meter report; per-channel values are arrays in channel order, `null` for silence.
#[derive(Serialize)]
pub struct MeterReport {
    pub sample_rate: u32,
    pub channels: usize,
    pub duration_s: f64,
    pub true_peak_dbtp: Vec<Option<f32>>,
    pub true_peak_bs1770_dbtp: Vec<Option<f32>>,
    pub sample_peak_dbfs: Vec<Option<f32>>,
    pub over_threshold_dbtp: f32,
    pub overs: Vec<u32>,
    pub over_log: Vec<OverLogEntry>,
    pub integrated_lufs: Option<f64>,
    pub momentary_max_lufs: Option<f64>,
    pub short_term_max_lufs: Option<f64>,
    pub loudness_range_lu: Option<f64>,
}

fn audible(db: f32) -> Option<f32> {
    (db > SILENCE_DB).then_some(db)
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

impl MeterReport {
    pub fn new(frame: &MeterFrame, overs: &[OverEvent], duration_s: f64) -> Self {
        let ch = &frame.channel[..frame.channels];
        let l = &frame.loudness;
        Self {
            sample_rate: frame.sample_rate_hz as u32,
            channels: frame.channels,
            duration_s,
            true_peak_dbtp: ch.iter().map(|c| audible(c.true_peak_max_dbtp)).collect(),
            true_peak_bs1770_dbtp: ch
                .iter()
                .map(|c| audible(c.true_peak_bs1770_max_dbtp))
                .collect(),
            sample_peak_dbfs: ch.iter().map(|c| audible(c.sample_peak_max_dbfs)).collect(),
            over_threshold_dbtp: frame.over_threshold_dbtp,
            overs: ch.iter().map(|c| c.overs).collect(),
            over_log: overs
                .iter()
                .map(|e| OverLogEntry {
                    time_s: e.time_s,
                    channel: e.channel + 1,
                    level_dbtp: e.level_dbtp,
                })
                .collect(),
            integrated_lufs: finite(l.integrated_lufs),
            momentary_max_lufs: finite(l.momentary_max_lufs),
            short_term_max_lufs: finite(l.short_term_max_lufs),
            loudness_range_lu: finite(l.loudness_range_lu),
        }
    }

    pub fn print_text(&self) {
        let list = |values: &[Option<f32>]| {
            values
                .iter()
                .map(|v| v.map_or("   −inf".to_owned(), |v| format!("{v:+7.2}")))
                .collect::<Vec<_>>()
                .join("  ")
        };
        let lufs = |v: Option<f64>| v.map_or("—".to_owned(), |v| format!("{v:.1}"));
        println!(
            "  true peak (precise)   {} dBTP",
            list(&self.true_peak_dbtp)
        );
        println!(
            "  true peak (BS.1770)   {} dBTP",
            list(&self.true_peak_bs1770_dbtp)
        );
        println!(
            "  sample peak           {} dBFS",
            list(&self.sample_peak_dbfs)
        );
        println!(
            "  overs above {:+.1} dBTP {}",
            self.over_threshold_dbtp,
            self.overs
                .iter()
                .map(|c| format!("{c:7}"))
                .collect::<Vec<_>>()
                .join("  ")
        );
        for e in self.over_log.iter().take(20) {
            println!(
                "      at {:9.3} s  ch {}  {:+.2} dBTP",
                e.time_s, e.channel, e.level_dbtp
            );
        }
        if self.over_log.len() > 20 {
            println!("      … {} more (see --json)", self.over_log.len() - 20);
        }
        println!(
            "  integrated            {} LUFS",
            lufs(self.integrated_lufs)
        );
        println!(
            "  momentary max         {} LUFS",
            lufs(self.momentary_max_lufs)
        );
        println!(
            "  short-term max        {} LUFS",
            lufs(self.short_term_max_lufs)
        );
        println!(
            "  loudness range        {} LU",
            lufs(self.loudness_range_lu)
        );
    }
}

/// A progress bar for a job over `frames` frames, shown on long files only (hidden otherwise).
pub fn progress_bar(frames: u64, duration_s: f64, message: &str) -> ProgressBar {
    if duration_s <= PROGRESS_MIN_S {
        return ProgressBar::hidden();
    }
    let bar = ProgressBar::new(frames);
    bar.set_style(
        ProgressStyle::with_template("{msg} [{bar:40}] {percent}% · {eta} left")
            .expect("valid template")
            .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    bar
}

/// Run planar audio through a fresh engine, block by block and in place as a host would:
/// `next_block` fills the blocks (returning their length, 0 at the end), `processed` sees each
/// block after the engine. Returns what the meters measured.
pub fn measure_planar(
    sample_rate_hz: u32,
    channels: usize,
    settings: &EngineSettings,
    mut next_block: impl FnMut(&mut [Vec<f32>]) -> Result<usize>,
    mut processed: impl FnMut(&[Vec<f32>]),
) -> Result<Collector> {
    let mut engine = Engine::new(sample_rate_hz as f32, channels, settings);
    let mut collector = Collector::default();
    let mut planar = vec![Vec::new(); channels];
    while next_block(&mut planar)? > 0 {
        let mut views: Vec<&mut [f32]> = planar.iter_mut().map(|c| c.as_mut_slice()).collect();
        engine.process(&mut views, settings, &mut collector);
        processed(&planar);
    }
    engine.finish(&mut collector);
    Ok(collector)
}

pub fn run(path: &Path, json: bool, over_threshold_dbtp: f32, chain: &ChainArgs) -> Result<()> {
    // Resolve the chain first: a bad chain option fails before any work.
    let chain = if chain.is_empty() {
        None
    } else {
        Some(chain.resolve(&Catalog::builtin())?)
    };
    let mut file = AudioFile::open(path)?;
    let progress = progress_bar(
        file.declared_frames.unwrap_or(0),
        file.declared_duration_s().unwrap_or(0.0),
        &format!("analyzing {}", path.display()),
    );
    let settings = EngineSettings {
        over_threshold_dbtp,
        ..EngineSettings::default()
    };
    let (sample_rate, channels) = (file.sample_rate, file.channels);
    let mut spl = chain
        .as_ref()
        .map(|c| SplAnalyzer::new(c, f64::from(sample_rate), channels));
    let collector = measure_planar(
        sample_rate,
        channels,
        &settings,
        |planar| {
            let n = file.read_block(planar)?;
            progress.inc(n as u64);
            Ok(n)
        },
        |planar| {
            if let Some(spl) = spl.as_mut() {
                spl.push(planar);
            }
        },
    )?;
    progress.finish_and_clear();
    let duration_s = file.duration_read_s();
    let report = MeterReport::new(&collector.frame, &collector.overs, duration_s);
    if file.skipped_packets > 0 {
        eprintln!(
            "warning: {}: {} damaged packet(s) could not be decoded and were skipped",
            path.display(),
            file.skipped_packets
        );
    }
    let spl = spl.map(SplAnalyzer::finish);
    if json {
        #[derive(Serialize)]
        struct Full<'a> {
            /// "PCM", "float PCM", "FLAC", "ALAC", "MP3", "AAC" or "Vorbis".
            codec: &'static str,
            /// Bits per sample of a lossless file; absent for a lossy one.
            #[serde(skip_serializing_if = "Option::is_none")]
            bits_per_sample: Option<u32>,
            #[serde(flatten)]
            meters: &'a MeterReport,
            #[serde(flatten, skip_serializing_if = "Option::is_none")]
            spl: Option<&'a SplReport>,
        }
        let full = Full {
            codec: file.encoding.codec,
            bits_per_sample: file.encoding.bits_per_sample,
            meters: &report,
            spl: spl.as_ref(),
        };
        println!("{}", serde_json::to_string_pretty(&full)?);
    } else {
        println!(
            "{}: {} Hz, {} channel(s), {}, {:.2} s",
            path.display(),
            sample_rate,
            channels,
            file.encoding.describe(),
            duration_s
        );
        report.print_text();
        if let Some(spl) = &spl {
            spl.print_text();
        }
    }
    Ok(())
}
