//! Offline analysis: the plugin's own engine run over whole audio files, what a chain delivers
//! from them, and several files measured as one programme (an album).
//!
//! The CLI only parses arguments and prints what these functions return. Several files are
//! analysed in parallel, each on one thread with its own engine; every figure is computed from
//! one file's samples in order, and the album is folded in input order, so the results do not
//! depend on the number of threads.

use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};

use serde::Serialize;

use super::audio_file::{AUDIO_EXTENSIONS, AudioFile, AudioFileError, Encoding};
use crate::design::spl::design_spl;
use crate::dsp::guard::InputHealth;
use crate::dsp::level::SILENCE_DB;
use crate::dsp::meter::history::HistoryPoint;
use crate::dsp::meter::loudness::GatedBlocks;
use crate::dsp::spl::exposure::EarReadings;
use crate::dsp::spl::stage::SplStage;
use crate::dsp::{Collector, Engine, EngineSettings, MeterFrame, OverEvent};
use crate::model::Chain;
use crate::model::calibration::LevelBasis;
use crate::model::delivery::plr_lu;
use crate::model::iem::Ear;

/// One over in a report.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct OverLogEntry {
    pub time_s: f64,
    /// 1-based channel number.
    pub channel: usize,
    pub level_dbtp: f32,
}

/// The meter report; per-channel values are arrays in channel order, `null` for silence.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeterReport {
    /// `None` only for an album whose files differ in rate.
    pub sample_rate: Option<u32>,
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
    /// Peak-to-loudness ratio: the highest channel's true peak minus the integrated loudness, LU.
    pub plr_lu: Option<f64>,
}

fn audible(db: f32) -> Option<f32> {
    (db > SILENCE_DB).then_some(db)
}

fn finite(v: Option<f64>) -> Option<f64> {
    v.filter(|x| x.is_finite())
}

/// The larger of two optional readings (`None` is silence, below everything).
fn louder<T: PartialOrd>(a: Option<T>, b: Option<T>) -> Option<T> {
    match (a, b) {
        (Some(a), Some(b)) => Some(if b > a { b } else { a }),
        (a, b) => a.or(b),
    }
}

impl MeterReport {
    pub fn new(frame: &MeterFrame, overs: &[OverEvent], duration_s: f64) -> Self {
        let ch = &frame.channel[..frame.channels];
        let l = &frame.loudness;
        Self {
            sample_rate: Some(frame.sample_rate_hz as u32),
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
            plr_lu: None,
        }
        .with_plr()
    }

    /// The report with its PLR from its highest true peak and integrated loudness.
    fn with_plr(mut self) -> Self {
        let peak = Self::highest(&self.true_peak_dbtp).map(f64::from);
        self.plr_lu = plr_lu(peak, self.integrated_lufs);
        self
    }

    /// The highest of the channels' readings, for one-line summaries.
    pub fn highest(values: &[Option<f32>]) -> Option<f32> {
        values.iter().copied().fold(None, louder)
    }
}

/// Run planar audio through a fresh engine, block by block and in place as a host would:
/// `next_block` fills the blocks (returning their length, 0 at the end), `processed` sees each
/// block after the engine. Returns the engine (for its loudness blocks) and what it measured.
pub fn measure_planar<E>(
    sample_rate_hz: u32,
    channels: usize,
    settings: &EngineSettings,
    mut next_block: impl FnMut(&mut [Vec<f32>]) -> Result<usize, E>,
    mut processed: impl FnMut(&[Vec<f32>]),
) -> Result<(Engine, Collector), E> {
    let mut engine = Engine::new(sample_rate_hz as f32, channels, settings);
    let mut collector = Collector {
        history: Some(Vec::new()),
        ..Collector::default()
    };
    let mut planar = vec![Vec::new(); channels];
    while next_block(&mut planar)? > 0 {
        let mut views: Vec<&mut [f32]> = planar.iter_mut().map(|c| c.as_mut_slice()).collect();
        engine.process(&mut views, settings, &mut collector);
        processed(&planar);
    }
    engine.finish(&mut collector);
    Ok((engine, collector))
}

/// Delivered SPL and dose, per channel (ear), channel order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplReport {
    pub chain_iem: String,
    pub chain_source: String,
    pub chain_attenuator: String,
    /// Whether the levels rest on a multimeter reading or the spec sheet.
    pub level: LevelBasis,
    /// LAeq at the eardrum, dBA.
    pub laeq_dba: Vec<f64>,
    /// LAeq, diffuse-field equivalent, dBA (what exposure limits are written for).
    pub laeq_df_dba: Vec<f64>,
    /// Peak C-weighted level at the eardrum, dBC.
    pub lcpeak_dbc: Vec<f64>,
    /// NIOSH daily dose (diffuse-field equivalent), %.
    pub dose_niosh_percent: Vec<f64>,
    /// WHO/ITU-T H.870 weekly dose (diffuse-field equivalent), %.
    pub dose_who_percent: Vec<f64>,
    /// The chain's headroom for the loudest true peak heard, dB: negative, the output stage
    /// clips (and the figures above are of the signal as if it did not).
    pub headroom_db: f64,
}

/// Meters what a chain delivers for planar audio fed block by block: the plugin's own SPL meter
/// (`dsp::spl::stage`), the rig's pressure filters designed before the first block, each channel
/// metered as one ear through its earpiece (channel 1 the right, the others the left).
pub struct SplAnalyzer {
    chain: Chain,
    /// One meter per channel.
    stages: Vec<SplStage>,
}

impl SplAnalyzer {
    pub fn new(chain: &Chain, sample_rate_hz: f64, channels: usize) -> Self {
        let design = design_spl(chain, sample_rate_hz);
        let stages = (0..channels)
            .map(|channel| {
                let mut stage = SplStage::new(sample_rate_hz);
                stage.set_design(&design.ear(Ear::of_channel(channel)));
                stage
            })
            .collect();
        Self {
            chain: chain.clone(),
            stages,
        }
    }

    pub fn push(&mut self, planar: &[Vec<f32>]) {
        for (stage, channel) in self.stages.iter_mut().zip(planar) {
            stage.process(std::slice::from_ref(channel));
        }
    }

    /// The report, given what the meters measured of the same audio.
    pub fn finish(self, meters: &MeterReport) -> SplReport {
        let ears: Vec<_> = self
            .stages
            .iter()
            .map(|s| s.readings(1).ear_readings()[0])
            .collect();
        let each = |f: fn(&EarReadings) -> f64| ears.iter().map(f).collect::<Vec<f64>>();
        SplReport {
            chain_iem: self.chain.iem.name.clone(),
            chain_source: self.chain.source.name.clone(),
            chain_attenuator: self.chain.attenuator.name.clone(),
            level: self.chain.level_basis(),
            laeq_dba: each(|e| e.laeq_db),
            laeq_df_dba: each(|e| e.laeq_df_db),
            lcpeak_dbc: each(|e| e.lcpeak_db),
            dose_niosh_percent: each(|e| e.niosh_percent),
            dose_who_percent: each(|e| e.who_percent),
            // Silence has no peak: its headroom is that of a full-scale one.
            headroom_db: self
                .chain
                .headroom_db(MeterReport::highest(&meters.true_peak_dbtp).map_or(0.0, f64::from)),
        }
    }
}

/// What the engine measured in audio held in memory.
#[derive(Debug, Clone)]
pub struct SignalAnalysis {
    pub meters: MeterReport,
    pub spl: Option<SplReport>,
    /// Whether the engine passed the audio through bit for bit (it must at default settings).
    pub bit_exact: bool,
}

/// Meter planar audio held in memory through a fresh engine in host-sized blocks of `block`
/// frames, in place as a host would (and `chain`'s SPL meter, if given).
pub fn analyze_signal(
    input: &[Vec<f32>],
    sample_rate_hz: u32,
    block: usize,
    settings: &EngineSettings,
    chain: Option<&Chain>,
) -> SignalAnalysis {
    let len = input.first().map_or(0, Vec::len);
    let mut spl = chain.map(|c| SplAnalyzer::new(c, f64::from(sample_rate_hz), input.len()));
    let mut position = 0;
    let mut bit_exact = true;
    let next_block = |planar: &mut [Vec<f32>]| {
        let end = (position + block).min(len);
        for (dst, src) in planar.iter_mut().zip(input) {
            dst.clear();
            dst.extend_from_slice(&src[position..end]);
        }
        Ok::<_, std::convert::Infallible>(end - std::mem::replace(&mut position, end))
    };
    let mut done = 0;
    let (_, collector) = measure_planar(
        sample_rate_hz,
        input.len(),
        settings,
        next_block,
        |processed| {
            if let Some(spl) = spl.as_mut() {
                spl.push(processed);
            }
            let n = processed.first().map_or(0, Vec::len);
            bit_exact &= processed.iter().zip(input).all(|(out, src)| {
                out.iter()
                    .zip(&src[done..done + n])
                    .all(|(a, b)| a.to_bits() == b.to_bits())
            });
            done += n;
        },
    )
    .unwrap_or_else(|never| match never {});
    let meters = MeterReport::new(
        &collector.frame.meter,
        &collector.overs,
        len as f64 / f64::from(sample_rate_hz),
    );
    SignalAnalysis {
        spl: spl.map(|s| s.finish(&meters)),
        meters,
        bit_exact,
    }
}

/// What a job over a file tells as it goes: the file's declared length once it is open (so a
/// front end can size a progress bar without opening the file itself), then the frames done.
/// Any `FnMut(u64)` is one that only counts frames.
pub trait Progress {
    /// The file is open and declares `frames` frames, `seconds` long (0 where it does not say).
    fn opened(&mut self, _frames: u64, _seconds: f64) {}
    /// `frames` more frames are done.
    fn advanced(&mut self, frames: u64);
}

impl<F: FnMut(u64)> Progress for F {
    fn advanced(&mut self, frames: u64) {
        self(frames)
    }
}

/// Tell `progress` what `file` declares.
pub(crate) fn report_opened(progress: &mut impl Progress, file: &AudioFile) {
    progress.opened(
        file.declared_frames.unwrap_or(0),
        file.declared_duration_s().unwrap_or(0.0),
    );
}

/// Everything measured in one file.
#[derive(Debug, Clone)]
pub struct FileAnalysis {
    pub path: PathBuf,
    pub encoding: Encoding,
    pub meters: MeterReport,
    /// With a chain: what it delivers.
    pub spl: Option<SplReport>,
    /// What in the file may make the figures other than the programme's: damaged packets, samples
    /// that were not numbers (read as silence), a lossy file shorter than its header says.
    pub warnings: Vec<String>,
    /// The blocks behind integrated loudness and range, for the album.
    pub blocks: GatedBlocks,
    /// The loudness history, one point per 100 ms step.
    pub history: Vec<HistoryPoint>,
}

/// Meter one file through a fresh engine (and `chain`'s SPL meter, if given); `progress` is
/// told the file's length once it is open and the frames read after each block.
pub fn analyze_file(
    path: &Path,
    settings: &EngineSettings,
    chain: Option<&Chain>,
    mut progress: impl Progress,
) -> Result<FileAnalysis, AudioFileError> {
    if path.is_dir() {
        // What [`collect_inputs`] leaves of a folder without audio: a failed row of its own.
        return Err(AudioFileError::Unreadable {
            path: path.to_owned(),
            reason: format!(
                "the folder holds no audio files (looked for .{})",
                AUDIO_EXTENSIONS.join(", .")
            ),
        });
    }
    let mut file = AudioFile::open(path)?;
    report_opened(&mut progress, &file);
    let (sample_rate, channels) = (file.sample_rate, file.channels);
    let mut spl = chain.map(|c| SplAnalyzer::new(c, f64::from(sample_rate), channels));
    let (engine, collector) = measure_planar(
        sample_rate,
        channels,
        settings,
        |planar| {
            let n = file.read_block(planar)?;
            progress.advanced(n as u64);
            Ok(n)
        },
        |planar| {
            if let Some(spl) = spl.as_mut() {
                spl.push(planar);
            }
        },
    )?;
    let warnings = file_warnings(&file, &engine.input_health());
    let meters = MeterReport::new(
        &collector.frame.meter,
        &collector.overs,
        file.duration_read_s(),
    );
    Ok(FileAnalysis {
        path: path.to_owned(),
        encoding: file.encoding.clone(),
        warnings,
        spl: spl.map(|s| s.finish(&meters)),
        meters,
        blocks: engine.loudness_blocks().clone(),
        history: collector.history.unwrap_or_default(),
    })
}

/// What may skew a file's figures: damaged packets skipped, samples that were not numbers, a
/// lossy file cut short of what its header declares.
fn file_warnings(file: &AudioFile, health: &InputHealth) -> Vec<String> {
    let mut warnings = Vec::new();
    if file.skipped_packets > 0 {
        warnings.push(format!(
            "{} damaged packet(s) could not be decoded and were skipped",
            file.skipped_packets
        ));
    }
    if health.non_finite_samples > 0 {
        warnings.push(format!(
            "{} sample(s) were not numbers (NaN or infinity) and were read as silence, the last \
             at {:.3} s; the peaks around them are those of the silence's edges",
            health.non_finite_samples, health.last_at_s
        ));
    }
    if let Some((declared_s, read_s)) = file.lossy_shortfall_s() {
        warnings.push(format!(
            "its header declares {declared_s:.3} s but it holds {read_s:.3} s: the file looks cut \
             short, and the figures are of what it holds"
        ));
    }
    if file.ogg_ends_unterminated() {
        warnings.push(format!(
            "its Ogg stream stops after {:.3} s without its last page (the one flagged \
             end-of-stream): the file looks cut short, and the figures are of what it holds",
            file.duration_read_s()
        ));
    }
    warnings
}

/// The frames and seconds a file declares (0 when it does not say or cannot be opened), to size
/// one progress bar over several files before any is analysed.
pub fn declared_length(path: &Path) -> (u64, f64) {
    AudioFile::open(path)
        .ok()
        .and_then(|f| Some((f.declared_frames?, f.declared_duration_s()?)))
        .unwrap_or((0, 0.0))
}

/// Analyse `paths` on up to `threads` threads; results in input order, each file's own error
/// where it failed. `progress` is told frames read, from whichever thread read them.
pub fn analyze_files(
    paths: &[PathBuf],
    threads: usize,
    settings: &EngineSettings,
    chain: Option<&Chain>,
    progress: &(dyn Fn(u64) + Sync),
) -> Vec<Result<FileAnalysis, AudioFileError>> {
    let results: Vec<Mutex<Option<Result<FileAnalysis, AudioFileError>>>> =
        paths.iter().map(|_| Mutex::new(None)).collect();
    let next = AtomicUsize::new(0);
    let work = || {
        loop {
            let i = next.fetch_add(1, Ordering::Relaxed);
            let Some(path) = paths.get(i) else { break };
            let result = analyze_file(path, settings, chain, progress);
            *results[i].lock().unwrap_or_else(|e| e.into_inner()) = Some(result);
        }
    };
    let threads = threads.clamp(1, paths.len().max(1));
    std::thread::scope(|scope| {
        for _ in 1..threads {
            scope.spawn(work);
        }
        work();
    });
    results
        .into_iter()
        .map(|slot| {
            slot.into_inner()
                .unwrap_or_else(|e| e.into_inner())
                .expect("every file was analysed")
        })
        .collect()
}

/// What a walk of the inputs found: the audio files, each real file once, and what it skipped
/// (a link to a folder it had walked or that holds it, a second name of a file), each said.
#[derive(Debug, Default)]
pub struct Collected {
    pub files: Vec<PathBuf>,
    pub skipped: Vec<String>,
}

/// The files behind `inputs`: each file as given, each folder's audio files (by extension,
/// [`AUDIO_EXTENSIONS`]) with its subfolders', in name order; each real file once, following
/// links but never round a loop or back up into a folder being walked. A folder without audio
/// stays in the list as itself, and analysing it fails in its own row
/// ([`analyze_file`] names it), so the other inputs are still analysed.
pub fn collect_inputs(inputs: &[PathBuf]) -> Result<Collected, AudioFileError> {
    let mut walk = Walk::default();
    for input in inputs {
        if input.is_dir() {
            let before = walk.found.files.len();
            walk.folder(input, &[])?;
            if walk.found.files.len() == before {
                walk.found.files.push(input.clone());
            }
        } else {
            walk.found.files.push(input.clone());
        }
    }
    Ok(walk.found)
}

/// [`collect_inputs`]' files alone.
pub fn collect_audio_files(inputs: &[PathBuf]) -> Result<Vec<PathBuf>, AudioFileError> {
    collect_inputs(inputs).map(|c| c.files)
}

/// A walk's state: what it found and the real paths it has seen.
#[derive(Default)]
struct Walk {
    found: Collected,
    folders: std::collections::HashSet<PathBuf>,
    files: std::collections::HashMap<PathBuf, PathBuf>,
}

impl Walk {
    /// Walks `folder`, below the real folders `above` (the walk's path down to it).
    fn folder(&mut self, folder: &Path, above: &[PathBuf]) -> Result<(), AudioFileError> {
        let io = |source| AudioFileError::Io {
            path: folder.to_owned(),
            source,
        };
        let real = folder.canonicalize().map_err(io)?;
        if !self.folders.insert(real.clone()) {
            return Ok(());
        }
        let mut entries = std::fs::read_dir(folder)
            .map_err(io)?
            .map(|e| e.map(|e| e.path()))
            .collect::<Result<Vec<_>, _>>()
            .map_err(io)?;
        entries.sort();
        let mut path_down = above.to_vec();
        path_down.push(real);
        for path in entries {
            if path.is_dir() {
                if let Some(why) = self.loop_at(&path, &path_down) {
                    self.found.skipped.push(why);
                    continue;
                }
                self.folder(&path, &path_down)?;
            } else if is_audio(&path) {
                self.file(path);
            }
        }
        Ok(())
    }

    /// Why the folder `path` is not walked: it is (a link to) a folder already walked, or to
    /// one of the folders the walk is in (a loop, `ln -s .` or `ln -s ..`).
    fn loop_at(&self, path: &Path, path_down: &[PathBuf]) -> Option<String> {
        let real = path.canonicalize().ok()?;
        if path_down.iter().any(|above| above.starts_with(&real)) {
            Some(format!(
                "{}: a link back to {}, which holds it (not followed)",
                path.display(),
                real.display()
            ))
        } else if self.folders.contains(&real) {
            Some(format!(
                "{}: a link to {}, already analysed (not followed)",
                path.display(),
                real.display()
            ))
        } else {
            None
        }
    }

    /// Takes an audio file unless it is a second name (a link) of one already taken.
    fn file(&mut self, path: PathBuf) {
        let real = path.canonicalize().unwrap_or_else(|_| path.clone());
        match self.files.get(&real) {
            Some(first) => self.found.skipped.push(format!(
                "{}: the same file as {} (analysed once)",
                path.display(),
                first.display()
            )),
            None => {
                self.files.insert(real, path.clone());
                self.found.files.push(path);
            }
        }
    }
}

/// An audio file by its extension ([`AUDIO_EXTENSIONS`], any case).
fn is_audio(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| AUDIO_EXTENSIONS.contains(&e.to_ascii_lowercase().as_str()))
}

/// Several files as one programme, in the order given: integrated loudness and loudness range
/// gated over all their blocks together, the maxima of the peaks and of momentary and short-term
/// loudness, overs summed per channel and logged on the album's timeline. Channel arrays are as
/// long as the widest file; the rate is `None` if the files differ in it.
pub fn album(files: &[&FileAnalysis]) -> MeterReport {
    let channels = files.iter().map(|f| f.meters.channels).max().unwrap_or(0);
    let mut rates = files.iter().map(|f| f.meters.sample_rate);
    let first_rate = rates.next().flatten();
    let mut report = MeterReport {
        sample_rate: rates
            .all(|r| r == first_rate)
            .then_some(first_rate)
            .flatten(),
        channels,
        duration_s: 0.0,
        true_peak_dbtp: vec![None; channels],
        true_peak_bs1770_dbtp: vec![None; channels],
        sample_peak_dbfs: vec![None; channels],
        over_threshold_dbtp: files.first().map_or(0.0, |f| f.meters.over_threshold_dbtp),
        overs: vec![0; channels],
        over_log: Vec::new(),
        integrated_lufs: None,
        momentary_max_lufs: None,
        short_term_max_lufs: None,
        loudness_range_lu: None,
        plr_lu: None,
    };
    let mut blocks = GatedBlocks::default();
    for file in files {
        let m = &file.meters;
        let max_into = |into: &mut [Option<f32>], from: &[Option<f32>]| {
            for (a, &b) in into.iter_mut().zip(from) {
                *a = louder(*a, b);
            }
        };
        max_into(&mut report.true_peak_dbtp, &m.true_peak_dbtp);
        max_into(&mut report.true_peak_bs1770_dbtp, &m.true_peak_bs1770_dbtp);
        max_into(&mut report.sample_peak_dbfs, &m.sample_peak_dbfs);
        for (a, b) in report.overs.iter_mut().zip(&m.overs) {
            *a += b;
        }
        let offset = report.duration_s;
        report
            .over_log
            .extend(m.over_log.iter().map(|e| OverLogEntry {
                time_s: e.time_s + offset,
                ..e.clone()
            }));
        report.duration_s += m.duration_s;
        report.momentary_max_lufs = louder(report.momentary_max_lufs, m.momentary_max_lufs);
        report.short_term_max_lufs = louder(report.short_term_max_lufs, m.short_term_max_lufs);
        blocks.merge(&file.blocks);
    }
    report.integrated_lufs = finite(blocks.integrated_lufs());
    report.loudness_range_lu = finite(blocks.loudness_range_lu());
    report.with_plr()
}

/// What a chain delivers over the album as one session, per ear (channel order): LAeq from the
/// files' energies over their total length, the highest LCpeak, and the doses added up (a dose
/// is a share of an allowance, so a set's dose is the sum of its songs'). `None` without a chain.
/// An ear a file does not have counts as silence for that file's length.
pub fn album_spl(files: &[&FileAnalysis]) -> Option<SplReport> {
    let with_spl: Vec<(&SplReport, f64)> = files
        .iter()
        .filter_map(|f| f.spl.as_ref().map(|spl| (spl, f.meters.duration_s)))
        .collect();
    let (first, _) = *with_spl.first()?;
    let ears = with_spl.iter().map(|(s, _)| s.laeq_dba.len()).max()?;
    let total_s: f64 = with_spl.iter().map(|(_, t)| t).sum();
    let mean_level = |pick: fn(&SplReport) -> &Vec<f64>, ear: usize| {
        let energy: f64 = with_spl
            .iter()
            .map(|(s, t)| pick(s).get(ear).map_or(0.0, |l| 10f64.powf(l / 10.0) * t))
            .sum();
        10.0 * (energy / total_s).log10()
    };
    let fold =
        |pick: fn(&SplReport) -> &Vec<f64>, ear: usize, f: fn(f64, f64) -> f64, start: f64| {
            with_spl
                .iter()
                .filter_map(|(s, _)| pick(s).get(ear).copied())
                .fold(start, f)
        };
    let per_ear = |f: &dyn Fn(usize) -> f64| (0..ears).map(f).collect::<Vec<f64>>();
    Some(SplReport {
        chain_iem: first.chain_iem.clone(),
        chain_source: first.chain_source.clone(),
        chain_attenuator: first.chain_attenuator.clone(),
        level: first.level.clone(),
        laeq_dba: per_ear(&|e| mean_level(|s| &s.laeq_dba, e)),
        laeq_df_dba: per_ear(&|e| mean_level(|s| &s.laeq_df_dba, e)),
        lcpeak_dbc: per_ear(&|e| fold(|s| &s.lcpeak_dbc, e, f64::max, f64::NEG_INFINITY)),
        dose_niosh_percent: per_ear(&|e| fold(|s| &s.dose_niosh_percent, e, |a, b| a + b, 0.0)),
        dose_who_percent: per_ear(&|e| fold(|s| &s.dose_who_percent, e, |a, b| a + b, 0.0)),
        headroom_db: with_spl
            .iter()
            .map(|(s, _)| s.headroom_db)
            .fold(f64::INFINITY, f64::min),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn louder_treats_none_as_silence() {
        assert_eq!(louder(None, Some(-3.0)), Some(-3.0));
        assert_eq!(louder(Some(-1.0), Some(-3.0)), Some(-1.0));
        assert_eq!(louder(Some(-3.0), Some(-1.0)), Some(-1.0));
        assert_eq!(louder::<f32>(None, None), None);
    }

    /// A folder without audio stays in the list as itself, and analysing it fails naming it.
    #[test]
    fn a_folder_without_audio_is_named() {
        let dir = std::env::temp_dir().join(format!("earstage-empty-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        std::fs::write(dir.join("notes.txt"), "no audio").unwrap();
        let listed = collect_audio_files(std::slice::from_ref(&dir)).unwrap();
        assert_eq!(listed, std::slice::from_ref(&dir));
        let err = analyze_file(&dir, &EngineSettings::default(), None, |_: u64| {})
            .unwrap_err()
            .to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        assert!(err.contains(&dir.display().to_string()), "{err}");
        assert!(err.contains("no audio files"), "{err}");
    }

    /// Links that loop (to the folder itself, to its parent) are not followed and a second name
    /// of a file is not analysed twice; each is said. A link to a folder elsewhere is followed.
    #[cfg(unix)]
    #[test]
    fn links_never_loop_and_files_count_once() {
        use std::os::unix::fs::symlink;
        let top = std::env::temp_dir().join(format!("earstage-links-{}", std::process::id()));
        std::fs::remove_dir_all(&top).ok();
        let (folder, elsewhere) = (top.join("L"), top.join("other"));
        std::fs::create_dir_all(&folder).unwrap();
        std::fs::create_dir_all(&elsewhere).unwrap();
        std::fs::write(folder.join("tone.wav"), b"x").unwrap();
        std::fs::write(elsewhere.join("far.wav"), b"x").unwrap();
        std::fs::write(top.join("beside.wav"), b"x").unwrap();
        symlink(".", folder.join("self")).unwrap();
        symlink("..", folder.join("up")).unwrap();
        symlink("tone.wav", folder.join("alias.wav")).unwrap();
        symlink(&elsewhere, folder.join("far")).unwrap();
        let found = collect_inputs(std::slice::from_ref(&folder)).unwrap();
        let names: Vec<String> = found
            .files
            .iter()
            .map(|p| p.strip_prefix(&folder).unwrap().display().to_string())
            .collect();
        std::fs::remove_dir_all(&top).unwrap();
        // alias.wav sorts before tone.wav: the first name of the one file is the one analysed.
        assert_eq!(names, ["alias.wav", "far/far.wav"], "{found:?}");
        assert_eq!(found.skipped.len(), 3, "{found:?}");
        for (name, why) in [
            ("self", "holds it"),
            ("up", "holds it"),
            ("tone.wav", "same file"),
        ] {
            assert!(
                found
                    .skipped
                    .iter()
                    .any(|s| s.contains(name) && s.contains(why)),
                "{name}: {found:?}"
            );
        }
    }
}
