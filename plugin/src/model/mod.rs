//! The playback-chain physics (docs/chain.md): a Thevenin source, an optional attenuator, a cable
//! and an IEM, all impedances complex at every frequency.
//!
//! Physics and standards only: the bottom layer. Nothing here imports another layer of the crate
//! (`design`, `dsp`, `offline` or a front end) or knows about plugin hosts; the plugin, the CLI and
//! the tests are thin front ends on the layers above it. Everything here may allocate; the audio
//! thread only ever sees what `design/` makes from it.

pub mod advisor;
pub mod attenuator;
pub mod audition;
pub mod calibration;
pub mod catalog;
pub mod chain;
pub mod circuit;
pub mod curve;
pub mod delivery;
pub mod eardrum;
pub mod iem;
pub mod import;
pub mod jig;
pub mod min_phase;
pub mod overrides;
pub mod preset;
pub mod source;
pub mod spl;
pub mod units;
pub mod volume;
pub mod week;
pub mod weighting;

pub use realfft::num_complex::Complex64;

pub use attenuator::Attenuator;
pub use chain::{Cable, Chain, ChainReport, ResponsePoint};
pub use iem::{Iem, ImpedanceModel, Sensitivity};
pub use source::Source;

/// Angular frequency ω = 2πf, rad/s.
pub fn omega(hz: f64) -> f64 {
    std::f64::consts::TAU * hz
}

/// Impedance of a capacitor, 1/(jωC), Ω.
pub fn capacitor(farads: f64, hz: f64) -> Complex64 {
    Complex64::new(0.0, -1.0 / (omega(hz) * farads))
}

/// Impedance of an inductor, jωL, Ω.
pub fn inductor(henries: f64, hz: f64) -> Complex64 {
    Complex64::new(0.0, omega(hz) * henries)
}

/// Two impedances in parallel. An infinite one (an open circuit) leaves the other.
pub fn parallel(a: Complex64, b: Complex64) -> Complex64 {
    if !a.is_finite() {
        return b;
    }
    if !b.is_finite() {
        return a;
    }
    a * b / (a + b)
}

/// 20·log10|x|, dB.
pub fn db(x: f64) -> f64 {
    20.0 * x.abs().log10()
}

/// The inverse of [`db`]: a linear amplitude ratio.
pub fn from_db(db: f64) -> f64 {
    10f64.powf(db / 20.0)
}
