//! An IEM's impedance from a two-channel recording of the jig (`model::jig`, docs/measure.md):
//! input 1 the source side of the sense resistor, input 2 across the IEM.
//!
//! Any broadband excitation works (a sweep, pink noise, music) and any latency, since both inputs
//! share it: the ratio `H = V2/V1` is estimated from the recording's cross spectra (Welch: Hann
//! segments of about 0.7 Hz resolution, half overlapping, every sample covered twice), as
//! `H = ΣX̄Y / Σ|X|²` over the bins of each 1/48-octave point. What that fit leaves unexplained,
//! `Σ|Y|² − |ΣX̄Y|²/Σ|X|²`, is the noise (and any non-linearity) at that point, and gives its
//! uncertainty. A calibration recording, both inputs on one node, measures the inputs' own
//! mismatch `H_cal`, which divides out.
//!
//! The file is streamed; what is held is two segments and the spectra, whatever its length.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use realfft::num_complex::Complex64;
use realfft::{RealFftPlanner, RealToComplex};
use serde::Serialize;

use super::audio_file::{AudioFile, AudioFileError};
use crate::model::curve::ImpedanceCurve;
use crate::model::jig::{INPUT_OHMS, SENSE_OHMS, error_gain, impedance_from_ratio, unload};
use crate::model::units::ValueError;

/// The band every figure is judged over, Hz; the curve goes on above it to the recording's band.
pub const BAND_START_HZ: f64 = 20.0;
pub const BAND_STOP_HZ: f64 = 20_000.0;
/// Points per octave of the curve.
pub const POINTS_PER_OCTAVE: f64 = 48.0;
/// The curve stops below this fraction of the sample rate (the converters' anti-alias filters).
const TOP_FRACTION: f64 = 0.45;
/// The coarsest bin spacing of the spectra, Hz: fine enough that a bin is narrower than a
/// 1/48-octave point from about 50 Hz up, and that the 20 Hz point lies between two bins 3.5 %
/// apart.
const BIN_HZ: f64 = 0.2;
/// A point is reliable when its estimated error of |Z| (95 % confidence) is below this, per cent:
/// the accuracy a dedicated analyser (DATS, ±0.5 %) is specified to.
pub const RELIABLE_PERCENT: f64 = 0.5;
/// Coverage factor of the stated errors (≈ 95 % for a normal distribution).
const COVERAGE: f64 = 2.0;
/// Overlapping Hann segments and neighbouring bins are correlated (adjacent bins of a Hann
/// window by 1/2 in amplitude, half-overlapping segments by 1/6 in power): the variance of the
/// fit is taken this many times the independent-terms figure.
const CORRELATION_FACTOR: f64 = 2.0;
/// A sample at or above this magnitude, three in a row, is a clipped converter (−0.009 dBFS).
const CLIP_LEVEL: f32 = 0.999;
const CLIP_RUN: u32 = 3;
/// Input 1 must peak above this, dBFS: below it the inputs' noise decides the result.
const MIN_PEAK_DBFS: f64 = -60.0;
/// Inputs swapped: input 2 louder than input 1 (|H| above this) at the median point.
const SWAPPED_RATIO: f64 = 1.02;
/// The IEM unplugged, or both inputs on one node: |1 − H| below this at the median point (an
/// IEM above 50 times the sense resistor, which the jig's guide rules out).
const SAME_NODE_DIFFERENCE: f64 = 0.02;
/// Input 2 carries nothing: |H| below this at the median point (a short across the IEM).
const SILENT_RATIO: f64 = 1e-4;
/// The DC resistance is fitted over this span above the lowest reliable point (two octaves).
const DC_FIT_SPAN: f64 = 4.0;
/// Too little signal: fewer than this fraction of the 20 Hz–20 kHz points reliable.
const MIN_RELIABLE_FRACTION: f64 = 0.5;

/// Why a recording cannot be measured; each names the file and what to do.
#[derive(Debug, thiserror::Error)]
pub enum MeasureError {
    #[error(transparent)]
    File(#[from] AudioFileError),
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error(
        "{path}: has {channels} channel(s); the jig records 2 (input 1: the source side of the \
         sense resistor, input 2: across the IEM)"
    )]
    Channels { path: PathBuf, channels: usize },
    #[error(
        "{path}: input {channel} clips at {at_s:.3} s ({samples} samples at full scale in all); \
         lower the output or the input gain and record again"
    )]
    Clipped {
        path: PathBuf,
        channel: usize,
        at_s: f64,
        samples: u64,
    },
    #[error(
        "{path}: too little signal: input 1 peaks at {peak_dbfs:.1} dBFS (at least \
         {MIN_PEAK_DBFS} dBFS is needed; about −12 dBFS is right)"
    )]
    TooQuiet { path: PathBuf, peak_dbfs: f64 },
    #[error(
        "{path}: too little signal: the impedance is within ±{RELIABLE_PERCENT} % at only \
         {percent:.0} % of 20 Hz–20 kHz ({bands}); play the stimulus louder or longer, or check \
         the wiring"
    )]
    Unreliable {
        path: PathBuf,
        percent: f64,
        bands: String,
    },
    #[error(
        "{path}: input 2 is louder than input 1 across the band (median ratio {ratio:.3}): the \
         inputs look swapped; input 1 takes the source side of the sense resistor"
    )]
    Swapped { path: PathBuf, ratio: f64 },
    #[error(
        "{path}: input 2 equals input 1 (median difference {difference:.1e}): the IEM is not \
         connected, or this is a calibration recording (give it with --calibration)"
    )]
    SameNode { path: PathBuf, difference: f64 },
    #[error(
        "{path}: input 2 is silent (median ratio {ratio:.1e}): the IEM side is shorted or not \
         connected to input 2"
    )]
    Silent { path: PathBuf, ratio: f64 },
    #[error(
        "{calibration}: the calibration is {what}, the recording {path} is {expected}; record \
         both with the same settings"
    )]
    CalibrationMismatch {
        calibration: PathBuf,
        path: PathBuf,
        what: String,
        expected: String,
    },
    #[error("{path}: {band}: the recording holds no signal there")]
    NoBand { path: PathBuf, band: String },
}

/// Accumulated cross spectra of a two-channel recording.
struct Spectra {
    /// The bins' spacing, Hz.
    bin_hz: f64,
    sxx: Vec<f64>,
    syy: Vec<f64>,
    sxy: Vec<Complex64>,
    segments: usize,
}

/// The ratio at one frequency, with what the fit leaves over.
#[derive(Debug, Clone, Copy)]
struct RatioPoint {
    ratio: Complex64,
    /// Relative standard error of the ratio (1 σ), or infinity where it cannot be told.
    relative_error: f64,
}

impl Spectra {
    fn segment_len(sample_rate: f64) -> usize {
        ((sample_rate / BIN_HZ).ceil() as usize).next_power_of_two()
    }

    /// The ratio at `hz` from the bins of the 1/48-octave band around it (at least the two bins
    /// either side of it, weighted by nearness).
    fn ratio(&self, hz: f64) -> RatioPoint {
        let position = hz / self.bin_hz;
        let half = 2f64.powf(0.5 / POINTS_PER_OCTAVE);
        let first = (position / half).ceil() as usize;
        let last = ((position * half).floor() as usize).min(self.sxx.len() - 1);
        let mut terms: Vec<(usize, f64)> = if last > first {
            (first..=last).map(|k| (k, 1.0)).collect()
        } else {
            let below = (position.floor() as usize).min(self.sxx.len() - 2);
            let t = (position - below as f64).clamp(0.0, 1.0);
            vec![(below, 1.0 - t), (below + 1, t)]
        };
        terms.retain(|&(k, w)| k > 0 && w > 0.0);
        let (mut sxx, mut syy, mut sxy, mut weight) = (0.0, 0.0, Complex64::default(), 0.0);
        for &(k, w) in &terms {
            sxx += w * self.sxx[k];
            syy += w * self.syy[k];
            sxy += self.sxy[k] * w;
            weight += w;
        }
        if sxx <= 0.0 {
            return RatioPoint {
                ratio: Complex64::default(),
                relative_error: f64::INFINITY,
            };
        }
        let ratio = sxy / sxx;
        let residual = (syy - sxy.norm_sqr() / sxx).max(0.0);
        // Terms: bins × segments (weighted); one complex value was fitted to them.
        let count = weight * self.segments as f64;
        let relative_error = if count > 1.0 && ratio.norm() > 0.0 {
            let per_term = residual / (count - 1.0);
            (CORRELATION_FACTOR * per_term / sxx).sqrt() / ratio.norm()
        } else {
            f64::INFINITY
        };
        RatioPoint {
            ratio,
            relative_error,
        }
    }
}

/// Where input 1 or 2 first clipped, and how often.
#[derive(Debug, Default, Clone, Copy)]
struct ClipWatch {
    run: u32,
    first_frame: Option<u64>,
    samples: u64,
}

impl ClipWatch {
    fn push(&mut self, sample: f32, frame: u64) {
        if sample.abs() >= CLIP_LEVEL {
            self.run += 1;
            self.samples += 1;
            if (self.run >= CLIP_RUN || sample.abs() > 1.0) && self.first_frame.is_none() {
                self.first_frame = Some(frame + 1 - u64::from(self.run.min(CLIP_RUN)));
            }
        } else {
            self.run = 0;
        }
    }
}

/// What a recording holds, before any impedance is made of it.
struct Recording {
    path: PathBuf,
    sample_rate: u32,
    channels: usize,
    frames: u64,
    spectra: Spectra,
}

/// Reads a recording of the jig (input 1 and 2 on the first two channels) into its spectra,
/// refusing a mono, clipped or silent one.
fn read_recording(path: &Path) -> Result<Recording, MeasureError> {
    let mut file = AudioFile::open(path)?;
    if file.channels != 2 {
        return Err(MeasureError::Channels {
            path: path.to_owned(),
            channels: file.channels,
        });
    }
    let sample_rate = f64::from(file.sample_rate);
    let mut welch = Welch::new(sample_rate);
    let mut levels = InputLevels::default();
    let mut planar = vec![Vec::new(); 2];
    loop {
        let n = file.read_block(&mut planar)?;
        if n == 0 {
            break;
        }
        levels.push(&planar, n);
        welch.push(&planar);
    }
    let spectra = welch.finish();
    levels.check(path, sample_rate)?;
    Ok(Recording {
        path: path.to_owned(),
        sample_rate: file.sample_rate,
        channels: file.channels,
        frames: levels.frames,
        spectra,
    })
}

/// What the two inputs' samples say of a recording: where each clipped, how high each peaked,
/// and how many frames it holds.
#[derive(Debug, Default)]
struct InputLevels {
    clips: [ClipWatch; 2],
    peak: [f32; 2],
    frames: u64,
}

impl InputLevels {
    /// Watches the next block, `n` frames of both inputs.
    fn push(&mut self, planar: &[Vec<f32>], n: usize) {
        for (ch, samples) in planar.iter().enumerate() {
            for (i, &s) in samples.iter().enumerate() {
                self.clips[ch].push(s, self.frames + i as u64);
                self.peak[ch] = self.peak[ch].max(s.abs());
            }
        }
        self.frames += n as u64;
    }

    /// Refuses the recording at `path` if either input clipped, or input 1 is too quiet to
    /// measure by.
    fn check(&self, path: &Path, sample_rate: f64) -> Result<(), MeasureError> {
        for (ch, clip) in self.clips.iter().enumerate() {
            if let Some(first) = clip.first_frame {
                return Err(MeasureError::Clipped {
                    path: path.to_owned(),
                    channel: ch + 1,
                    at_s: first as f64 / sample_rate,
                    samples: clip.samples,
                });
            }
        }
        let peak_dbfs = 20.0 * f64::from(self.peak[0]).max(1e-12).log10();
        if peak_dbfs < MIN_PEAK_DBFS {
            return Err(MeasureError::TooQuiet {
                path: path.to_owned(),
                peak_dbfs,
            });
        }
        Ok(())
    }
}

/// Welch's estimate of the inputs' cross spectra, taken in as the file streams: Hann segments,
/// half overlapping, with half a segment of silence in front and the tail padded with silence,
/// so that every sample is in two segments.
struct Welch {
    /// A segment's length, samples.
    len: usize,
    fft: Arc<dyn RealToComplex<f64>>,
    window: Vec<f64>,
    input: Vec<f64>,
    x: Vec<Complex64>,
    y: Vec<Complex64>,
    scratch: Vec<Complex64>,
    /// Each input's samples not yet in two segments.
    held: [Vec<f64>; 2],
    spectra: Spectra,
}

impl Welch {
    /// Segments of [`Spectra::segment_len`] for `sample_rate`, and nothing taken in yet.
    fn new(sample_rate: f64) -> Self {
        let len = Spectra::segment_len(sample_rate);
        let hop = len / 2;
        let bins = len / 2 + 1;
        let fft = RealFftPlanner::<f64>::new().plan_fft_forward(len);
        let window = (0..len)
            .map(|i| 0.5 - 0.5 * (std::f64::consts::TAU * i as f64 / len as f64).cos())
            .collect();
        Self {
            len,
            window,
            input: vec![0.0; len],
            x: fft.make_output_vec(),
            y: fft.make_output_vec(),
            scratch: fft.make_scratch_vec(),
            fft,
            // Half a segment of silence in front, so the first samples are covered twice as all
            // others.
            held: [vec![0.0f64; hop], vec![0.0f64; hop]],
            spectra: Spectra {
                bin_hz: sample_rate / len as f64,
                sxx: vec![0.0; bins],
                syy: vec![0.0; bins],
                sxy: vec![Complex64::default(); bins],
                segments: 0,
            },
        }
    }

    /// Takes in the next block of both inputs, adding every segment it completes.
    fn push(&mut self, planar: &[Vec<f32>]) {
        for (held, samples) in self.held.iter_mut().zip(planar) {
            held.extend(samples.iter().map(|&s| f64::from(s)));
        }
        while self.held[0].len() >= self.len {
            self.add_segment();
        }
    }

    /// The spectra, once the tail, padded with silence, has been in two segments too.
    fn finish(mut self) -> Spectra {
        while self.held[0].len() > self.len / 2 {
            for h in &mut self.held {
                h.resize(self.len, 0.0);
            }
            self.add_segment();
        }
        self.spectra
    }

    /// Adds the first segment held to the spectra, and moves on by half a segment.
    fn add_segment(&mut self) {
        for (out, held) in [(&mut self.x, &self.held[0]), (&mut self.y, &self.held[1])] {
            for ((i, w), s) in self.input.iter_mut().zip(&self.window).zip(held) {
                *i = w * s;
            }
            // Lengths are the plan's own, so the transform cannot fail.
            self.fft
                .process_with_scratch(&mut self.input, out, &mut self.scratch)
                .expect("buffers sized by the plan");
        }
        for k in 0..self.x.len() {
            let (x, y) = (self.x[k], self.y[k]);
            self.spectra.sxx[k] += x.norm_sqr();
            self.spectra.syy[k] += y.norm_sqr();
            self.spectra.sxy[k] += x.conj() * y;
        }
        self.spectra.segments += 1;
        let hop = self.len / 2;
        for h in &mut self.held {
            h.drain(..hop);
        }
    }
}

/// One point of a measured curve.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct MeasuredPoint {
    pub hz: f64,
    pub ohms: f64,
    pub degrees: f64,
    /// The estimated error of |Z| at 95 % confidence, per cent (phase: about the same in
    /// hundredths of a radian); `None` where the recording holds too little to tell.
    pub error_percent: Option<f64>,
    /// Within ±[`RELIABLE_PERCENT`] %.
    pub reliable: bool,
}

/// A run of neighbouring points that are not reliable.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct UnreliableBand {
    pub start_hz: f64,
    pub stop_hz: f64,
    /// The largest estimated error in it, per cent (`None`: no signal there at all).
    pub worst_error_percent: Option<f64>,
}

impl std::fmt::Display for UnreliableBand {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.stop_hz > self.start_hz {
            write!(f, "{}–{} ", hz_text(self.start_hz), hz_text(self.stop_hz))?;
        } else {
            write!(f, "{} ", hz_text(self.start_hz))?;
        }
        match self.worst_error_percent {
            Some(e) if e < 10.0 => write!(f, "(up to ±{e:.2} %)"),
            Some(e) => write!(f, "(up to ±{e:.0} %)"),
            None => write!(f, "(no signal)"),
        }
    }
}

/// "20 Hz", "31.5 Hz", "1.32 kHz", "20 kHz".
fn hz_text(hz: f64) -> String {
    let trim = |text: String| {
        if text.contains('.') {
            text.trim_end_matches('0').trim_end_matches('.').to_owned()
        } else {
            text
        }
    };
    if hz >= 1000.0 {
        format!("{} kHz", trim(format!("{:.2}", hz / 1000.0)))
    } else if hz >= 100.0 {
        format!("{hz:.0} Hz")
    } else {
        format!("{} Hz", trim(format!("{hz:.1}")))
    }
}

/// A frequency and an impedance there.
#[derive(Debug, Clone, Copy, Serialize)]
pub struct AtFrequency {
    pub hz: f64,
    pub ohms: f64,
}

/// A measured impedance.
#[derive(Debug, Clone, Serialize)]
pub struct ImpedanceMeasurement {
    pub recording: PathBuf,
    pub calibration: Option<PathBuf>,
    pub sample_rate_hz: u32,
    pub seconds: f64,
    pub sense_ohms: f64,
    pub input_ohms: Option<f64>,
    /// |Z| smallest and largest over the reliable points of 20 Hz–20 kHz.
    pub minimum: AtFrequency,
    pub maximum: AtFrequency,
    /// The DC resistance, extrapolated to 0 Hz from Re Z over the two octaves above the lowest
    /// reliable point `hz`; a dynamic driver resonating below `hz` is not seen.
    pub dc_resistance: AtFrequency,
    /// Share of the 20 Hz–20 kHz points that are reliable, per cent.
    pub reliable_percent: f64,
    pub unreliable_bands: Vec<UnreliableBand>,
    pub points: Vec<MeasuredPoint>,
}

impl ImpedanceMeasurement {
    /// The curve, every point (the unreliable ones too: the report names them).
    pub fn curve(&self) -> ImpedanceCurve {
        let rows = self
            .points
            .iter()
            .map(|p| [p.hz, p.ohms, p.degrees])
            .collect();
        // Points are made increasing, positive and within ±90°: a defect if not.
        ImpedanceCurve::new(rows).expect("measured points form a valid curve")
    }
}

/// The curve's frequencies: 1/48 octave from 20 Hz to exactly 20 kHz, and on at the same step
/// to `top_hz`.
fn grid(top_hz: f64) -> Vec<f64> {
    let octaves = (BAND_STOP_HZ / BAND_START_HZ).log2();
    let steps = (octaves * POINTS_PER_OCTAVE).round();
    let step = octaves / steps;
    let mut out = Vec::new();
    let mut i = 0.0;
    loop {
        let hz = BAND_START_HZ * 2f64.powf(i * step);
        let hz = if i == steps { BAND_STOP_HZ } else { hz };
        if hz > top_hz {
            break;
        }
        out.push(hz);
        i += 1.0;
    }
    out
}

fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(f64::total_cmp);
    values.get(values.len() / 2).copied().unwrap_or(0.0)
}

/// How a recording of the jig is to be read.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Jig<'a> {
    /// The sense resistor, Ω.
    pub sense_ohms: f64,
    /// Input 2's input impedance, Ω, allowed for when given (`None`: high enough to ignore).
    pub input_ohms: Option<f64>,
    /// A recording with both inputs on one node: the inputs' own mismatch, divided out.
    pub calibration: Option<&'a Path>,
}

/// Measures the impedance in `recording` taken on `jig`.
pub fn measure_impedance(
    recording: &Path,
    jig: &Jig,
) -> Result<ImpedanceMeasurement, MeasureError> {
    let sense_ohms = SENSE_OHMS.check("--sense-ohms", jig.sense_ohms)?;
    let input_ohms = jig
        .input_ohms
        .map(|ohms| INPUT_OHMS.check("--input-ohms", ohms))
        .transpose()?;
    let rec = read_recording(recording)?;
    let cal = jig.calibration.map(read_recording).transpose()?;
    if let Some(cal) = &cal {
        check_calibration(&rec, cal)?;
    }
    let top_hz = TOP_FRACTION * f64::from(rec.sample_rate);
    let frequencies = grid(top_hz);
    if frequencies.len() < 2 {
        return Err(MeasureError::NoBand {
            path: rec.path.clone(),
            band: format!("at {} Hz nothing above 20 Hz", rec.sample_rate),
        });
    }
    let ratios = calibrated_ratios(&rec, cal.as_ref(), &frequencies);
    check_wiring(&rec.path, &frequencies, &ratios)?;
    let points: Vec<MeasuredPoint> = frequencies
        .iter()
        .zip(&ratios)
        .map(|(&hz, r)| point(hz, sense_ohms, input_ohms, r))
        .collect();
    let figures = CurveFigures::of(&rec.path, &points)?;
    Ok(ImpedanceMeasurement {
        recording: rec.path.clone(),
        calibration: cal.map(|c| c.path),
        sample_rate_hz: rec.sample_rate,
        seconds: rec.frames as f64 / f64::from(rec.sample_rate),
        sense_ohms,
        input_ohms,
        minimum: figures.minimum,
        maximum: figures.maximum,
        dc_resistance: figures.dc_resistance,
        reliable_percent: figures.reliable_percent,
        unreliable_bands: figures.unreliable_bands,
        points,
    })
}

/// Refuses a calibration recorded at another rate or with other channels than the recording.
fn check_calibration(rec: &Recording, cal: &Recording) -> Result<(), MeasureError> {
    let mismatch = |what: String, expected: String| MeasureError::CalibrationMismatch {
        calibration: cal.path.clone(),
        path: rec.path.clone(),
        what,
        expected,
    };
    if cal.sample_rate != rec.sample_rate {
        return Err(mismatch(
            format!("at {} Hz", cal.sample_rate),
            format!("at {} Hz", rec.sample_rate),
        ));
    }
    if cal.channels != rec.channels {
        return Err(mismatch(
            format!("{} channels", cal.channels),
            format!("{} channels", rec.channels),
        ));
    }
    Ok(())
}

/// The ratio `V2/V1` at each of `frequencies`, divided by the calibration's (the inputs' own
/// mismatch) when there is one; their relative errors add in quadrature.
fn calibrated_ratios(
    rec: &Recording,
    cal: Option<&Recording>,
    frequencies: &[f64],
) -> Vec<RatioPoint> {
    frequencies
        .iter()
        .map(|&hz| {
            let measured = rec.spectra.ratio(hz);
            match cal {
                Some(cal) => {
                    let inputs = cal.spectra.ratio(hz);
                    RatioPoint {
                        ratio: measured.ratio / inputs.ratio,
                        relative_error: measured.relative_error.hypot(inputs.relative_error),
                    }
                }
                None => measured,
            }
        })
        .collect()
}

/// What a curve's report says of it, from its reliable points in 20 Hz–20 kHz.
struct CurveFigures {
    minimum: AtFrequency,
    maximum: AtFrequency,
    dc_resistance: AtFrequency,
    reliable_percent: f64,
    unreliable_bands: Vec<UnreliableBand>,
}

impl CurveFigures {
    /// The figures of the curve `points` measured from `path`; refused when too little of the
    /// band is reliable.
    fn of(path: &Path, points: &[MeasuredPoint]) -> Result<Self, MeasureError> {
        let in_band = |p: &&MeasuredPoint| (BAND_START_HZ..=BAND_STOP_HZ).contains(&p.hz);
        let band_points = points.iter().filter(in_band).count();
        let reliable: Vec<&MeasuredPoint> = points
            .iter()
            .filter(in_band)
            .filter(|p| p.reliable)
            .collect();
        let reliable_percent = 100.0 * reliable.len() as f64 / band_points.max(1) as f64;
        let unreliable_bands = unreliable_bands(points);
        if reliable_percent < 100.0 * MIN_RELIABLE_FRACTION {
            return Err(MeasureError::Unreliable {
                path: path.to_owned(),
                percent: reliable_percent,
                bands: unreliable_bands
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join(", "),
            });
        }
        let at = |p: &MeasuredPoint| AtFrequency {
            hz: p.hz,
            ohms: p.ohms,
        };
        let minimum = reliable
            .iter()
            .min_by(|a, b| a.ohms.total_cmp(&b.ohms))
            .map(|p| at(p));
        let maximum = reliable
            .iter()
            .max_by(|a, b| a.ohms.total_cmp(&b.ohms))
            .map(|p| at(p));
        let lowest = dc_resistance(&reliable);
        let (Some(minimum), Some(maximum), Some(dc_resistance)) = (minimum, maximum, lowest) else {
            unreachable!("at least half the band is reliable");
        };
        Ok(Self {
            minimum,
            maximum,
            dc_resistance,
            reliable_percent,
            unreliable_bands,
        })
    }
}

/// Re Z extrapolated to 0 Hz: a least-squares fit of `R + a·√f + b·f²` to the reliable points
/// of the lowest two octaves (a balanced armature's eddy currents add the √f term, inductance and
/// a resonance above the f² term); Re Z itself where there are too few points.
fn dc_resistance(reliable: &[&MeasuredPoint]) -> Option<AtFrequency> {
    let re = |p: &MeasuredPoint| p.ohms * p.degrees.to_radians().cos();
    let low = reliable.first()?;
    let fit: Vec<&&MeasuredPoint> = reliable
        .iter()
        .take_while(|p| p.hz <= DC_FIT_SPAN * low.hz)
        .collect();
    let fallback = AtFrequency {
        hz: low.hz,
        ohms: re(low),
    };
    if fit.len() < 8 {
        return Some(fallback);
    }
    // Normal equations of the three basis functions, scaled to the lowest frequency.
    let basis = |hz: f64| {
        let x = hz / low.hz;
        [1.0, x.sqrt(), x * x]
    };
    let mut m = [[0.0f64; 3]; 3];
    let mut v = [0.0f64; 3];
    for p in &fit {
        let b = basis(p.hz);
        for i in 0..3 {
            for j in 0..3 {
                m[i][j] += b[i] * b[j];
            }
            v[i] += b[i] * re(p);
        }
    }
    let det = |m: &[[f64; 3]; 3]| {
        m[0][0] * (m[1][1] * m[2][2] - m[1][2] * m[2][1])
            - m[0][1] * (m[1][0] * m[2][2] - m[1][2] * m[2][0])
            + m[0][2] * (m[1][0] * m[2][1] - m[1][1] * m[2][0])
    };
    let d = det(&m);
    if d.abs() < 1e-12 {
        return Some(fallback);
    }
    // Cramer's rule for the constant term.
    let mut m0 = m;
    for i in 0..3 {
        m0[i][0] = v[i];
    }
    Some(AtFrequency {
        hz: low.hz,
        ohms: det(&m0) / d,
    })
}

/// One point of the curve from the ratio there.
fn point(hz: f64, sense_ohms: f64, input_ohms: Option<f64>, r: &RatioPoint) -> MeasuredPoint {
    let measured = impedance_from_ratio(sense_ohms, r.ratio);
    let z = input_ohms.map_or(measured, |ohms| unload(measured, ohms));
    let error = r.relative_error * error_gain(r.ratio) * COVERAGE * 100.0;
    let error_percent = error.is_finite().then_some(error);
    let degrees = z.arg().to_degrees();
    // A passive load's phase is within ±90°; noise can push an estimate past it.
    let passive = degrees.abs() <= 90.0 && z.norm().is_finite() && z.norm() > 0.0;
    MeasuredPoint {
        hz,
        ohms: if z.norm().is_finite() && z.norm() > 0.0 {
            z.norm()
        } else {
            f64::MAX.sqrt()
        },
        degrees: degrees.clamp(-90.0, 90.0),
        error_percent,
        reliable: passive && error_percent.is_some_and(|e| e <= RELIABLE_PERCENT),
    }
}

/// Refuses swapped inputs, an unplugged or shorted IEM, judged at the median point of the band.
fn check_wiring(
    path: &Path,
    frequencies: &[f64],
    ratios: &[RatioPoint],
) -> Result<(), MeasureError> {
    let in_band = || {
        frequencies
            .iter()
            .zip(ratios)
            .filter(|(hz, _)| (BAND_START_HZ..=BAND_STOP_HZ).contains(*hz))
            .map(|(_, r)| r.ratio)
    };
    let ratio = median(in_band().map(|h| h.norm()).collect());
    let difference = median(
        in_band()
            .map(|h| (Complex64::new(1.0, 0.0) - h).norm())
            .collect(),
    );
    let path = path.to_owned();
    if ratio < SILENT_RATIO {
        return Err(MeasureError::Silent { path, ratio });
    }
    if difference < SAME_NODE_DIFFERENCE {
        return Err(MeasureError::SameNode { path, difference });
    }
    if ratio > SWAPPED_RATIO {
        return Err(MeasureError::Swapped { path, ratio });
    }
    Ok(())
}

/// The runs of unreliable points.
fn unreliable_bands(points: &[MeasuredPoint]) -> Vec<UnreliableBand> {
    let mut bands: Vec<UnreliableBand> = Vec::new();
    let mut open = false;
    for p in points {
        if p.reliable {
            open = false;
            continue;
        }
        let error = p.error_percent;
        match bands.last_mut() {
            Some(band) if open => {
                band.stop_hz = p.hz;
                band.worst_error_percent = match (band.worst_error_percent, error) {
                    (Some(a), Some(b)) => Some(a.max(b)),
                    _ => None,
                };
            }
            _ => bands.push(UnreliableBand {
                start_hz: p.hz,
                stop_hz: p.hz,
                worst_error_percent: error,
            }),
        }
        open = true;
    }
    bands
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grid_holds_the_band_edges_exactly() {
        let g = grid(21_600.0);
        assert_eq!(g[0], BAND_START_HZ);
        assert!(g.contains(&BAND_STOP_HZ));
        assert!(*g.last().unwrap() <= 21_600.0 && *g.last().unwrap() > 20_000.0);
        let per_octave = (g.len() as f64 - 1.0) / (g.last().unwrap() / g[0]).log2();
        assert!((per_octave - POINTS_PER_OCTAVE).abs() < 0.2, "{per_octave}");
    }

    #[test]
    fn clipping_needs_a_run_or_an_over() {
        let mut w = ClipWatch::default();
        for (i, s) in [0.5, 1.0, 0.5, 1.0, 1.0, 0.5].into_iter().enumerate() {
            w.push(s, i as u64);
        }
        assert_eq!(w.first_frame, None);
        for (i, s) in [1.0, 1.0, 1.0].into_iter().enumerate() {
            w.push(s, 10 + i as u64);
        }
        assert_eq!(w.first_frame, Some(10));
        let mut over = ClipWatch::default();
        over.push(1.5, 7);
        assert_eq!(over.first_frame, Some(7));
    }

    #[test]
    fn bands_join_neighbours() {
        let p = |hz, reliable, e| MeasuredPoint {
            hz,
            ohms: 1.0,
            degrees: 0.0,
            error_percent: e,
            reliable,
        };
        let bands = unreliable_bands(&[
            p(20.0, false, Some(2.0)),
            p(21.0, false, Some(3.0)),
            p(22.0, true, Some(0.1)),
            p(23.0, false, None),
        ]);
        assert_eq!(bands.len(), 2);
        assert_eq!((bands[0].start_hz, bands[0].stop_hz), (20.0, 21.0));
        assert_eq!(bands[0].worst_error_percent, Some(3.0));
        assert_eq!(bands[1].worst_error_percent, None);
        assert_eq!(bands[1].to_string(), "23 Hz (no signal)");
        assert_eq!(bands[0].to_string(), "20 Hz–21 Hz (up to ±3.00 %)");
        assert_eq!(hz_text(1322.4), "1.32 kHz");
        assert_eq!(hz_text(20_000.0), "20 kHz");
        assert_eq!(hz_text(31.5), "31.5 Hz");
    }
}
