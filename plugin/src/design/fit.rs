//! Designing the audition filter: **off the audio thread** (it allocates and plans FFTs; the
//! plugin runs it on its designer thread, the CLI before it renders).
//!
//! The target is the *band-limited minimum-phase response* (docs/audition.md): the minimum-phase
//! response whose magnitude is the model's |F| on [0, fs/2]. A zero-latency filter with real
//! coefficients is real at Nyquist, so it cannot follow the analog phase near fs/2; this target is
//! what such a filter can reach, and the analog phase differs from it by an almost pure time
//! advance of a few microseconds.
//!
//! 1. The coupling capacitors' high-pass behaviour (a zero at DC, or the undoing of the rig's)
//!    becomes an exact first-order DC section, so the rest is smooth down to DC.
//! 2. The rest's magnitude is sampled on a fine DFT grid over [0, fs/2] and its minimum phase
//!    computed through the real cepstrum ([`phase_from_log_magnitude`]).
//! 3. The bank's weights (its poles are fixed per rate, [`PoleSet`]) are fitted to that complex
//!    target by linear least squares with weights 1/|target| (a relative error), as Bank 2008 does.

use realfft::num_complex::Complex64;

use super::bank::{Coefficients, FIR_TAPS, PoleSet, SECTIONS};
use crate::model::audition::{Audition, AuditionGain, RIG_HIGHPASS_UNDO_FLOOR_HZ};
use crate::model::chain::{BAND_START_HZ, BAND_STOP_HZ, log_grid};
use crate::model::min_phase::phase_from_log_magnitude;

/// Frequencies the weights are fitted on, log-spaced from [`FIT_START_HZ`] to just below fs/2.
const FIT_POINTS: usize = 512;
const FIT_START_HZ: f64 = 10.0;
/// The fit stops this close to Nyquist, where the target's phase folds to 0 or π.
const FIT_STOP_FRACTION: f64 = 0.995;
/// Resolution of the model on its way to the DFT grid: points per octave of a log grid whose
/// log-magnitude is interpolated onto the bins.
const MODEL_POINTS_PER_OCTAVE: f64 = 96.0;
/// Bin spacing of the cepstrum's DFT grid is at most this, Hz.
const MAX_BIN_HZ: f64 = 1.5;
/// Weight of the fit above the audible band (relative to 1 inside it): the filter must follow
/// the target there only loosely, and at high rates the poles (up to 30 kHz) cannot follow it to
/// Nyquist without taking accuracy from the band.
const ABOVE_BAND_WEIGHT: f64 = 0.05;
/// Where "above the band" starts, Hz.
const ABOVE_BAND_HZ: f64 = 22_000.0;

/// A designed filter and what it cost to get there.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Design {
    pub coefficients: Coefficients,
    /// The gain besides the shape, and what the ceiling held back.
    pub gain: AuditionGain,
    /// Largest deviation of the designed filter from its target over 20 Hz–20 kHz on the fit
    /// grid: magnitude, dB, and phase, degrees.
    pub fit_error_db: f64,
    pub fit_error_deg: f64,
}

/// The filter that makes the rig sound as `audition`'s chain would, at `sample_rate_hz`.
pub fn design(audition: &Audition, sample_rate_hz: f64) -> Design {
    let gain = audition.gain();
    let linear_gain = 10f64.powf(gain.gain_db / 20.0);
    let magnitude = |hz: f64| audition.response_with_gain(hz, linear_gain).norm();
    let fitted = fit_magnitude(&magnitude, audition.highpass_corners_hz(), sample_rate_hz);
    Design {
        coefficients: fitted.coefficients,
        gain,
        fit_error_db: fitted.error_db,
        fit_error_deg: fitted.error_deg,
    }
}

/// A fitted filter and its largest deviation from the target over 20 Hz–20 kHz.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fitted {
    pub coefficients: Coefficients,
    pub error_db: f64,
    pub error_deg: f64,
}

/// The bank whose response is the band-limited minimum-phase response of `magnitude` (a
/// function of Hz on (0, fs/2]). `highpass_corners_hz` are the coupling-capacitor corners of the
/// wanted and the undone high-pass (see [`dc_section`]); `magnitude` must include them.
pub fn fit_magnitude(
    magnitude: &dyn Fn(f64) -> f64,
    highpass_corners_hz: (Option<f64>, Option<f64>),
    sample_rate_hz: f64,
) -> Fitted {
    let (dc_zero, dc_pole) = dc_section(highpass_corners_hz, sample_rate_hz);
    let dc = |hz: f64| {
        let z1 = Complex64::from_polar(1.0, -std::f64::consts::TAU * hz / sample_rate_hz);
        (1.0 - dc_zero * z1) / (1.0 - dc_pole * z1)
    };
    // What the bank must do: the magnitude with the DC section divided out (smooth at DC).
    let rest_magnitude = |hz: f64| magnitude(hz) / dc(hz).norm();
    let rest = MinimumPhase::new(&rest_magnitude, sample_rate_hz);

    let poles = PoleSet::new(sample_rate_hz);
    let fit_hz = log_grid(
        FIT_START_HZ,
        FIT_STOP_FRACTION * sample_rate_hz / 2.0,
        FIT_POINTS as f64 / (FIT_STOP_FRACTION * sample_rate_hz / 2.0 / FIT_START_HZ).log2(),
    );
    let targets: Vec<Complex64> = fit_hz
        .iter()
        .map(|&hz| Complex64::from_polar(rest_magnitude(hz), rest.phase_rad(hz)))
        .collect();
    let weights = fit(&poles, &fit_hz, &targets, sample_rate_hz);
    let mut coefficients = Coefficients {
        b0: std::array::from_fn(|k| weights[2 * k]),
        b1: std::array::from_fn(|k| weights[2 * k + 1]),
        fir: std::array::from_fn(|m| weights[2 * SECTIONS + m]),
        dc_zero,
        dc_pole,
    };
    flush_tiny(&mut coefficients);

    let (mut error_db, mut error_deg) = (0.0f64, 0.0f64);
    for (&hz, target) in fit_hz.iter().zip(&targets) {
        if !(BAND_START_HZ..=BAND_STOP_HZ).contains(&hz) {
            continue;
        }
        let [re, im] = coefficients.response(&poles, hz, sample_rate_hz);
        let ratio = Complex64::new(re, im) / dc(hz) / target;
        error_db = error_db.max((20.0 * ratio.norm().log10()).abs());
        error_deg = error_deg.max(ratio.arg().to_degrees().abs());
    }
    Fitted {
        coefficients,
        error_db,
        error_deg,
    }
}

/// The DC section `(1 − q z⁻¹)/(1 − p z⁻¹)` for the coupling-capacitor corners of (audition,
/// rig), by the matched z-transform (`e^(−ω_c/fs)`): the audition's capacitor is a zero at DC and a
/// pole at its corner; the rig's is undone by a zero at its corner and a pole at the audition's
/// corner, or at [`RIG_HIGHPASS_UNDO_FLOOR_HZ`] if the audition has none.
pub fn dc_section(corners_hz: (Option<f64>, Option<f64>), sample_rate_hz: f64) -> (f64, f64) {
    let z = |hz: f64| (-std::f64::consts::TAU * hz / sample_rate_hz).exp();
    match corners_hz {
        (None, None) => (0.0, 0.0),
        (Some(audition), None) => (1.0, z(audition)),
        (None, Some(rig)) => (z(rig), z(RIG_HIGHPASS_UNDO_FLOOR_HZ)),
        (Some(audition), Some(rig)) => (z(rig), z(audition)),
    }
}

/// Weights below 1e-30 to zero, so the filter never multiplies subnormals.
fn flush_tiny(c: &mut Coefficients) {
    for w in
        c.b0.iter_mut()
            .chain(c.b1.iter_mut())
            .chain(c.fir.iter_mut())
    {
        if w.abs() < 1e-30 {
            *w = 0.0;
        }
    }
}

/// The minimum phase of a magnitude response on [0, fs/2], on a DFT grid fine enough for 20 Hz.
struct MinimumPhase {
    bin_hz: f64,
    phase: Vec<f64>,
}

impl MinimumPhase {
    fn new(magnitude: &dyn Fn(f64) -> f64, sample_rate_hz: f64) -> Self {
        let n = ((sample_rate_hz / MAX_BIN_HZ).ceil() as usize).next_power_of_two();
        let half = n / 2;
        let bin_hz = sample_rate_hz / n as f64;
        // ln|F| on a log grid from the first bin to Nyquist, then onto the bins (linear in
        // ln f): the model is evaluated ~1,600 times instead of tens of thousands.
        let nyquist_hz = sample_rate_hz / 2.0;
        let grid = log_grid(bin_hz, nyquist_hz, MODEL_POINTS_PER_OCTAVE);
        let ln_grid: Vec<f64> = grid.iter().map(|&hz| magnitude(hz).ln()).collect();
        let mut j = 0;
        let ln_magnitude: Vec<f64> = (0..=half)
            .map(|k| {
                let hz = (k as f64 * bin_hz).max(bin_hz);
                while j + 2 < grid.len() && grid[j + 1] < hz {
                    j += 1;
                }
                let t = ((hz / grid[j]).ln() / (grid[j + 1] / grid[j]).ln()).clamp(0.0, 1.0);
                ln_grid[j] + t * (ln_grid[j + 1] - ln_grid[j])
            })
            .collect();
        Self {
            bin_hz,
            phase: phase_from_log_magnitude(&ln_magnitude),
        }
    }

    /// The phase at `hz`, interpolated between bins.
    fn phase_rad(&self, hz: f64) -> f64 {
        let position = hz / self.bin_hz;
        let k = (position.floor() as usize).min(self.phase.len() - 2);
        let t = position - k as f64;
        self.phase[k] + t * (self.phase[k + 1] - self.phase[k])
    }
}

/// Least-squares weights of the bank (b0, b1 of every section, then the FIR taps) for `targets`
/// at `hz`, each error weighted by 1/|target|.
fn fit(poles: &PoleSet, hz: &[f64], targets: &[Complex64], sample_rate_hz: f64) -> Vec<f64> {
    let unknowns = 2 * SECTIONS + FIR_TAPS;
    let rows = 2 * hz.len();
    // Column-major: column j holds basis function j at every frequency (real parts, then
    // imaginary parts), weighted.
    let mut columns = vec![vec![0.0; rows]; unknowns];
    let mut rhs = vec![0.0; rows];
    for (i, (&f, &target)) in hz.iter().zip(targets).enumerate() {
        let band = if f > ABOVE_BAND_HZ {
            ABOVE_BAND_WEIGHT
        } else {
            1.0
        };
        let w = band / target.norm();
        let z1 = Complex64::from_polar(1.0, -std::f64::consts::TAU * f / sample_rate_hz);
        let z2 = z1 * z1;
        let mut put = |j: usize, value: Complex64| {
            columns[j][i] = w * value.re;
            columns[j][hz.len() + i] = w * value.im;
        };
        for k in 0..SECTIONS {
            let section = 1.0 / (1.0 + poles.a1[k] * z1 + poles.a2[k] * z2);
            put(2 * k, section);
            put(2 * k + 1, section * z1);
        }
        let mut tap = Complex64::new(1.0, 0.0);
        for m in 0..FIR_TAPS {
            put(2 * SECTIONS + m, tap);
            tap *= z1;
        }
        rhs[i] = w * target.re;
        rhs[hz.len() + i] = w * target.im;
    }
    least_squares(columns, rhs)
}

/// The x minimising ‖A·x − b‖₂, by Householder QR (Golub & Van Loan, "Matrix Computations",
/// 4th ed., §5.3.3), with the columns of A (given column by column) scaled to unit norm first.
pub fn least_squares(mut columns: Vec<Vec<f64>>, mut b: Vec<f64>) -> Vec<f64> {
    let n = columns.len();
    let m = b.len();
    assert!(
        m >= n,
        "least squares needs at least as many equations as unknowns"
    );
    let norm = |v: &[f64]| v.iter().map(|x| x * x).sum::<f64>().sqrt();
    let scale: Vec<f64> = columns
        .iter_mut()
        .map(|c| {
            let s = norm(c);
            let s = if s > 0.0 { s } else { 1.0 };
            c.iter_mut().for_each(|x| *x /= s);
            s
        })
        .collect();
    let mut v = vec![0.0; m];
    for j in 0..n {
        let x = &columns[j][j..];
        let alpha = -norm(x).copysign(x[0]);
        let v = &mut v[..m - j];
        v.copy_from_slice(x);
        v[0] -= alpha;
        let v_norm2: f64 = v.iter().map(|x| x * x).sum();
        if v_norm2 == 0.0 {
            continue;
        }
        let reflect = |target: &mut [f64]| {
            let dot: f64 = v.iter().zip(target.iter()).map(|(a, b)| a * b).sum();
            let f = 2.0 * dot / v_norm2;
            target
                .iter_mut()
                .zip(v.iter())
                .for_each(|(t, a)| *t -= f * a);
        };
        for column in &mut columns[j..] {
            reflect(&mut column[j..]);
        }
        reflect(&mut b[j..]);
    }
    let mut x = vec![0.0; n];
    for j in (0..n).rev() {
        let dot: f64 = (j + 1..n).map(|k| columns[k][j] * x[k]).sum();
        x[j] = (b[j] - dot) / columns[j][j];
    }
    x.iter().zip(&scale).map(|(x, s)| x / s).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    mod least_squares {
        use super::*;

        /// A straight line through three points off it: the normal equations' closed form,
        /// slope 1/2 and intercept 5/6 for (0, 1), (1, 1), (2, 2).
        #[test]
        fn line_fit() {
            let x = least_squares(
                vec![vec![1.0, 1.0, 1.0], vec![0.0, 1.0, 2.0]],
                vec![1.0, 1.0, 2.0],
            );
            assert!((x[0] - 5.0 / 6.0).abs() < 1e-12, "{x:?}");
            assert!((x[1] - 0.5).abs() < 1e-12, "{x:?}");
        }

        /// A square system is solved exactly, however badly its columns are scaled.
        #[test]
        fn square_system() {
            let columns = vec![
                vec![2.0, 1.0, 0.0],
                vec![0.0, 3e6, 1e6],
                vec![1e-6, 0.0, 4e-6],
            ];
            let want = [1.5, 2.0, 1e6];
            let b: Vec<f64> = (0..3)
                .map(|i| (0..3).map(|j| columns[j][i] * want[j]).sum())
                .collect();
            let x = least_squares(columns, b);
            for (got, want) in x.iter().zip(want) {
                assert!((got - want).abs() < 1e-9 * want, "{x:?}");
            }
        }
    }

    mod dc_section {
        use super::*;

        #[test]
        fn corners() {
            let fs = 48_000.0;
            let z = |hz: f64| (-std::f64::consts::TAU * hz / fs).exp();
            assert_eq!(dc_section((None, None), fs), (0.0, 0.0));
            assert_eq!(dc_section((Some(40.0), None), fs), (1.0, z(40.0)));
            assert_eq!(dc_section((None, Some(40.0)), fs), (z(40.0), z(4.0)));
            assert_eq!(dc_section((Some(10.0), Some(40.0)), fs), (z(40.0), z(10.0)));
        }
    }
}
