//! The jig's stimulus (docs/measure.md): an exponential sine sweep, which spends equal time in
//! every octave, so every 1/48-octave point of the measurement gets the same share of it; a
//! half-cycle fade at each end keeps its spectrum free of the clicks a hard start would spread
//! over the band. Written as 24-bit PCM mono WAV, which every player and DAW plays.

use std::path::Path;

use serde::Serialize;

use super::output::{OutputError, check_new_file, write_atomically};
use crate::model::units::{Range, ValueError};

/// The sweep starts an octave below the band, so the 20 Hz point is past the fade-in.
pub const START_HZ: f64 = 10.0;
/// It ends just below the Nyquist frequency (or at 40 kHz at high rates).
const STOP_FRACTION: f64 = 0.48;
const STOP_MAX_HZ: f64 = 40_000.0;
/// Silence before the sweep and after it (room for the interface's latency), seconds.
pub const LEAD_S: f64 = 0.5;
pub const TAIL_S: f64 = 1.5;
pub const RATE_HZ: Range = Range::new(44_100.0, 384_000.0);
pub const SECONDS: Range = Range::new(2.0, 120.0);
pub const LEVEL_DBFS: Range = Range::new(-40.0, -1.0);
pub const DEFAULT_RATE_HZ: u32 = 48_000;
pub const DEFAULT_SECONDS: f64 = 10.0;
pub const DEFAULT_LEVEL_DBFS: f64 = -12.0;

/// What was written.
#[derive(Debug, Clone, Serialize)]
pub struct Stimulus {
    pub sample_rate_hz: u32,
    pub start_hz: f64,
    pub stop_hz: f64,
    pub sweep_s: f64,
    pub total_s: f64,
    pub peak_dbfs: f64,
}

/// The sweep's samples, `seconds` long from [`START_HZ`] to just below Nyquist, peaking at
/// `level_dbfs`, with [`LEAD_S`] of silence before and [`TAIL_S`] after.
pub fn sweep(sample_rate_hz: u32, seconds: f64, level_dbfs: f64) -> (Vec<f64>, Stimulus) {
    let fs = f64::from(sample_rate_hz);
    let stop_hz = (STOP_FRACTION * fs).min(STOP_MAX_HZ);
    let amplitude = 10f64.powf(level_dbfs / 20.0);
    let rate = (stop_hz / START_HZ).ln() / seconds;
    let n = (seconds * fs).round() as usize;
    let lead = (LEAD_S * fs).round() as usize;
    let tail = (TAIL_S * fs).round() as usize;
    let fade_in = (fs / START_HZ / 2.0).round() as usize;
    let fade_out = (fs / 1000.0).round() as usize;
    let mut out = vec![0.0; lead + n + tail];
    for (i, s) in out[lead..lead + n].iter_mut().enumerate() {
        let t = i as f64 / fs;
        let phase = std::f64::consts::TAU * START_HZ / rate * ((rate * t).exp() - 1.0);
        let fade = if i < fade_in {
            0.5 - 0.5 * (std::f64::consts::PI * i as f64 / fade_in as f64).cos()
        } else if n - i <= fade_out {
            0.5 - 0.5 * (std::f64::consts::PI * (n - i) as f64 / fade_out as f64).cos()
        } else {
            1.0
        };
        *s = amplitude * fade * phase.sin();
    }
    let stimulus = Stimulus {
        sample_rate_hz,
        start_hz: START_HZ,
        stop_hz,
        sweep_s: seconds,
        total_s: out.len() as f64 / fs,
        peak_dbfs: level_dbfs,
    };
    (out, stimulus)
}

#[derive(Debug, thiserror::Error)]
pub enum StimulusError {
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error(transparent)]
    Output(#[from] OutputError),
}

/// Writes the sweep to `path` (a new .wav unless `force`).
pub fn write_sweep(
    path: &Path,
    force: bool,
    sample_rate_hz: u32,
    seconds: f64,
    level_dbfs: f64,
) -> Result<Stimulus, StimulusError> {
    RATE_HZ.check("--rate", f64::from(sample_rate_hz))?;
    SECONDS.check("--seconds", seconds)?;
    LEVEL_DBFS.check("--level-dbfs", level_dbfs)?;
    check_new_file(path, force, &["wav", "wave"], "24-bit PCM WAV")?;
    let (samples, stimulus) = sweep(sample_rate_hz, seconds, level_dbfs);
    let spec = hound::WavSpec {
        channels: 1,
        sample_rate: sample_rate_hz,
        bits_per_sample: 24,
        sample_format: hound::SampleFormat::Int,
    };
    let full_scale = f64::from((1 << 23) - 1);
    write_atomically(path, |partial| {
        let mut writer = hound::WavWriter::create(partial, spec).map_err(|e| e.to_string())?;
        for s in &samples {
            writer
                .write_sample((s * full_scale).round() as i32)
                .map_err(|e| e.to_string())?;
        }
        writer.finalize().map_err(|e| e.to_string())
    })?;
    Ok(stimulus)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The instantaneous frequency, from the zero crossings, follows f1·e^(t·ln(f2/f1)/T), and
    /// the peak is the level asked for.
    #[test]
    fn the_sweep_is_exponential() {
        let fs = 48_000;
        let (s, info) = sweep(fs, 4.0, -12.0);
        let lead = (LEAD_S * 48_000.0) as usize;
        let peak = s.iter().fold(0.0f64, |m, v| m.max(v.abs()));
        assert!((20.0 * peak.log10() + 12.0).abs() < 0.01, "{peak}");
        assert_eq!(info.stop_hz, 23_040.0);
        let rate = (info.stop_hz / START_HZ).ln() / 4.0;
        // Crossings in a window around t = 2 s: about f(2 s) per half-second per 2.
        let at = |t: f64| START_HZ * (rate * t).exp();
        let (from, to) = (lead + 96_000, lead + 96_000 + 480);
        let crossings = s[from..to]
            .windows(2)
            .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
            .count() as f64;
        let expected = at(2.005) * 0.01;
        assert!(
            (crossings - expected).abs() <= 1.0,
            "{crossings} vs {expected}"
        );
        assert!(s[..lead].iter().all(|&v| v == 0.0));
        assert_eq!(s.len(), lead + 4 * 48_000 + (TAIL_S * 48_000.0) as usize);
    }
}
