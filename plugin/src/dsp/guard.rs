//! The feed's gatekeeper: what comes in is made safe before anything touches it, and what goes
//! out is never subnormal or infinite. NaN and ±infinity become silence and are counted, with where the last
//! one was, so the editor can say so; subnormals (below −758 dBFS, and slow on some processors)
//! become zero on the way in and on the way out. Finite normal samples pass untouched, bit for
//! bit.

/// What the guard saw since the last reset, for the editor.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct InputHealth {
    /// Non-finite input samples (NaN, ±∞) replaced by silence, counting every channel.
    pub non_finite_samples: u64,
    /// Seconds of audio processed since the instance started, at the end of the last block.
    pub clock_s: f64,
    /// The clock at the last non-finite sample (NaN: none yet).
    pub last_at_s: f64,
    /// The host's timeline position of the last non-finite sample, seconds (NaN: none, or the
    /// transport was not known).
    pub last_timeline_s: f64,
}

impl Default for InputHealth {
    fn default() -> Self {
        Self {
            non_finite_samples: 0,
            clock_s: 0.0,
            last_at_s: f64::NAN,
            last_timeline_s: f64::NAN,
        }
    }
}

impl InputHealth {
    /// Seconds since the last non-finite sample, if there was one.
    pub fn seconds_since_last(&self) -> Option<f64> {
        self.last_at_s
            .is_finite()
            .then(|| (self.clock_s - self.last_at_s).max(0.0))
    }
}

/// Counts and places the non-finite samples it replaces.
#[derive(Debug, Clone)]
pub struct InputGuard {
    sample_rate_hz: f64,
    /// Samples per channel processed since construction.
    position: u64,
    health: InputHealth,
}

impl InputGuard {
    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            sample_rate_hz,
            position: 0,
            health: InputHealth::default(),
        }
    }

    /// Forget the count and the last place (the user's "reset all").
    pub fn reset(&mut self) {
        self.health = InputHealth {
            clock_s: self.health.clock_s,
            ..InputHealth::default()
        };
    }

    pub fn health(&self) -> InputHealth {
        self.health
    }

    /// Clean one block of input in place. `timeline_s` is the host's playhead at the block's
    /// first sample, when it is known.
    pub fn clean_input(&mut self, channels: &mut [&mut [f32]], timeline_s: Option<f64>) {
        let len = channels.first().map_or(0, |c| c.len());
        let mut last = None;
        for channel in channels.iter_mut() {
            for (i, x) in channel.iter_mut().enumerate() {
                if !x.is_finite() {
                    *x = 0.0;
                    self.health.non_finite_samples += 1;
                    last = last.max(Some(i));
                } else if x.is_subnormal() {
                    *x = 0.0;
                }
            }
        }
        if let Some(i) = last {
            let offset_s = i as f64 / self.sample_rate_hz;
            self.health.last_at_s = (self.position + i as u64) as f64 / self.sample_rate_hz;
            self.health.last_timeline_s = timeline_s.map_or(f64::NAN, |t| t + offset_s);
        }
        self.position += len as u64;
        self.health.clock_s = self.position as f64 / self.sample_rate_hz;
    }
}

/// The last pass over a processed block: subnormals become zero (a filter's decaying tail or a
/// small gain can make them where no flush-to-zero mode is set, as in the CLI), and so does a
/// sample that overflowed to infinity (a gain above 0 dB on an input near `f32::MAX`). Every
/// other sample, ±0 included, keeps its bits.
pub fn clean_output(channels: &mut [&mut [f32]]) {
    const EXPONENT: u32 = 0x7f80_0000;
    for x in channels.iter_mut().flat_map(|c| c.iter_mut()) {
        let bits = x.to_bits();
        let exponent = bits & EXPONENT;
        let subnormal = exponent == 0 && bits << 1 != 0;
        if subnormal || exponent == EXPONENT {
            *x = 0.0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_places_the_last_bad_sample() {
        let mut guard = InputGuard::new(1000.0);
        let mut left = vec![0.5f32; 100];
        let mut right = vec![0.5f32; 100];
        guard.clean_input(&mut [&mut left, &mut right], Some(10.0));
        assert_eq!(guard.health().non_finite_samples, 0);
        assert!(guard.health().seconds_since_last().is_none());
        left[7] = f32::NAN;
        right[42] = f32::NEG_INFINITY;
        right[3] = f32::INFINITY;
        guard.clean_input(&mut [&mut left, &mut right], Some(20.0));
        let health = guard.health();
        assert_eq!(health.non_finite_samples, 3);
        assert_eq!(health.last_at_s, 0.142);
        assert!((health.last_timeline_s - 20.042).abs() < 1e-12);
        assert_eq!(health.clock_s, 0.2);
        assert!((health.seconds_since_last().unwrap() - 0.058).abs() < 1e-12);
        assert_eq!(left[7], 0.0);
        assert_eq!(right[42], 0.0);
        // Without a transport, the place in the timeline is unknown.
        left[0] = f32::NAN;
        guard.clean_input(&mut [&mut left, &mut right], None);
        assert_eq!(guard.health().non_finite_samples, 4);
        assert_eq!(guard.health().last_at_s, 0.2);
        assert!(guard.health().last_timeline_s.is_nan());
        guard.reset();
        assert_eq!(guard.health().non_finite_samples, 0);
        assert_eq!(guard.health().clock_s, 0.3);
        assert!(guard.health().seconds_since_last().is_none());
    }

    #[test]
    fn subnormals_and_overflow_become_zero_and_normals_stay() {
        let tiny = f32::from_bits(1);
        let mut block = vec![
            tiny,
            -tiny,
            f32::MIN_POSITIVE,
            -0.0,
            1e30,
            -1e-30,
            f32::INFINITY,
            f32::NAN,
            f32::MAX,
        ];
        clean_output(&mut [&mut block]);
        assert_eq!(block[0].to_bits(), 0);
        assert_eq!(block[1], 0.0);
        assert_eq!(block[2], f32::MIN_POSITIVE);
        assert_eq!(block[3].to_bits(), (-0.0f32).to_bits());
        assert_eq!(block[4], 1e30);
        assert_eq!(block[5], -1e-30);
        assert_eq!(block[6], 0.0);
        assert_eq!(block[7], 0.0);
        assert_eq!(block[8], f32::MAX);
    }
}
