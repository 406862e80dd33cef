//! Phase from magnitude for a minimum-phase function (a passive one-port's impedance is one): the
//! phase is the Hilbert transform of ln|Z|, computed through the real cepstrum (Oppenheim &
//! Schafer, "Discrete-Time Signal Processing", 3rd ed., §13.5: fold the real cepstrum onto
//! positive quefrencies; the imaginary part of its Fourier transform is the minimum phase).

use realfft::RealFftPlanner;
use realfft::num_complex::Complex;

/// FFT length of the reconstruction grid: 2^18 points, so bins are a few hertz apart even with
/// the grid reaching well above the data.
const FFT_LEN: usize = 1 << 18;
/// The grid reaches this many times the highest data frequency (and at least 192 kHz), so that
/// the ends of the data are far from the grid's Nyquist fold.
const HEADROOM: f64 = 8.0;
/// The end slope of ln|Z| over ln f is limited to what an RLC one-port can do: between −1 (a
/// capacitor) and +1 (an inductor).
const MAX_SLOPE: f64 = 1.0;

/// Minimum phase, degrees, at each row of `rows` = (Hz, |Z|), strictly increasing frequencies,
/// positive magnitudes (checked by the caller).
///
/// Beyond the data the magnitude follows a `Tail` fitted to the data's top: that asymptote is
/// split off first (its phase is known in closed form), the remainder is held flat above the
/// data, and the cepstrum reconstructs the phase of the remainder only. Below the data the
/// magnitude is held flat (an IEM is resistive at DC).
///
/// What |Z| does above the data cannot be known from it, and the phase near the top of the data
/// depends on it (Bode's gain–phase relation): a slope change `Δs` beyond `f_last` moves the phase
/// at `f` by `Δs/π · ∫_{ln(f_last/f)}^∞ ln coth(u/2) du`, ≈ 36.5°·Δs·f/f_last well below the end.
/// Measure to well above 20 kHz, or import the phase, where the top octave matters.
pub fn minimum_phase_degrees(rows: &[[f64; 2]]) -> Vec<f64> {
    let last = rows[rows.len() - 1][0];
    let tail = Tail::fit(rows);
    let residual_ln =
        |hz: f64| log_magnitude(rows, hz.min(last)) - tail.log_magnitude(hz.min(last));

    let top_hz = (last * HEADROOM).max(192_000.0);
    let half = FFT_LEN / 2;
    let bin_hz = top_hz / half as f64;

    let ln_residual: Vec<f64> = (0..=half).map(|k| residual_ln(k as f64 * bin_hz)).collect();
    let phase = phase_from_log_magnitude(&ln_residual);

    rows.iter()
        .map(|row| {
            let position = row[0] / bin_hz;
            let k = (position.floor() as usize).min(half - 1);
            let t = position - k as f64;
            let residual = phase[k] + t * (phase[k + 1] - phase[k]);
            (residual + tail.phase_rad(row[0])).to_degrees()
        })
        .collect()
}

/// The minimum phase, radians, at the bins of a half spectrum: `log_magnitude[k]` is ln|H| at
/// bin k of an N-point DFT grid, k = 0..=N/2 (N = 2·(len − 1), a power of two). The real cepstrum
/// of ln|H| folded onto n ≥ 0 is the cepstrum of the minimum-phase H; the imaginary part of its
/// transform is the phase (Oppenheim & Schafer, 3rd ed., §13.5).
pub fn phase_from_log_magnitude(log_magnitude: &[f64]) -> Vec<f64> {
    let half = log_magnitude.len() - 1;
    let n = 2 * half;
    let mut planner = RealFftPlanner::<f64>::new();
    let inverse = planner.plan_fft_inverse(n);
    let forward = planner.plan_fft_forward(n);
    let mut spectrum: Vec<Complex<f64>> = log_magnitude
        .iter()
        .map(|&l| Complex::new(l, 0.0))
        .collect();
    let mut cepstrum = inverse.make_output_vec();
    inverse
        .process(&mut spectrum, &mut cepstrum)
        .expect("buffer lengths come from the plan");
    let scale = 1.0 / n as f64;
    // Fold onto n ≥ 0: c[0], 2·c[n] for 0 < n < N/2, c[N/2], zero beyond.
    for (i, c) in cepstrum.iter_mut().enumerate() {
        *c *= scale
            * match i {
                0 => 1.0,
                i if i < half => 2.0,
                i if i == half => 1.0,
                _ => 0.0,
            };
    }
    let mut folded = forward.make_output_vec();
    forward
        .process(&mut cepstrum, &mut folded)
        .expect("buffer lengths come from the plan");
    folded.iter().map(|c| c.im).collect()
}

/// ln|Z| at `hz` (inside the data or below it, where it is held flat), interpolated over ln f.
fn log_magnitude(rows: &[[f64; 2]], hz: f64) -> f64 {
    super::curve::interpolate(rows, hz, 1, f64::ln)
}

/// d ln|Z| / d ln f over the last third of an octave of data (or its last two points).
fn end_slope(rows: &[[f64; 2]]) -> f64 {
    let last = rows[rows.len() - 1];
    let start = rows
        .iter()
        .rposition(|row| row[0] <= last[0] / 2f64.powf(1.0 / 3.0))
        .unwrap_or(0)
        .min(rows.len() - 2);
    let a = rows[start];
    (last[1] / a[1]).ln() / (last[0] / a[0]).ln()
}

/// A minimum-phase asymptote for what |Z| does above the data, with closed-form magnitude and
/// phase.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Tail {
    /// `R + jωL` fitted to the top octave: a voice coil's inductance still rising towards its
    /// corner beyond the data (a moving-coil IEM). Used only when it fits the top octave within
    /// [`RL_FIT_TOLERANCE`].
    SeriesRl { r_ohms: f64, l_henries: f64 },
    /// `|1 + j·f/f_c|^s`: the slope `s` of the last third of an octave, continued, with its
    /// corner `f_c` four octaves below the end of the data (so it has reached 99.6 % of its slope
    /// there).
    Slope { slope: f64, corner_hz: f64 },
}

/// Relative RMS misfit of |Z| over the top octave below which the data is taken to be an R–L.
const RL_FIT_TOLERANCE: f64 = 2e-4;
/// The slope asymptote's corner lies this far below the last data frequency.
const SLOPE_CORNER_BELOW_END: f64 = 16.0;

impl Tail {
    fn fit(rows: &[[f64; 2]]) -> Self {
        let last = rows[rows.len() - 1][0];
        Self::fit_series_rl(rows).unwrap_or(Tail::Slope {
            slope: end_slope(rows).clamp(-MAX_SLOPE, MAX_SLOPE),
            corner_hz: last / SLOPE_CORNER_BELOW_END,
        })
    }

    /// Least squares of |Z|² = R² + ω²L² over the top octave (linear in R² and L²).
    fn fit_series_rl(rows: &[[f64; 2]]) -> Option<Self> {
        let last = rows[rows.len() - 1][0];
        let top: Vec<(f64, f64)> = rows
            .iter()
            .filter(|r| r[0] >= last / 2.0)
            .map(|r| (super::omega(r[0]).powi(2), r[1] * r[1]))
            .collect();
        if top.len() < 3 {
            return None;
        }
        let n = top.len() as f64;
        let (mx, my) = top
            .iter()
            .fold((0.0, 0.0), |(a, b), &(x, y)| (a + x / n, b + y / n));
        let sxx: f64 = top.iter().map(|&(x, _)| (x - mx).powi(2)).sum();
        let sxy: f64 = top.iter().map(|&(x, y)| (x - mx) * (y - my)).sum();
        let l2 = sxy / sxx;
        let r2 = my - l2 * mx;
        if !(l2 > 0.0 && r2 > 0.0) {
            return None;
        }
        let misfit = (top
            .iter()
            .map(|&(w2, z2)| ((r2 + l2 * w2).sqrt() / z2.sqrt() - 1.0).powi(2))
            .sum::<f64>()
            / n)
            .sqrt();
        (misfit < RL_FIT_TOLERANCE).then_some(Tail::SeriesRl {
            r_ohms: r2.sqrt(),
            l_henries: l2.sqrt(),
        })
    }

    fn log_magnitude(self, hz: f64) -> f64 {
        match self {
            Tail::SeriesRl { r_ohms, l_henries } => {
                0.5 * (r_ohms * r_ohms + (super::omega(hz) * l_henries).powi(2)).ln()
            }
            Tail::Slope { slope, corner_hz } => 0.5 * slope * (1.0 + (hz / corner_hz).powi(2)).ln(),
        }
    }

    fn phase_rad(self, hz: f64) -> f64 {
        match self {
            Tail::SeriesRl { r_ohms, l_henries } => (super::omega(hz) * l_henries / r_ohms).atan(),
            Tail::Slope { slope, corner_hz } => slope * (hz / corner_hz).atan(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A series R–L (|Z| rising, 0° → 90°): the phase is atan(ωL/R), closed form.
    #[test]
    fn series_rl() {
        let (r, l) = (10.0, 1e-3);
        let rows: Vec<[f64; 2]> = (0..=600)
            .map(|i| {
                let hz = 10.0 * 2f64.powf(i as f64 / 48.0);
                [
                    hz,
                    (r * r + (std::f64::consts::TAU * hz * l).powi(2)).sqrt(),
                ]
            })
            .filter(|row| row[0] <= 24_000.0)
            .collect();
        let phase = minimum_phase_degrees(&rows);
        for (row, deg) in rows.iter().zip(&phase) {
            if (20.0..=20_000.0).contains(&row[0]) {
                let exact = (std::f64::consts::TAU * row[0] * l / r).atan().to_degrees();
                assert!((deg - exact).abs() < 1.0, "{} Hz: {deg} vs {exact}", row[0]);
            }
        }
    }
}
