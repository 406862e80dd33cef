//! Sound exposure of one ear from its sound-pressure signal (pascals): A- and C-weighting
//! (IEC 61672-1), F and S time weighting, LAeq, LCpeak, and the NIOSH and WHO/ITU-T H.870 doses
//! (DESIGN.md §4). Audio-thread safe: fixed state, no allocation; cost does not grow with time.

use super::weighting::{Curve, Weighting};

/// Reference sound pressure, Pa (0 dB SPL).
pub const REFERENCE_PA: f64 = 20e-6;
/// Time constants of IEC 61672-1 time weighting F and S, s.
pub const FAST_S: f64 = 0.125;
pub const SLOW_S: f64 = 1.0;
/// NIOSH REL: 85 dBA for 8 h, 3 dB exchange rate — equal energy: T = 480/2^((L−85)/3) min.
pub const NIOSH_CRITERION_DBA: f64 = 85.0;
pub const NIOSH_CRITERION_S: f64 = 8.0 * 3600.0;
/// WHO/ITU-T H.870 weekly allowance: 80 dBA for 40 h, 1.6 Pa²h.
pub const WHO_WEEKLY_PA2H: f64 = 1.6;
/// Below this an LAeq reads as silence, dB.
pub const SILENCE_DB: f64 = -200.0;

/// NIOSH dose per second at a steady `level_dba`, %: 100 % / T with
/// `T = 8 h / 2^((L − 85)/3)` (NIOSH 1998, "Criteria for a recommended standard: occupational
/// noise exposure", eq. 1-1 and 1-2).
pub fn niosh_percent_per_s(level_dba: f64) -> f64 {
    100.0 / (NIOSH_CRITERION_S / 2f64.powf((level_dba - NIOSH_CRITERION_DBA) / 3.0))
}

/// The NIOSH dose is summed over intervals of this length, each at its own LAeq (as a dosimeter
/// with a 1 s integration period does), s.
pub const NIOSH_INTERVAL_S: f64 = 1.0;

/// A-weighted energy (Pa²s) as a percentage of the WHO/ITU-T H.870 weekly allowance, 1.6 Pa²h.
pub fn who_dose_percent(energy_pa2s: f64) -> f64 {
    100.0 * energy_pa2s / 3600.0 / WHO_WEEKLY_PA2H
}

/// Seconds at a steady `level_dba` until a dose that is now `dose_percent` reaches 100 %, given
/// the percentage one second at that level adds (`percent_per_s`). Infinite in silence; zero
/// once the dose is spent.
fn time_to_full_s(dose_percent: f64, percent_per_s: f64) -> f64 {
    if dose_percent >= 100.0 {
        0.0
    } else if percent_per_s <= 0.0 {
        f64::INFINITY
    } else {
        (100.0 - dose_percent) / percent_per_s
    }
}

/// Mean-square pressure of a level, Pa².
fn pa2(level_db: f64) -> f64 {
    REFERENCE_PA * REFERENCE_PA * 10f64.powf(level_db / 10.0)
}

/// Seconds at `level_dba` until the NIOSH dose reaches 100 % from `dose_percent`.
pub fn niosh_time_to_full_s(dose_percent: f64, level_dba: f64) -> f64 {
    time_to_full_s(dose_percent, niosh_percent_per_s(level_dba))
}

/// Seconds at `level_dba` until the WHO weekly dose reaches 100 % from `dose_percent`.
pub fn who_time_to_full_s(dose_percent: f64, level_dba: f64) -> f64 {
    time_to_full_s(dose_percent, who_dose_percent(pa2(level_dba)))
}

fn level_db(mean_square_pa2: f64) -> f64 {
    if mean_square_pa2 > 0.0 {
        10.0 * (mean_square_pa2 / (REFERENCE_PA * REFERENCE_PA)).log10()
    } else {
        SILENCE_DB
    }
}

/// The exposure of one ear.
#[derive(Debug, Clone)]
pub struct ExposureMeter {
    sample_period_s: f64,
    a: Weighting,
    c: Weighting,
    fast_coef: f64,
    slow_coef: f64,
    /// Exponentially averaged A-weighted mean square, Pa² (F and S).
    fast_pa2: f64,
    slow_pa2: f64,
    /// ∫ p_A² dt since the last reset, Pa²s.
    energy_pa2s: f64,
    seconds: f64,
    /// Largest |p_C| since the last reset, Pa.
    peak_c_pa: f64,
    /// NIOSH dose of the completed intervals, %.
    niosh_percent: f64,
    /// The running interval: its A-weighted energy (Pa²s) and samples.
    interval_pa2s: f64,
    interval_samples: u32,
    interval_len: u32,
}

impl ExposureMeter {
    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            sample_period_s: 1.0 / sample_rate_hz,
            a: Weighting::new(Curve::A, sample_rate_hz),
            c: Weighting::new(Curve::C, sample_rate_hz),
            // One-pole exponential averaging, y += (x − y)·(1 − e^(−T/τ)) (IEC 61672-1 3.7).
            fast_coef: 1.0 - (-1.0 / (FAST_S * sample_rate_hz)).exp(),
            slow_coef: 1.0 - (-1.0 / (SLOW_S * sample_rate_hz)).exp(),
            fast_pa2: 0.0,
            slow_pa2: 0.0,
            energy_pa2s: 0.0,
            seconds: 0.0,
            peak_c_pa: 0.0,
            niosh_percent: 0.0,
            interval_pa2s: 0.0,
            interval_samples: 0,
            interval_len: (NIOSH_INTERVAL_S * sample_rate_hz).round().max(1.0) as u32,
        }
    }

    /// Feeds sound pressure, Pa. A non-finite sample counts as silence, so it cannot poison the
    /// running sums.
    pub fn push(&mut self, pressure_pa: &[f64]) {
        for &p in pressure_pa {
            let p = if p.is_finite() { p } else { 0.0 };
            let pa = self.a.tick(p);
            let pc = self.c.tick(p);
            let pa2 = pa * pa;
            self.fast_pa2 += (pa2 - self.fast_pa2) * self.fast_coef;
            self.slow_pa2 += (pa2 - self.slow_pa2) * self.slow_coef;
            self.energy_pa2s += pa2 * self.sample_period_s;
            self.peak_c_pa = self.peak_c_pa.max(pc.abs());
            self.interval_pa2s += pa2 * self.sample_period_s;
            self.interval_samples += 1;
            if self.interval_samples == self.interval_len {
                let seconds = f64::from(self.interval_len) * self.sample_period_s;
                self.niosh_percent +=
                    niosh_percent_per_s(level_db(self.interval_pa2s / seconds)) * seconds;
                self.interval_pa2s = 0.0;
                self.interval_samples = 0;
            }
        }
        self.seconds += pressure_pa.len() as f64 * self.sample_period_s;
    }

    /// Starts a new measurement (the filters keep their state: no transient).
    pub fn reset(&mut self) {
        self.energy_pa2s = 0.0;
        self.seconds = 0.0;
        self.peak_c_pa = 0.0;
        self.niosh_percent = 0.0;
        self.interval_pa2s = 0.0;
        self.interval_samples = 0;
    }

    pub fn energy_pa2s(&self) -> f64 {
        self.energy_pa2s
    }

    pub fn seconds(&self) -> f64 {
        self.seconds
    }

    /// Equivalent continuous A-weighted level since the last reset, dBA.
    pub fn laeq_db(&self) -> f64 {
        if self.seconds > 0.0 {
            level_db(self.energy_pa2s / self.seconds)
        } else {
            SILENCE_DB
        }
    }

    /// LAF and LAS now, dBA.
    pub fn laf_db(&self) -> f64 {
        level_db(self.fast_pa2)
    }

    pub fn las_db(&self) -> f64 {
        level_db(self.slow_pa2)
    }

    /// Peak C-weighted level since the last reset, dBC.
    pub fn lcpeak_db(&self) -> f64 {
        level_db(self.peak_c_pa * self.peak_c_pa)
    }

    /// NIOSH dose since the last reset, %: the completed intervals, plus the running one at
    /// its own level.
    pub fn niosh_dose_percent(&self) -> f64 {
        let partial_s = f64::from(self.interval_samples) * self.sample_period_s;
        let partial = if partial_s > 0.0 {
            niosh_percent_per_s(level_db(self.interval_pa2s / partial_s)) * partial_s
        } else {
            0.0
        };
        self.niosh_percent + partial
    }

    pub fn who_dose_percent(&self) -> f64 {
        who_dose_percent(self.energy_pa2s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Pressure of a sine at `spl_db` (RMS), `hz`, for `seconds`.
    fn sine_pa(spl_db: f64, hz: f64, fs: f64, seconds: f64) -> Vec<f64> {
        let peak = REFERENCE_PA * 10f64.powf(spl_db / 20.0) * std::f64::consts::SQRT_2;
        (0..(fs * seconds) as usize)
            .map(|i| peak * (std::f64::consts::TAU * hz * i as f64 / fs).sin())
            .collect()
    }

    mod doses {
        use super::*;

        /// 85 dBA for 8 h is 100 % NIOSH; 88 dBA for 4 h too (3 dB exchange); 100 dBA is allowed
        /// 480/2^5 = 15 min; 80 dBA for 40 h is 100 % WHO (1.6 Pa²h).
        #[test]
        fn criteria() {
            assert!((niosh_percent_per_s(85.0) * 8.0 * 3600.0 - 100.0).abs() < 1e-9);
            assert!((niosh_percent_per_s(88.0) * 4.0 * 3600.0 - 100.0).abs() < 1e-9);
            assert!((niosh_time_to_full_s(0.0, 100.0) - 15.0 * 60.0).abs() < 1e-6);
            assert!((niosh_time_to_full_s(50.0, 100.0) - 7.5 * 60.0).abs() < 1e-6);
            assert_eq!(niosh_time_to_full_s(100.0, 100.0), 0.0);
            assert!((who_dose_percent(pa2(80.0) * 40.0 * 3600.0) - 100.0).abs() < 1e-9);
            // 83 dBA is twice the power of 80 dBA: 40 h / 10^0.3.
            assert!((who_time_to_full_s(0.0, 83.0) - 40.0 * 3600.0 / 10f64.powf(0.3)).abs() < 1e-6);
        }
    }

    mod meter {
        use super::*;

        /// A 1 kHz sine (A = C = 0 dB there) at 94 dB SPL: LAeq, LAF and LAS read 94.0, LCpeak
        /// 94 + 3.01 dB (a sine's peak is √2 × RMS); one minute of it adds the closed-form dose.
        #[test]
        fn one_khz_sine() {
            let fs = 48_000.0;
            let mut m = ExposureMeter::new(fs);
            m.push(&sine_pa(94.0, 1000.0, fs, 3.0));
            m.reset();
            m.push(&sine_pa(94.0, 1000.0, fs, 60.0));
            assert!((m.laeq_db() - 94.0).abs() < 0.01, "{}", m.laeq_db());
            assert!((m.laf_db() - 94.0).abs() < 0.05 && (m.las_db() - 94.0).abs() < 0.05);
            assert!((m.lcpeak_db() - (94.0 + 20.0 * 2f64.sqrt().log10())).abs() < 0.01);
            let expected = niosh_percent_per_s(94.0) * 60.0;
            assert!((m.niosh_dose_percent() / expected - 1.0).abs() < 0.003);
            let who = who_dose_percent(pa2(94.0) * 60.0);
            assert!((m.who_dose_percent() / who - 1.0).abs() < 0.003);
        }

        /// F responds in about 125 ms, S in about 1 s: 0.125 s after a 94 dB tone starts LAF has
        /// risen to 1 − 1/e of the power, LAS to only 1 − e^(−1/8).
        #[test]
        fn time_weightings() {
            let fs = 48_000.0;
            let mut m = ExposureMeter::new(fs);
            m.push(&sine_pa(94.0, 1000.0, fs, FAST_S));
            let rise = |frac: f64| 94.0 + 10.0 * frac.log10();
            assert!(
                (m.laf_db() - rise(1.0 - (-1.0f64).exp())).abs() < 0.1,
                "{}",
                m.laf_db()
            );
            assert!(
                (m.las_db() - rise(1.0 - (-0.125f64).exp())).abs() < 0.1,
                "{}",
                m.las_db()
            );
        }

        #[test]
        fn non_finite_input_is_silence() {
            let mut m = ExposureMeter::new(48_000.0);
            m.push(&[f64::NAN, f64::INFINITY, 0.0]);
            assert!(m.laeq_db().is_finite());
            m.push(&sine_pa(80.0, 1000.0, 48_000.0, 1.0));
            assert!(m.laeq_db() > 70.0);
        }
    }
}
