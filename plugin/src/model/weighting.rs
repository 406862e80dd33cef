//! Frequency weightings A and C of IEC 61672-1:2013, as the analogue (closed-form) magnitude
//! responses of its Annex E, and the K-weighting of ITU-R BS.1770-5 (a digital filter by
//! definition: its coefficients and magnitude at any rate). The live filters in `dsp/` are tested
//! against these.

/// Pole frequencies of IEC 61672-1 Annex E (E.2, E.3), Hz.
pub const F1_HZ: f64 = 20.598_997;
pub const F2_HZ: f64 = 107.652_65;
pub const F3_HZ: f64 = 737.862_23;
pub const F4_HZ: f64 = 12_194.217;
/// Normalisation constants A1000 and C1000 of Annex E (E.5, E.6): the weightings' raw values at
/// 1 kHz, so that both read 0 dB there.
const A1000_DB: f64 = -2.000;
const C1000_DB: f64 = -0.062;

/// C-weighting, dB (IEC 61672-1 eq. E.1).
pub fn c_weighting_db(hz: f64) -> f64 {
    let f2 = hz * hz;
    let raw = F4_HZ * F4_HZ * f2 / ((f2 + F1_HZ * F1_HZ) * (f2 + F4_HZ * F4_HZ));
    20.0 * raw.log10() - C1000_DB
}

/// A-weighting, dB (IEC 61672-1 eq. E.6).
pub fn a_weighting_db(hz: f64) -> f64 {
    let f2 = hz * hz;
    let raw = F4_HZ * F4_HZ * f2 * f2
        / ((f2 + F1_HZ * F1_HZ)
            * ((f2 + F2_HZ * F2_HZ) * (f2 + F3_HZ * F3_HZ)).sqrt()
            * (f2 + F4_HZ * F4_HZ));
    20.0 * raw.log10() - A1000_DB
}

/// The nominal frequencies and weightings of IEC 61672-1 Table 3 (10 Hz … 20 kHz, one-third
/// octaves): (Hz, A dB, C dB). Rounded to 0.1 dB as in the standard.
pub const IEC_61672_TABLE_3: [(f64, f64, f64); 34] = [
    (10.0, -70.4, -14.3),
    (12.5, -63.4, -11.2),
    (16.0, -56.7, -8.5),
    (20.0, -50.5, -6.2),
    (25.0, -44.7, -4.4),
    (31.5, -39.4, -3.0),
    (40.0, -34.6, -2.0),
    (50.0, -30.2, -1.3),
    (63.0, -26.2, -0.8),
    (80.0, -22.5, -0.5),
    (100.0, -19.1, -0.3),
    (125.0, -16.1, -0.2),
    (160.0, -13.4, -0.1),
    (200.0, -10.9, 0.0),
    (250.0, -8.6, 0.0),
    (315.0, -6.6, 0.0),
    (400.0, -4.8, 0.0),
    (500.0, -3.2, 0.0),
    (630.0, -1.9, 0.0),
    (800.0, -0.8, 0.0),
    (1000.0, 0.0, 0.0),
    (1250.0, 0.6, 0.0),
    (1600.0, 1.0, -0.1),
    (2000.0, 1.2, -0.2),
    (2500.0, 1.3, -0.3),
    (3150.0, 1.2, -0.5),
    (4000.0, 1.0, -0.8),
    (5000.0, 0.5, -1.3),
    (6300.0, -0.1, -2.0),
    (8000.0, -1.1, -3.0),
    (10000.0, -2.5, -4.4),
    (12500.0, -4.3, -6.2),
    (16000.0, -6.6, -8.5),
    (20000.0, -9.3, -11.2),
];

/// The exact base-ten frequency of a Table 3 nominal frequency: f = 1000·10^(n/10) (IEC 61672-1
/// 5.5.9 computes the weightings at the exact frequencies; the nominal ones are rounded).
pub fn exact_frequency_hz(nominal_hz: f64) -> f64 {
    let n = (10.0 * (nominal_hz / 1000.0).log10()).round();
    1000.0 * 10f64.powf(n / 10.0)
}

/// The K-weighting pre-filter of ITU-R BS.1770-5 (§2, Tables 1 and 2): a high shelf that models
/// the head, then the RLB high-pass. The Recommendation tabulates coefficients for 48 kHz only;
/// for other rates they come from the analog prototype through the bilinear transform, which
/// reproduces the 48 kHz table to better than 1e-7.
///
/// Stage 1 (head shelf): centre frequency, gain and Q of the analog prototype.
const SHELF_HZ: f64 = 1_681.974_450_955_533;
const SHELF_GAIN_DB: f64 = 3.999_843_853_973_347;
const SHELF_Q: f64 = 0.707_175_236_955_419_6;
/// Exponent that sets the shelf's mid-band gain from its high-frequency gain.
const SHELF_MID_EXPONENT: f64 = 0.499_666_774_154_541_6;
/// Stage 2 (RLB high-pass).
const HIGHPASS_HZ: f64 = 38.135_470_876_024_44;
const HIGHPASS_Q: f64 = 0.500_327_037_323_877_3;

/// Second-order section, a0 = 1.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Biquad {
    pub b: [f64; 3],
    pub a: [f64; 2],
}

impl Biquad {
    /// BS.1770 stage 1 at `sample_rate_hz`.
    pub fn k_shelf(sample_rate_hz: f64) -> Self {
        let k = (std::f64::consts::PI * SHELF_HZ / sample_rate_hz).tan();
        let vh = 10f64.powf(SHELF_GAIN_DB / 20.0);
        let vb = vh.powf(SHELF_MID_EXPONENT);
        let a0 = 1.0 + k / SHELF_Q + k * k;
        Self {
            b: [
                (vh + vb * k / SHELF_Q + k * k) / a0,
                2.0 * (k * k - vh) / a0,
                (vh - vb * k / SHELF_Q + k * k) / a0,
            ],
            a: [2.0 * (k * k - 1.0) / a0, (1.0 - k / SHELF_Q + k * k) / a0],
        }
    }

    /// BS.1770 stage 2 at `sample_rate_hz` (numerator 1, −2, 1 as in Table 2).
    pub fn k_highpass(sample_rate_hz: f64) -> Self {
        let k = (std::f64::consts::PI * HIGHPASS_HZ / sample_rate_hz).tan();
        let a0 = 1.0 + k / HIGHPASS_Q + k * k;
        Self {
            b: [1.0, -2.0, 1.0],
            a: [
                2.0 * (k * k - 1.0) / a0,
                (1.0 - k / HIGHPASS_Q + k * k) / a0,
            ],
        }
    }
}

impl Biquad {
    /// |H(e^{jω})| at `hz` for a filter running at `sample_rate_hz`.
    pub fn magnitude(&self, hz: f64, sample_rate_hz: f64) -> f64 {
        let w = std::f64::consts::TAU * hz / sample_rate_hz;
        let z1 = realfft::num_complex::Complex64::from_polar(1.0, -w);
        let z2 = z1 * z1;
        let num = self.b[0] + self.b[1] * z1 + self.b[2] * z2;
        let den = 1.0 + self.a[0] * z1 + self.a[1] * z2;
        (num / den).norm()
    }
}

/// Amplitude gain of the whole K-weighting (both stages) at `hz`, for the filter at
/// `sample_rate_hz` (BS.1770 defines it at 48 kHz).
pub fn k_weighting_gain(hz: f64, sample_rate_hz: f64) -> f64 {
    Biquad::k_shelf(sample_rate_hz).magnitude(hz, sample_rate_hz)
        * Biquad::k_highpass(sample_rate_hz).magnitude(hz, sample_rate_hz)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_at_1k() {
        assert!(a_weighting_db(1000.0).abs() < 0.001);
        assert!(c_weighting_db(1000.0).abs() < 0.001);
    }

    /// Table 3 rounds to 0.1 dB, so the closed form must agree within half a step; 0.001 dB more
    /// for 160 Hz, where the exact value (−13.350 dB) sits on the rounding boundary.
    #[test]
    fn matches_table_3_to_its_rounding() {
        for &(nominal, a, c) in &IEC_61672_TABLE_3 {
            let f = exact_frequency_hz(nominal);
            assert!(
                (a_weighting_db(f) - a).abs() <= 0.051,
                "A at {nominal} Hz: {}",
                a_weighting_db(f)
            );
            assert!(
                (c_weighting_db(f) - c).abs() <= 0.051,
                "C at {nominal} Hz: {}",
                c_weighting_db(f)
            );
        }
    }

    mod k_weighting_gain {
        use super::*;

        /// BS.1770: the filter gains +0.691 dB at 997 Hz (what the −0.691 in the loudness formula
        /// takes back), about +4 dB at 20 kHz (the head shelf), and cuts deep at 10 Hz (RLB).
        #[test]
        fn shape_at_48k() {
            let at = |hz: f64| 20.0 * k_weighting_gain(hz, 48_000.0).log10();
            assert!((at(997.0) - 0.691).abs() < 0.01, "{}", at(997.0));
            assert!((at(20_000.0) - 4.0).abs() < 0.1, "{}", at(20_000.0));
            assert!(at(10.0) < -20.0, "{}", at(10.0));
        }
    }

    mod at_48k {
        use super::*;

        #[test]
        fn stage_1_matches_table_1() {
            let s = Biquad::k_shelf(48_000.0);
            let table_b = [
                1.535_124_859_586_97,
                -2.691_696_189_406_38,
                1.198_392_810_852_85,
            ];
            let table_a = [-1.690_659_293_182_41, 0.732_480_774_215_85];
            for (got, want) in s.b.iter().zip(table_b).chain(s.a.iter().zip(table_a)) {
                assert!((got - want).abs() < 1e-8, "{got} vs {want}");
            }
        }

        #[test]
        fn stage_2_matches_table_2() {
            let s = Biquad::k_highpass(48_000.0);
            assert_eq!(s.b, [1.0, -2.0, 1.0]);
            let table_a = [-1.990_047_454_833_98, 0.990_072_250_366_21];
            for (got, want) in s.a.iter().zip(table_a) {
                assert!((got - want).abs() < 1e-8, "{got} vs {want}");
            }
        }
    }
}
