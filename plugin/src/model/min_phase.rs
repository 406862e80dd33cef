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
/// The asymptote split off before the reconstruction has its corner this far below the last data
/// frequency, so it has reached 99.6 % of its slope where the data ends.
const ASYMPTOTE_CORNER_BELOW_END: f64 = 16.0;
/// The end slope of ln|Z| over ln f is limited to what an RLC one-port can do: between −1 (a
/// capacitor) and +1 (an inductor).
const MAX_SLOPE: f64 = 1.0;

/// Minimum phase, degrees, at each row of `rows` = (Hz, |Z|), strictly increasing frequencies,
/// positive magnitudes (checked by the caller).
///
/// Beyond the data the magnitude is assumed to keep the slope of its last third of an octave:
/// that asymptote, `|1 + j·f/f_c|^s` with its corner `f_c` four octaves below the data's end, is
/// split off first (its phase `s·atan(f/f_c)` is known in closed form), the remainder is held flat above the data, and the cepstrum reconstructs the
/// phase of the remainder only. Below the data the magnitude is held flat (an IEM is resistive
/// at DC).
pub fn minimum_phase_degrees(rows: &[[f64; 2]]) -> Vec<f64> {
    let last = rows[rows.len() - 1][0];
    let slope = end_slope(rows).clamp(-MAX_SLOPE, MAX_SLOPE);
    let corner = last / ASYMPTOTE_CORNER_BELOW_END;
    let asymptote_ln = |hz: f64| 0.5 * slope * (1.0 + (hz / corner).powi(2)).ln();
    let asymptote_rad = |hz: f64| slope * (hz / corner).atan();
    let residual_ln = |hz: f64| log_magnitude(rows, hz.min(last)) - asymptote_ln(hz.min(last));

    let top_hz = (last * HEADROOM).max(192_000.0);
    let half = FFT_LEN / 2;
    let bin_hz = top_hz / half as f64;

    let mut planner = RealFftPlanner::<f64>::new();
    let inverse = planner.plan_fft_inverse(FFT_LEN);
    let forward = planner.plan_fft_forward(FFT_LEN);

    // Real cepstrum: the inverse transform of the (real, even) log-magnitude spectrum.
    let mut spectrum: Vec<Complex<f64>> = (0..=half)
        .map(|k| Complex::new(residual_ln(k as f64 * bin_hz), 0.0))
        .collect();
    let mut cepstrum = inverse.make_output_vec();
    inverse
        .process(&mut spectrum, &mut cepstrum)
        .expect("buffer lengths come from the plan");
    let scale = 1.0 / FFT_LEN as f64;

    // Fold onto n ≥ 0: c[0], 2·c[n] for 0 < n < N/2, c[N/2], zero beyond.
    for (n, c) in cepstrum.iter_mut().enumerate() {
        *c *= scale
            * match n {
                0 => 1.0,
                n if n < half => 2.0,
                n if n == half => 1.0,
                _ => 0.0,
            };
    }
    let mut folded = forward.make_output_vec();
    forward
        .process(&mut cepstrum, &mut folded)
        .expect("buffer lengths come from the plan");

    rows.iter()
        .map(|row| {
            let position = row[0] / bin_hz;
            let k = (position.floor() as usize).min(half - 1);
            let t = position - k as f64;
            let residual = folded[k].im + t * (folded[k + 1].im - folded[k].im);
            (residual + asymptote_rad(row[0])).to_degrees()
        })
        .collect()
}

/// ln|Z| at `hz` (inside the data or below it, where it is held flat), interpolated over ln f.
fn log_magnitude(rows: &[[f64; 2]], hz: f64) -> f64 {
    let first = rows[0];
    let last = rows[rows.len() - 1];
    if hz <= first[0] {
        return first[1].ln();
    }
    if hz >= last[0] {
        return last[1].ln();
    }
    let upper = rows.partition_point(|row| row[0] <= hz);
    let (a, b) = (rows[upper - 1], rows[upper]);
    let t = (hz / a[0]).ln() / (b[0] / a[0]).ln();
    a[1].ln() + t * (b[1].ln() - a[1].ln())
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
