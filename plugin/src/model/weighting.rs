//! Frequency weightings A and C of IEC 61672-1:2013, as the analogue (closed-form) magnitude
//! responses of its Annex E. The live filters in `dsp/` are tested against these.

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
}
