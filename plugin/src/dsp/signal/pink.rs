//! The calibration noise: periodic pink noise at −20 dBFS RMS (AES17: a full-scale sine is
//! 0 dBFS RMS, so the samples' RMS is 0.1/√2), full band (20 Hz–20 kHz) or 500 Hz–2 kHz.
//!
//! Each band is one period of 2^16 samples made at construction by an inverse FFT of a spectrum
//! with magnitude ∝ 1/√f inside the band, zero outside, and random phases: its power density
//! falls exactly 3.01 dB per octave, its RMS over the period is exact, and the period loops
//! seamlessly. When on, it replaces the feed (the same noise in every channel); switching glides
//! over 10 ms. Nothing allocates after construction.

use realfft::RealFftPlanner;
use realfft::num_complex::Complex32;

use super::takeover::Takeover;
use crate::model::spl::PinkBand;

/// Samples in one period of the noise.
pub const PERIOD: usize = 1 << 16;
/// The noise's RMS level, dBFS (AES17).
pub const LEVEL_DBFS: f64 = -20.0;
/// How long switching the noise on, off or to the other band takes, milliseconds.
const FADE_MS: f64 = 10.0;

/// A deterministic 64-bit generator (SplitMix64): the same noise in every session.
struct SplitMix(u64);

impl SplitMix {
    fn next_unit(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// One period of band-limited pink noise at `sample_rate_hz`, at [`LEVEL_DBFS`].
pub fn pink_period(band: PinkBand, sample_rate_hz: f64, seed: u64) -> Vec<f32> {
    let (lo, hi) = band.edges_hz();
    let fft = RealFftPlanner::<f32>::new().plan_fft_inverse(PERIOD);
    let mut spectrum = fft.make_input_vec();
    let mut rng = SplitMix(seed);
    let bin_hz = sample_rate_hz / PERIOD as f64;
    for (k, bin) in spectrum.iter_mut().enumerate() {
        let hz = k as f64 * bin_hz;
        let phase = std::f64::consts::TAU * rng.next_unit();
        *bin = if k > 0 && k < PERIOD / 2 && hz >= lo && hz <= hi.min(0.5 * sample_rate_hz) {
            let m = 1.0 / hz.sqrt();
            Complex32::new((m * phase.cos()) as f32, (m * phase.sin()) as f32)
        } else {
            Complex32::new(0.0, 0.0)
        };
    }
    let mut period = fft.make_output_vec();
    fft.process(&mut spectrum, &mut period)
        .expect("the buffers come from the plan");
    let rms = (period.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / PERIOD as f64).sqrt();
    let wanted = 10f64.powf(LEVEL_DBFS / 20.0) / std::f64::consts::SQRT_2;
    let gain = if rms > 0.0 { wanted / rms } else { 0.0 };
    period
        .iter()
        .map(|&x| (f64::from(x) * gain) as f32)
        .collect()
}

/// The generator on the audio thread.
pub struct PinkNoise {
    full: Box<[f32]>,
    mid: Box<[f32]>,
    position: usize,
    /// The band playing (or fading), and how far the noise has replaced the feed.
    switch: Takeover<PinkBand>,
}

impl PinkNoise {
    /// Makes both periods (allocates: at construction, never on the audio thread).
    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            full: pink_period(PinkBand::Full, sample_rate_hz, 1).into_boxed_slice(),
            mid: pink_period(PinkBand::Mid, sample_rate_hz, 2).into_boxed_slice(),
            position: 0,
            switch: Takeover::new(sample_rate_hz, FADE_MS),
        }
    }

    /// Whether the noise is sounding (fully or fading).
    pub fn is_sounding(&self) -> bool {
        self.switch.is_sounding()
    }

    /// Off at once (a new stream).
    pub fn silence(&mut self) {
        self.switch.silence();
    }

    /// Replace the feed with the noise of `wanted` (`None`: the feed), gliding on changes.
    pub fn process(&mut self, channels: &mut [&mut [f32]], wanted: Option<PinkBand>) {
        if self.switch.idle(wanted) {
            return;
        }
        let len = channels.first().map_or(0, |c| c.len());
        for i in 0..len {
            let noise = match self.switch.advance(wanted).0 {
                Some(PinkBand::Full) => self.full[self.position],
                Some(PinkBand::Mid) => self.mid[self.position],
                None => 0.0,
            };
            self.position = (self.position + 1) % PERIOD;
            for channel in channels.iter_mut() {
                channel[i] = self.switch.blend(channel[i], noise);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The period's RMS is −20 dBFS (AES17) to rounding, in both bands at common rates.
    #[test]
    fn level() {
        for fs in [44_100.0, 48_000.0, 96_000.0] {
            for band in [PinkBand::Full, PinkBand::Mid] {
                let p = pink_period(band, fs, 7);
                let rms =
                    (p.iter().map(|&x| f64::from(x).powi(2)).sum::<f64>() / p.len() as f64).sqrt();
                let dbfs = 20.0 * (rms * std::f64::consts::SQRT_2).log10();
                assert!((dbfs - LEVEL_DBFS).abs() < 1e-3, "{band:?} at {fs}: {dbfs}");
            }
        }
    }

    /// Off means the feed, bit for bit; on, after the fade, the noise replaces the feed exactly.
    #[test]
    fn replaces_the_feed() {
        let mut g = PinkNoise::new(48_000.0);
        let mut block = vec![0.3f32; 64];
        g.process(&mut [&mut block], None);
        assert!(block.iter().all(|&x| x == 0.3));
        let mut long = vec![0.3f32; 4800];
        g.process(&mut [&mut long], Some(PinkBand::Full));
        let tail = &long[480..];
        assert!(
            tail.iter()
                .zip(&g.full[480..4800])
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert!(g.is_sounding());
    }
}
