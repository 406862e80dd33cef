//! A click-free gain stage: changes of the target glide geometrically (linear in dB) over a fixed
//! time, and a settled gain of exactly 1 leaves the signal untouched bit for bit.

use crate::dsp::level::db_to_amplitude;

/// How long a change of the trim takes to complete, milliseconds.
pub const TRIM_RAMP_MS: f32 = 20.0;

/// Gain with a dB-linear ramp towards its target.
#[derive(Debug, Clone)]
pub struct GainRamp {
    ramp_samples: u32,
    target_db: f32,
    target_gain: f32,
    /// Gain applied to the next sample.
    gain: f32,
    /// Per-sample multiplier while ramping.
    step: f32,
    samples_left: u32,
}

impl GainRamp {
    pub fn new(sample_rate_hz: f32, db: f32) -> Self {
        let ramp_samples = ((TRIM_RAMP_MS / 1000.0) * sample_rate_hz).round().max(1.0) as u32;
        let gain = db_to_amplitude(db);
        Self {
            ramp_samples,
            target_db: db,
            target_gain: gain,
            gain,
            step: 1.0,
            samples_left: 0,
        }
    }

    /// Jump to `db` at once.
    pub fn settle(&mut self, db: f32) {
        self.target_db = db;
        self.target_gain = db_to_amplitude(db);
        self.gain = self.target_gain;
        self.step = 1.0;
        self.samples_left = 0;
    }

    /// Start gliding to `db` from wherever the gain is now. Cheap when `db` has not changed.
    pub fn set_target_db(&mut self, db: f32) {
        if db == self.target_db {
            return;
        }
        self.target_db = db;
        self.target_gain = db_to_amplitude(db);
        self.samples_left = self.ramp_samples;
        // Geometric steps: equal dB per sample, so the ramp sounds even at any level.
        self.step = (self.target_gain / self.gain).powf(1.0 / self.ramp_samples as f32);
    }

    /// The gain the next sample gets.
    pub fn current_gain(&self) -> f32 {
        self.gain
    }

    pub fn is_ramping(&self) -> bool {
        self.samples_left > 0
    }

    /// Multiply every channel by the (ramping) gain. All channels get the same gain per sample.
    pub fn apply(&mut self, channels: &mut [&mut [f32]]) {
        let len = channels.first().map_or(0, |c| c.len());
        let mut start = 0;
        if self.samples_left > 0 {
            let ramp_len = (self.samples_left as usize).min(len);
            for i in 0..ramp_len {
                for channel in channels.iter_mut() {
                    channel[i] *= self.gain;
                }
                self.gain *= self.step;
            }
            self.samples_left -= ramp_len as u32;
            if self.samples_left == 0 {
                // Land exactly on the target, free of accumulated rounding.
                self.gain = self.target_gain;
            }
            start = ramp_len;
        }
        if self.gain != 1.0 {
            for channel in channels.iter_mut() {
                for x in &mut channel[start..] {
                    *x *= self.gain;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod apply {
        use super::*;

        fn run(ramp: &mut GainRamp, len: usize) -> Vec<f32> {
            let mut ones = vec![1.0f32; len];
            ramp.apply(&mut [&mut ones]);
            ones
        }

        #[test]
        fn ramp_is_monotonic_and_lands_on_target() {
            let mut ramp = GainRamp::new(48_000.0, 0.0);
            ramp.set_target_db(-6.0);
            let out = run(&mut ramp, 2_000);
            let ramp_len = (48_000.0 * TRIM_RAMP_MS / 1000.0) as usize;
            assert_eq!(out[0], 1.0, "the first sample still has the old gain");
            assert!(out.windows(2).all(|w| w[1] <= w[0]));
            assert!(out[ramp_len..].iter().all(|&g| g == db_to_amplitude(-6.0)));
            assert!(!ramp.is_ramping());
        }

        #[test]
        fn ramp_steps_are_equal_in_db() {
            let mut ramp = GainRamp::new(1_000.0, 0.0);
            ramp.set_target_db(-20.0);
            let out = run(&mut ramp, 20);
            // 20 samples of ramp at 1 kHz: -1 dB per sample.
            for (i, g) in out.iter().enumerate() {
                let expected_db = -(i as f32);
                assert!(
                    (20.0 * g.log10() - expected_db).abs() < 1e-3,
                    "sample {i}: {g}"
                );
            }
        }

        #[test]
        fn ramp_spans_blocks() {
            let mut split = GainRamp::new(48_000.0, 0.0);
            let mut whole = split.clone();
            split.set_target_db(6.0);
            whole.set_target_db(6.0);
            let mut a = run(&mut split, 300);
            a.extend(run(&mut split, 1_000));
            let b = run(&mut whole, 1_300);
            for (x, y) in a.iter().zip(&b) {
                assert!((x - y).abs() <= 1e-6 * y.abs());
            }
        }
    }
}
