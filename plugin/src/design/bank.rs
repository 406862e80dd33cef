//! The fixed-pole parallel filter's design-side types: the pole set of a sample rate and the
//! output weights of one design. Both are plain `Copy` values: the designers make them off the
//! audio thread and hand them to `dsp::bank`, which runs them.

/// Second-order sections (pole pairs) in the bank.
pub const SECTIONS: usize = 24;
/// Taps of the FIR part in parallel with the sections.
pub const FIR_TAPS: usize = 3;
/// The lowest pole frequency, Hz.
pub const LOWEST_POLE_HZ: f64 = 20.0;
/// The highest pole frequency: `min(HIGHEST_POLE_FRACTION · fs/2, HIGHEST_POLE_HZ)`.
pub const HIGHEST_POLE_HZ: f64 = 30_000.0;
pub const HIGHEST_POLE_FRACTION: f64 = 0.95;

/// Denominators `1 + a1 z⁻¹ + a2 z⁻²` of the sections at one sample rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PoleSet {
    pub a1: [f64; SECTIONS],
    pub a2: [f64; SECTIONS],
}

impl PoleSet {
    /// Pole angles log-spaced from 20 Hz to `min(0.95·fs/2, 30 kHz)`; radius `e^(−Δθ)` with Δθ the
    /// local spacing of the angles. Bank's own choice, `e^(−Δθ/2)`, stalls near 0.1 dB on smooth
    /// targets whatever the section count; twice the bandwidth converges (docs/audition.md).
    pub fn new(sample_rate_hz: f64) -> Self {
        let theta = Self::angles(sample_rate_hz);
        let mut a1 = [0.0; SECTIONS];
        let mut a2 = [0.0; SECTIONS];
        for k in 0..SECTIONS {
            let below = if k == 0 {
                theta[1] - theta[0]
            } else {
                theta[k] - theta[k - 1]
            };
            let above = if k + 1 == SECTIONS {
                theta[k] - theta[k - 1]
            } else {
                theta[k + 1] - theta[k]
            };
            let r = (-(below + above) / 2.0).exp();
            a1[k] = -2.0 * r * theta[k].cos();
            a2[k] = r * r;
        }
        Self { a1, a2 }
    }

    /// The pole angles, rad/sample.
    pub fn angles(sample_rate_hz: f64) -> [f64; SECTIONS] {
        let top_hz = (HIGHEST_POLE_FRACTION * sample_rate_hz / 2.0).min(HIGHEST_POLE_HZ);
        let ratio = top_hz / LOWEST_POLE_HZ;
        std::array::from_fn(|k| {
            let hz = LOWEST_POLE_HZ * ratio.powf(k as f64 / (SECTIONS - 1) as f64);
            std::f64::consts::TAU * hz / sample_rate_hz
        })
    }
}

/// The weights of one design: everything that differs between two designs at one rate.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Coefficients {
    /// Numerators `b0 + b1 z⁻¹` of the sections.
    pub b0: [f64; SECTIONS],
    pub b1: [f64; SECTIONS],
    /// The FIR part, `c0 + c1 z⁻¹ + c2 z⁻²`.
    pub fir: [f64; FIR_TAPS],
    /// The DC section `(1 − q z⁻¹)/(1 − p z⁻¹)`: its zero `q` and pole `p` (both 0: no section).
    pub dc_zero: f64,
    pub dc_pole: f64,
}

impl Coefficients {
    /// The filter that passes everything unchanged.
    pub const IDENTITY: Self = Self {
        b0: [0.0; SECTIONS],
        b1: [0.0; SECTIONS],
        fir: [1.0, 0.0, 0.0],
        dc_zero: 0.0,
        dc_pole: 0.0,
    };

    /// `self + t·(other − self)`, coefficient by coefficient.
    pub fn lerp(&self, other: &Self, t: f64) -> Self {
        let mix = |a: f64, b: f64| a + t * (b - a);
        Self {
            b0: std::array::from_fn(|k| mix(self.b0[k], other.b0[k])),
            b1: std::array::from_fn(|k| mix(self.b1[k], other.b1[k])),
            fir: std::array::from_fn(|k| mix(self.fir[k], other.fir[k])),
            dc_zero: mix(self.dc_zero, other.dc_zero),
            dc_pole: mix(self.dc_pole, other.dc_pole),
        }
    }

    /// The response of these weights on `poles` at `hz` (for design checks and plots).
    pub fn response(&self, poles: &PoleSet, hz: f64, sample_rate_hz: f64) -> [f64; 2] {
        use realfft::num_complex::Complex64;
        let w = std::f64::consts::TAU * hz / sample_rate_hz;
        let z1 = Complex64::from_polar(1.0, -w);
        let z2 = z1 * z1;
        let mut h = self.fir[0] + self.fir[1] * z1 + self.fir[2] * z2;
        for k in 0..SECTIONS {
            h += (self.b0[k] + self.b1[k] * z1) / (1.0 + poles.a1[k] * z1 + poles.a2[k] * z2);
        }
        h *= (1.0 - self.dc_zero * z1) / (1.0 - self.dc_pole * z1);
        [h.re, h.im]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every pole inside the unit circle, angles rising from 20 Hz to the top.
    #[test]
    fn stable_and_ordered() {
        for fs in [22_050.0, 44_100.0, 48_000.0, 96_000.0, 192_000.0, 384_000.0] {
            let poles = PoleSet::new(fs);
            let angles = PoleSet::angles(fs);
            assert!((angles[0] - std::f64::consts::TAU * 20.0 / fs).abs() < 1e-15);
            let top = (0.95 * fs / 2.0).min(30_000.0);
            assert!((angles[SECTIONS - 1] - std::f64::consts::TAU * top / fs).abs() < 1e-12);
            assert!(angles.windows(2).all(|w| w[1] > w[0]));
            assert!(poles.a2.iter().all(|&r2| r2 > 0.0 && r2 < 1.0));
        }
    }
}
