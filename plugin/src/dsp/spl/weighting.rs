//! A- and C-frequency-weighting filters (IEC 61672-1:2013 Annex E) for sound-pressure signals.
//!
//! The analogue weightings (poles at 20.6 Hz twice, 107.7 Hz, 737.9 Hz and 12.2 kHz twice; four
//! or two zeros at DC) are mapped to the sampled domain section by section and normalised to
//! exactly 0 dB at 1 kHz. The high-pass poles go through the bilinear transform, each pre-warped
//! to its own frequency. The 12.2 kHz double pole, a low-pass close enough to Nyquist that the
//! bilinear transform's zeros there pull the top octaves down (and, once normalised at 1 kHz,
//! everything above it up: +0.55 dB at 6 kHz at 48 kHz), is a magnitude-matched section instead
//! (M. Vicanek, "Matched Second Order Digital Filters", 2016: its poles by impulse invariance, its
//! numerator matching the analogue magnitude at DC, at 12.2 kHz and at Nyquist). Against the
//! closed form of Annex E: within 0.04 dB to 10 kHz and 0.3 dB to 16 kHz at 44.1 kHz, and closer
//! at every higher rate (the tests hold it to 0.1 and 0.5 dB). Runs on the audio thread: no
//! allocation, f64 state.

use std::f64::consts::PI;

/// Pole frequencies of IEC 61672-1 Annex E, shared with the closed form.
use crate::model::weighting::{F1_HZ, F2_HZ, F3_HZ, F4_HZ};

/// Poles below this fraction of the sample rate are pre-warped to their own frequency.
const PREWARP_LIMIT: f64 = 0.45;

/// Which weighting.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Curve {
    A,
    C,
}

/// One second-order section, transposed direct form II.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Biquad {
    b: [f64; 3],
    a: [f64; 2],
    s: [f64; 2],
}

impl Biquad {
    /// `num(z)/den(z)` from two first-order numerator factors `(n0 + n1·z⁻¹)` and two
    /// denominator factors `(d0 − d1·z⁻¹)`.
    fn from_factors(num: [[f64; 2]; 2], den: [[f64; 2]; 2]) -> Self {
        let mul = |p: [f64; 2], q: [f64; 2]| [p[0] * q[0], p[0] * q[1] + p[1] * q[0], p[1] * q[1]];
        let b = mul(num[0], num[1]);
        let a = mul(den[0], den[1]);
        Self {
            b: [b[0] / a[0], b[1] / a[0], b[2] / a[0]],
            a: [a[1] / a[0], a[2] / a[0]],
            s: [0.0; 2],
        }
    }

    /// The analogue double pole 1/(1 + s/ω0)² (a low-pass of Q = ½) matched in magnitude:
    /// poles at e^(−ω0·T), twice (impulse invariance, critically damped), and a first-order
    /// numerator for which |H| equals the analogue's at DC (1), at ω0 (½) and at Nyquist. `w0` is
    /// ω0·T, below π.
    fn matched_double_pole(w0: f64) -> Self {
        let q = 0.5;
        let a1 = -2.0 * (-w0).exp();
        let a2 = (-2.0 * w0).exp();
        let a0_sq = (1.0 + a1 + a2).powi(2);
        let a1_sq = (1.0 - a1 + a2).powi(2);
        let a2_term = -4.0 * a2;
        let phi1 = (w0 / 2.0).sin().powi(2);
        let phi0 = 1.0 - phi1;
        let phi2 = 4.0 * phi0 * phi1;
        let r1 = (a0_sq * phi0 + a1_sq * phi1 + a2_term * phi2) * q * q;
        let b1_sq = (r1 - a0_sq * phi0) / phi1;
        let b0 = 0.5 * (a0_sq.sqrt() + b1_sq.max(0.0).sqrt());
        let b1 = a0_sq.sqrt() - b0;
        Self {
            b: [b0, b1, 0.0],
            a: [a1, a2],
            s: [0.0; 2],
        }
    }

    #[inline]
    fn tick(&mut self, x: f64) -> f64 {
        let y = self.b[0] * x + self.s[0];
        self.s[0] = self.b[1] * x - self.a[0] * y + self.s[1];
        self.s[1] = self.b[2] * x - self.a[1] * y;
        y
    }

    /// Response at normalised angular frequency `w` (rad/sample): (re, im).
    fn response(&self, w: f64) -> (f64, f64) {
        let z1 = (w.cos(), -w.sin());
        let z2 = ((2.0 * w).cos(), -(2.0 * w).sin());
        let num = (
            self.b[0] + self.b[1] * z1.0 + self.b[2] * z2.0,
            self.b[1] * z1.1 + self.b[2] * z2.1,
        );
        let den = (
            1.0 + self.a[0] * z1.0 + self.a[1] * z2.0,
            self.a[0] * z1.1 + self.a[1] * z2.1,
        );
        let d = den.0 * den.0 + den.1 * den.1;
        (
            (num.0 * den.0 + num.1 * den.1) / d,
            (num.1 * den.0 - num.0 * den.1) / d,
        )
    }
}

/// A frequency-weighting filter for one channel.
#[derive(Debug, Clone, PartialEq)]
pub struct Weighting {
    sections: [Biquad; 3],
    count: usize,
    gain: f64,
}

impl Weighting {
    pub fn new(curve: Curve, sample_rate_hz: f64) -> Self {
        let k = 2.0 * sample_rate_hz;
        // A pole at −ω, pre-warped to its own frequency, after the bilinear transform
        // s = k·(1 − z⁻¹)/(1 + z⁻¹): 1/(s + ω) ∝ (1 + z⁻¹)/((k + ω) − (k − ω)·z⁻¹).
        // A pole at or above Nyquist cannot be pre-warped (the tangent turns negative and the
        // pole leaves the unit circle: 12.2 kHz at 22.05 kHz): above `PREWARP_LIMIT`·fs it is
        // mapped plainly, which the bilinear transform keeps stable at any rate.
        let pole = |hz: f64| {
            let w = if hz < PREWARP_LIMIT * sample_rate_hz {
                k * (PI * hz / sample_rate_hz).tan()
            } else {
                2.0 * PI * hz
            };
            [k + w, -(k - w)]
        };
        let dc_zero = [1.0, -1.0];
        let nyquist_zero = [1.0, 1.0];
        // The 12.2 kHz double pole: matched in magnitude where it lies well below Nyquist, else
        // (at 27 kHz and below, where the top octave is past Nyquist anyway) the plain transform.
        let top = if F4_HZ < PREWARP_LIMIT * sample_rate_hz {
            Biquad::matched_double_pole(2.0 * PI * F4_HZ / sample_rate_hz)
        } else {
            Biquad::from_factors([nyquist_zero, nyquist_zero], [pole(F4_HZ), pole(F4_HZ)])
        };
        let (sections, count) = match curve {
            // s⁴ / ((s+ω1)²(s+ω2)(s+ω3)(s+ω4)²): four zeros at DC and four poles through the
            // transform, the double pole ω4 matched.
            Curve::A => (
                [
                    Biquad::from_factors([dc_zero, dc_zero], [pole(F1_HZ), pole(F1_HZ)]),
                    Biquad::from_factors([dc_zero, dc_zero], [pole(F2_HZ), pole(F3_HZ)]),
                    top,
                ],
                3,
            ),
            // s² / ((s+ω1)²(s+ω4)²).
            Curve::C => (
                [
                    Biquad::from_factors([dc_zero, dc_zero], [pole(F1_HZ), pole(F1_HZ)]),
                    top,
                    Biquad::default(),
                ],
                2,
            ),
        };
        let mut filter = Self {
            sections,
            count,
            gain: 1.0,
        };
        // Normalise: exactly 0 dB at 1 kHz (IEC 61672-1 5.5.9).
        filter.gain = 1.0 / filter.magnitude(1000.0, sample_rate_hz);
        filter
    }

    /// |H| at `hz`.
    pub fn magnitude(&self, hz: f64, sample_rate_hz: f64) -> f64 {
        let w = 2.0 * PI * hz / sample_rate_hz;
        let (mut re, mut im) = (self.gain, 0.0);
        for s in &self.sections[..self.count] {
            let (r, i) = s.response(w);
            (re, im) = (re * r - im * i, re * i + im * r);
        }
        (re * re + im * im).sqrt()
    }

    /// The filter as three sections `[b0, b1, b2, a1, a2]` (denominator `1 + a1 z⁻¹ + a2 z⁻²`), the
    /// gain folded into the first, unused ones the identity: for kernels that run several
    /// weightings side by side.
    pub fn cascade(&self) -> [[f64; 5]; 3] {
        std::array::from_fn(|k| {
            if k < self.count {
                let s = &self.sections[k];
                let g = if k == 0 { self.gain } else { 1.0 };
                [g * s.b[0], g * s.b[1], g * s.b[2], s.a[0], s.a[1]]
            } else {
                [1.0, 0.0, 0.0, 0.0, 0.0]
            }
        })
    }

    #[inline]
    pub fn tick(&mut self, x: f64) -> f64 {
        let mut y = x * self.gain;
        for s in &mut self.sections[..self.count] {
            y = s.tick(y);
        }
        y
    }

    pub fn reset(&mut self) {
        for s in &mut self.sections {
            s.s = [0.0; 2];
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::weighting::{IEC_61672_TABLE_3, exact_frequency_hz};

    /// IEC 61672-1:2013 Table 3, class 1 acceptance limits (+, −) dB, at the same nominal
    /// frequencies as the weighting table; `f64::INFINITY` where the standard gives no lower
    /// limit.
    const CLASS_1_LIMITS: [(f64, f64, f64); 34] = [
        (10.0, 3.0, f64::INFINITY),
        (12.5, 2.5, f64::INFINITY),
        (16.0, 2.0, 4.0),
        (20.0, 2.0, 2.0),
        (25.0, 2.0, 1.5),
        (31.5, 1.5, 1.5),
        (40.0, 1.0, 1.0),
        (50.0, 1.0, 1.0),
        (63.0, 1.0, 1.0),
        (80.0, 1.0, 1.0),
        (100.0, 1.0, 1.0),
        (125.0, 1.0, 1.0),
        (160.0, 1.0, 1.0),
        (200.0, 1.0, 1.0),
        (250.0, 1.0, 1.0),
        (315.0, 1.0, 1.0),
        (400.0, 1.0, 1.0),
        (500.0, 1.0, 1.0),
        (630.0, 1.0, 1.0),
        (800.0, 1.0, 1.0),
        (1000.0, 0.7, 0.7),
        (1250.0, 1.0, 1.0),
        (1600.0, 1.0, 1.0),
        (2000.0, 1.0, 1.0),
        (2500.0, 1.0, 1.0),
        (3150.0, 1.0, 1.0),
        (4000.0, 1.0, 1.0),
        (5000.0, 1.5, 1.5),
        (6300.0, 1.5, 2.0),
        (8000.0, 1.5, 2.5),
        (10000.0, 2.0, 3.0),
        (12500.0, 2.0, 5.0),
        (16000.0, 2.5, 16.0),
        (20000.0, 3.0, f64::INFINITY),
    ];

    /// Every nominal frequency of Table 3 that lies below Nyquist, at every rate the plugin runs
    /// at: the digital filter's deviation from the table is within class 1.
    /// Every section's poles inside the unit circle (the stability triangle |a2| < 1,
    /// |a1| < 1 + a2) at every rate a host may run, the low ones where 12.2 kHz is past Nyquist
    /// included; and a loud sine stays bounded.
    #[test]
    fn stable_at_every_rate() {
        for fs in [
            8_000.0, 16_000.0, 22_050.0, 24_000.0, 32_000.0, 44_100.0, 384_000.0,
        ] {
            for curve in [Curve::A, Curve::C] {
                let mut filter = Weighting::new(curve, fs);
                for section in &filter.sections[..filter.count] {
                    let [a1, a2] = section.a;
                    assert!(
                        a2.abs() < 1.0 && a1.abs() < 1.0 + a2,
                        "{curve:?} at {fs}: {a1} {a2}"
                    );
                }
                let peak = (0..(fs as usize))
                    .map(|i| filter.tick((i as f64 * 0.37).sin()).abs())
                    .fold(0.0, f64::max);
                assert!(peak < 10.0, "{curve:?} at {fs}: {peak}");
            }
        }
    }

    #[test]
    fn class_1_at_every_rate() {
        for fs in [44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0] {
            for curve in [Curve::A, Curve::C] {
                let w = Weighting::new(curve, fs);
                for (&(nominal, a_db, c_db), &(_, plus, minus)) in
                    IEC_61672_TABLE_3.iter().zip(&CLASS_1_LIMITS)
                {
                    let hz = exact_frequency_hz(nominal);
                    if hz >= fs / 2.0 {
                        continue;
                    }
                    let table = if curve == Curve::A { a_db } else { c_db };
                    let got = 20.0 * w.magnitude(hz, fs).log10();
                    let deviation = got - table;
                    assert!(
                        deviation <= plus && -deviation <= minus,
                        "{curve:?} at {fs} Hz, {nominal} Hz: {got:.2} vs {table}"
                    );
                }
            }
        }
    }

    /// The closed form of IEC 61672-1 Annex E (both normalised at 1 kHz) within 0.1 dB from 10 Hz
    /// to 10 kHz and 0.5 dB to 16 kHz, at every rate from 44.1 to 192 kHz, on a fine log grid.
    #[test]
    fn meets_the_closed_form() {
        use crate::model::weighting::{a_weighting_db, c_weighting_db};
        for fs in [44_100.0, 48_000.0, 88_200.0, 96_000.0, 176_400.0, 192_000.0] {
            for curve in [Curve::A, Curve::C] {
                let w = Weighting::new(curve, fs);
                let analytic = |hz: f64| match curve {
                    Curve::A => a_weighting_db(hz) - a_weighting_db(1000.0),
                    Curve::C => c_weighting_db(hz) - c_weighting_db(1000.0),
                };
                for k in 0..=400 {
                    let hz = 10.0 * 1600f64.powf(f64::from(k) / 400.0);
                    let error = 20.0 * w.magnitude(hz, fs).log10() - analytic(hz);
                    let limit = if hz <= 10_000.0 { 0.1 } else { 0.5 };
                    assert!(
                        error.abs() <= limit,
                        "{curve:?} at {fs} Hz, {hz:.0} Hz: {error:+.3} dB against the closed form"
                    );
                }
            }
        }
    }

    /// A −20 dBFS sine at 3, 6 and 10 kHz through the A filter at 48 kHz reads the closed form's
    /// weighting within 0.1 dB (it read +0.17, +0.55 and +0.59 dB high with the bilinear
    /// transform's 12.2 kHz section).
    #[test]
    fn tones_read_the_closed_form() {
        use crate::model::weighting::a_weighting_db;
        let fs = 48_000.0;
        for hz in [3_000.0, 6_000.0, 10_000.0] {
            let mut w = Weighting::new(Curve::A, fs);
            let amplitude = 0.1;
            let n = 48_000;
            let mut sum = 0.0;
            for i in 0..2 * n {
                let y = w.tick(amplitude * (2.0 * PI * hz * i as f64 / fs).sin());
                if i >= n {
                    sum += y * y;
                }
            }
            let gain_db = 10.0 * (sum / n as f64 / (amplitude * amplitude / 2.0)).log10();
            let want = a_weighting_db(hz) - a_weighting_db(1000.0);
            assert!(
                (gain_db - want).abs() < 0.1,
                "{hz} Hz: {gain_db:+.3} dB, the closed form {want:+.3}"
            );
        }
    }

    /// The time-domain filter does what its response says: a 1 kHz A-weighted sine passes at
    /// 0 dB, and 100 Hz (A) and 50 Hz (C) sines come out at the filter's computed response (the
    /// RMS is taken over whole periods after a second of settling, so only rounding remains).
    #[test]
    fn sines_through_the_filter() {
        let fs = 48_000.0;
        for (curve, hz) in [(Curve::A, 1000.0), (Curve::A, 100.0), (Curve::C, 50.0)] {
            let mut w = Weighting::new(curve, fs);
            let n = 48_000 * 2;
            let mut sum = 0.0;
            for i in 0..n {
                let y = w.tick((2.0 * PI * hz * i as f64 / fs).sin());
                if i >= n / 2 {
                    sum += y * y;
                }
            }
            let rms_db = 10.0 * (sum / (n / 2) as f64 * 2.0).log10();
            let expected = 20.0 * w.magnitude(hz, fs).log10();
            assert!(
                (rms_db - expected).abs() < 0.001,
                "{curve:?} {hz} Hz: {rms_db} vs {expected}"
            );
        }
    }
}
