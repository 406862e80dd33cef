//! A generator's switch: the calibration noise and the calibration tone each replace the signal
//! with their own, gliding in, out and between settings over a fade, one sample at a time.
//! Nothing allocates.

/// What plays (or fades) and how far it has replaced the signal (0 … 1).
#[derive(Debug, Clone)]
pub struct Takeover<T> {
    playing: Option<T>,
    mix: f32,
    step: f32,
}

impl<T: Copy + PartialEq> Takeover<T> {
    /// A switch whose changes take `fade_ms` at `sample_rate_hz`.
    pub fn new(sample_rate_hz: f64, fade_ms: f64) -> Self {
        Self {
            playing: None,
            mix: 0.0,
            step: (1.0 / (fade_ms / 1000.0 * sample_rate_hz)).min(1.0) as f32,
        }
    }

    /// Whether the generator is sounding (fully or fading).
    pub fn is_sounding(&self) -> bool {
        self.mix > 0.0
    }

    /// Off at once (a new stream).
    pub fn silence(&mut self) {
        self.playing = None;
        self.mix = 0.0;
    }

    /// True when nothing is wanted and nothing sounds: the signal passes untouched.
    pub fn idle(&mut self, wanted: Option<T>) -> bool {
        if wanted.is_none() && self.mix == 0.0 {
            self.playing = None;
            return true;
        }
        false
    }

    /// One sample toward `wanted`: what plays now, and whether it has just taken over (fade out
    /// what plays that is not wanted; once silent, take the wanted one; fade it in).
    pub fn advance(&mut self, wanted: Option<T>) -> (Option<T>, bool) {
        let mut started = false;
        if self.playing != wanted {
            if self.mix > 0.0 {
                self.mix = (self.mix - self.step).max(0.0);
            } else {
                self.playing = wanted;
                started = true;
            }
        } else if self.playing.is_some() && self.mix < 1.0 {
            self.mix = (self.mix + self.step).min(1.0);
        }
        (self.playing, started)
    }

    /// `x` replaced by `value` as far as the switch has gone (exactly `value` once it has).
    pub fn blend(&self, x: f32, value: f32) -> f32 {
        if self.mix == 1.0 {
            value
        } else {
            x + self.mix * (value - x)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// On, the switch fades in over its length; a change fades out first, then in; off, idle.
    #[test]
    fn fades_out_then_in() {
        let mut t = Takeover::<u8>::new(1000.0, 4.0);
        assert!(t.idle(None));
        let (playing, started) = t.advance(Some(1));
        assert_eq!((playing, started), (Some(1), true));
        for _ in 0..4 {
            t.advance(Some(1));
        }
        assert_eq!(t.blend(0.5, 2.0), 2.0);
        // To another: out over four samples, then the new one starts.
        let mut seen = Vec::new();
        for _ in 0..6 {
            seen.push(t.advance(Some(2)));
        }
        assert_eq!(seen[3], (Some(1), false));
        assert_eq!(seen[4], (Some(2), true));
        t.silence();
        assert!(!t.is_sounding() && t.idle(None));
    }
}
