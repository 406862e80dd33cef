//! The audio-thread core. Nothing here allocates, locks or blocks after construction, and nothing
//! here knows the plugin framework: the plugin, the CLI and the tests drive the same [`Engine`].

pub mod ballistics;
mod gain;
pub mod k_weighting;
pub mod loudness;
pub mod meter;
pub mod overs;
pub mod true_peak;

pub use gain::{GainRamp, TRIM_RAMP_MS};
pub use meter::{Meter, MeterFrame};

/// Per-block settings the front end hands to [`Engine::process`]; plain values, read once a block.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EngineSettings {
    /// Output trim, dB.
    pub trim_db: f32,
}

impl Default for EngineSettings {
    fn default() -> Self {
        Self { trim_db: 0.0 }
    }
}

/// Everything the plugin does to one block of the monitor feed, in place.
#[derive(Debug, Clone)]
pub struct Engine {
    sample_rate_hz: f32,
    trim: GainRamp,
}

impl Engine {
    /// An engine for `sample_rate_hz`, settled at `settings` (no ramp on the first block).
    pub fn new(sample_rate_hz: f32, settings: &EngineSettings) -> Self {
        Self {
            sample_rate_hz,
            trim: GainRamp::new(sample_rate_hz, settings.trim_db),
        }
    }

    pub fn sample_rate_hz(&self) -> f32 {
        self.sample_rate_hz
    }

    /// Forget all running state and settle at `settings`: the host calls this on transport jumps
    /// and re-activation.
    pub fn reset(&mut self, settings: &EngineSettings) {
        self.trim.settle(settings.trim_db);
    }

    /// Process one block in place. `channels` holds one slice per channel, all the same length.
    pub fn process(&mut self, channels: &mut [&mut [f32]], settings: &EngineSettings) {
        self.trim.set_target_db(settings.trim_db);
        self.trim.apply(channels);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_settings_pass_every_bit_through() {
        let mut engine = Engine::new(48_000.0, &EngineSettings::default());
        let original: Vec<f32> = (0..512)
            .map(|i| ((i as f32) * 0.37).sin() * 0.9 + f32::MIN_POSITIVE * (i % 3) as f32)
            .collect();
        let mut left = original.clone();
        let mut right = original.iter().map(|x| -x).collect::<Vec<_>>();
        engine.process(&mut [&mut left, &mut right], &EngineSettings::default());
        assert!(
            left.iter()
                .zip(&original)
                .all(|(a, b)| a.to_bits() == b.to_bits())
        );
        assert!(
            right
                .iter()
                .zip(&original)
                .all(|(a, b)| a.to_bits() == (-b).to_bits())
        );
    }
}
