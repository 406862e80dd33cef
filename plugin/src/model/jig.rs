//! The impedance jig (docs/measure.md): the interface's output drives the IEM through a sense
//! resistor R; input 1 records the voltage V1 at the source side of R, input 2 the voltage V2
//! across the IEM. The same current flows through both, so
//!
//! `Z = R · V2 / (V1 − V2) = R · H / (1 − H)` with `H = V2 / V1`,
//!
//! and for a passive IEM `|H| ≤ 1` at every frequency (`|H| > 1` would need `Re Z < −R/2`).

use super::Complex64;
use super::units::Range;

/// Sense resistors the jig accepts, Ω: below 10 Ω the drop across R is lost in the inputs'
/// noise for a 16–50 Ω IEM; above 1 kΩ the interface's input impedance (often 10 kΩ or less)
/// loads the IEM side noticeably.
pub const SENSE_OHMS: Range = Range::new(10.0, 1000.0);

/// Input impedances of the interface's input 2 that can be allowed for, Ω (a 1 kΩ input would
/// load a 50 Ω IEM by 5 %; above 10 MΩ the correction is below a part per million for any IEM).
pub const INPUT_OHMS: Range = Range::new(1_000.0, 10_000_000.0);

/// The IEM's impedance from what the jig measured across it, `measured = Z ‖ input_ohms`, when
/// input 2 loads it with `input_ohms` (resistive).
pub fn unload(measured: Complex64, input_ohms: f64) -> Complex64 {
    measured * input_ohms / (Complex64::new(input_ohms, 0.0) - measured)
}

/// The IEM's impedance from the ratio `H = V2 / V1` with sense resistor `sense_ohms`.
pub fn impedance_from_ratio(sense_ohms: f64, ratio: Complex64) -> Complex64 {
    ratio * sense_ohms / (Complex64::new(1.0, 0.0) - ratio)
}

/// How a relative error of `H` grows into a relative error of `Z`: `|dZ/Z| = |dH/H| / |1 − H|`.
pub fn error_gain(ratio: Complex64) -> f64 {
    1.0 / (Complex64::new(1.0, 0.0) - ratio).norm()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A divider of R and Z gives back Z, for resistive, inductive and capacitive loads.
    #[test]
    fn divider_round_trip() {
        for z in [
            Complex64::new(16.0, 0.0),
            Complex64::new(8.0, 30.0),
            Complex64::new(40.0, -12.0),
        ] {
            for r in [10.0, 100.0, 1000.0] {
                let h = z / (z + r);
                assert!((impedance_from_ratio(r, h) - z).norm() < 1e-9 * z.norm());
            }
        }
    }

    /// Undoing the input's load gives back the IEM: (Z ‖ R_in) unloaded is Z.
    #[test]
    fn unloading_the_input() {
        let z = Complex64::new(40.0, 25.0);
        let r_in = 10_000.0;
        let loaded = z * r_in / (z + r_in);
        assert!((unload(loaded, r_in) - z).norm() < 1e-9 * z.norm());
    }

    /// With R = Z (resistive) H = ½ and an error of H doubles in Z.
    #[test]
    fn error_gain_of_equal_arms() {
        assert!((error_gain(Complex64::new(0.5, 0.0)) - 2.0).abs() < 1e-12);
    }
}
