//! The calibration tone (docs/spl.md, "Calibrating the level"): a sine at the chosen frequency
//! and level in every channel, in place of what the plugin sends, so a multimeter at the source's
//! jack reads `10^(L/20)` of its full-scale EMF (AES17: a full-scale sine peaks at 0 dBFS, so a
//! tone at −20 dBFS peaks at 0.1 and its RMS reads −20 dBFS). It replaces the output after the
//! audition and the trim, which would otherwise change its level; switching it on, off or to
//! other values glides over 10 ms. The phase is kept in f64 cycles, so the frequency is exact for
//! hours. Nothing allocates.

use super::takeover::Takeover;
use crate::model::calibration::{TONE_DBFS, TONE_HZ};

/// How long switching takes, milliseconds.
const FADE_MS: f64 = 10.0;

/// The tone asked for.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ToneSettings {
    pub hz: f64,
    pub dbfs: f64,
}

impl ToneSettings {
    /// The values within their ranges (a value out of range is brought to the nearest end).
    pub fn clamped(self) -> Self {
        Self {
            hz: self.hz.clamp(TONE_HZ.min, TONE_HZ.max),
            dbfs: self.dbfs.clamp(TONE_DBFS.min, TONE_DBFS.max),
        }
    }
}

/// The tone on the audio thread.
#[derive(Debug, Clone)]
pub struct Tone {
    sample_rate_hz: f64,
    /// Position in the cycle, 0 … 1, and the peak of what plays.
    phase: f64,
    amplitude: f64,
    /// What plays (or fades), and how far it has replaced the output.
    switch: Takeover<ToneSettings>,
}

impl Tone {
    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            sample_rate_hz,
            phase: 0.0,
            amplitude: 0.0,
            switch: Takeover::new(sample_rate_hz, FADE_MS),
        }
    }

    /// Whether the tone is sounding (fully or fading).
    pub fn is_sounding(&self) -> bool {
        self.switch.is_sounding()
    }

    /// Off at once (a new stream).
    pub fn silence(&mut self) {
        self.switch.silence();
    }

    /// Replace the output with the tone `wanted` (`None`: leave it), gliding on changes.
    pub fn process(&mut self, channels: &mut [&mut [f32]], wanted: Option<ToneSettings>) {
        let wanted = wanted.map(ToneSettings::clamped);
        if self.switch.idle(wanted) {
            return;
        }
        let len = channels.first().map_or(0, |c| c.len());
        for i in 0..len {
            let value = match self.switch.advance(wanted) {
                (Some(t), started) => {
                    if started {
                        self.phase = 0.0;
                        self.amplitude = 10f64.powf(t.dbfs / 20.0);
                    }
                    let v = self.amplitude * (std::f64::consts::TAU * self.phase).sin();
                    self.phase += t.hz / self.sample_rate_hz;
                    self.phase -= self.phase.floor();
                    v as f32
                }
                (None, _) => 0.0,
            };
            for channel in channels.iter_mut() {
                channel[i] = self.switch.blend(channel[i], value);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// After the fade the output is the tone: its RMS is the level asked for (−20 dBFS reads
    /// −20 dBFS, AES17) and its zero crossings are at the frequency asked for.
    #[test]
    fn level_and_frequency() {
        for (fs, hz, dbfs) in [
            (48_000.0, 400.0, -20.0),
            (44_100.0, 60.0, -6.0),
            (96_000.0, 1000.0, -45.0),
        ] {
            let mut tone = Tone::new(fs);
            let n = fs as usize * 2;
            let mut out = vec![0.25f32; n];
            tone.process(&mut [&mut out], Some(ToneSettings { hz, dbfs }));
            let steady = &out[fs as usize / 10..fs as usize / 10 + fs as usize];
            let rms = (steady.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>()
                / steady.len() as f64)
                .sqrt();
            let read = 20.0 * (rms * std::f64::consts::SQRT_2).log10();
            assert!((read - dbfs).abs() < 1e-3, "{fs} {hz}: {read}");
            let rising = steady
                .windows(2)
                .filter(|w| w[0] < 0.0 && w[1] >= 0.0)
                .count();
            assert!((rising as f64 - hz).abs() <= 1.0, "{fs} {hz}: {rising}");
        }
    }

    /// Off, the output passes bit for bit; switching glides (no step larger than the fade's).
    #[test]
    fn off_passes_and_switching_glides() {
        let mut tone = Tone::new(48_000.0);
        let mut block = vec![0.3f32; 64];
        tone.process(&mut [&mut block], None);
        assert!(block.iter().all(|&x| x == 0.3));
        let mut on = vec![0.0f32; 4800];
        tone.process(
            &mut [&mut on],
            Some(ToneSettings {
                hz: 400.0,
                dbfs: 0.0,
            }),
        );
        let largest_step = on
            .windows(2)
            .map(|w| (w[1] - w[0]).abs())
            .fold(0.0f32, f32::max);
        // A 0 dBFS 400 Hz sine moves at most 2π·400/48000 ≈ 0.052 per sample.
        assert!(largest_step < 0.06, "{largest_step}");
        assert!(tone.is_sounding());
        let mut off = vec![0.0f32; 4800];
        tone.process(&mut [&mut off], None);
        assert!(!tone.is_sounding());
        assert!(off[480..].iter().all(|&x| x == 0.0));
    }
}
