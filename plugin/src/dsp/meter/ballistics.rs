//! Peak-meter display ballistics: instant rise, steady fall.

use crate::dsp::level::SILENCE_DB;

/// How fast a peak bar falls, dB per second (IEC 60268-10 Type I programme meters fall 20 dB in
/// 1.7 s, about 11.8 dB/s).
pub const PEAK_FALL_DB_PER_S: f32 = 11.8;

/// A displayed peak level with instant rise and a fall of [`PEAK_FALL_DB_PER_S`].
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PeakBallistics {
    level_db: f32,
}

impl Default for PeakBallistics {
    fn default() -> Self {
        Self {
            level_db: SILENCE_DB,
        }
    }
}

impl PeakBallistics {
    /// Take the peak of a block that lasted `block_s` seconds.
    pub fn update(&mut self, block_peak_db: f32, block_s: f32) {
        let fallen = (self.level_db - PEAK_FALL_DB_PER_S * block_s).max(SILENCE_DB);
        self.level_db = block_peak_db.max(fallen);
    }

    pub fn level_db(&self) -> f32 {
        self.level_db
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    mod update {
        use super::*;

        #[test]
        fn rises_at_once() {
            let mut b = PeakBallistics::default();
            b.update(-3.0, 0.001);
            assert_eq!(b.level_db(), -3.0);
        }

        #[test]
        fn falls_at_the_documented_rate() {
            let mut b = PeakBallistics::default();
            b.update(0.0, 0.01);
            for _ in 0..100 {
                b.update(-100.0, 0.01); // one second of quieter blocks
            }
            assert!(
                (b.level_db() + PEAK_FALL_DB_PER_S).abs() < 1e-3,
                "{}",
                b.level_db()
            );
        }
    }
}
