//! Sound exposure of one ear, streaming, from two pressure signals (pascals): the pressure at the
//! eardrum and its diffuse-field equivalent. A- and C-weighting (IEC 61672-1), F and S time
//! weighting, LAeq, LAFmax, LCpeak, and the NIOSH and WHO/ITU-T H.870 doses (docs/spl.md).
//! Audio-thread safe: fixed state, no allocation; the cost does not grow with time.
//!
//! The totals since the last reset ([`ExposureTotals`]) are what a project saves: an
//! [`ExposureStore`] carries them between the audio thread and the host's state save and load,
//! through atomics only.

use std::sync::atomic::{AtomicU64, Ordering};

use atomic_float::AtomicF64;
use serde::{Deserialize, Serialize};

use super::weighting::{Curve, Weighting};
use crate::model::spl::{
    SILENCE_DB, level_db, niosh_percent_per_s, niosh_time_to_full_s, who_dose_percent,
    who_time_to_full_s,
};

/// Time constants of IEC 61672-1 time weighting F and S, s.
pub const FAST_S: f64 = 0.125;
pub const SLOW_S: f64 = 1.0;
/// The NIOSH dose is summed over intervals of this length, each at its own LAeq (as a dosimeter
/// with a 1 s integration period does), s.
pub const NIOSH_INTERVAL_S: f64 = 1.0;
/// Ears metered: the first two channels (a mono feed is one ear's).
pub const EARS: usize = 2;

/// What one ear has received since the last reset: everything a project saves.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct EarTotals {
    /// ∫ p_A² dt at the eardrum, Pa²s.
    pub eardrum_pa2s: f64,
    /// ∫ p_A² dt diffuse-field equivalent (with the stage leak when stage mode is on), Pa²s.
    pub diffuse_pa2s: f64,
    /// NIOSH dose, %.
    pub niosh_percent: f64,
    /// Largest |p_C| at the eardrum, Pa.
    pub peak_c_pa: f64,
    /// Largest LAF at the eardrum, as mean square, Pa².
    pub laf_max_pa2: f64,
}

/// The exposure since the last reset, both ears, and when that reset was.
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
pub struct ExposureTotals {
    /// Seconds of audio measured.
    pub seconds: f64,
    pub ears: [EarTotals; EARS],
    /// When the user last reset, seconds since the Unix epoch (UTC); `None`: never.
    #[serde(default)]
    pub reset_unix_s: Option<f64>,
}

impl ExposureTotals {
    pub fn laeq_db(&self, ear: usize) -> f64 {
        mean_level(self.ears[ear].eardrum_pa2s, self.seconds)
    }

    pub fn laeq_df_db(&self, ear: usize) -> f64 {
        mean_level(self.ears[ear].diffuse_pa2s, self.seconds)
    }

    pub fn lcpeak_db(&self, ear: usize) -> f64 {
        let p = self.ears[ear].peak_c_pa;
        level_db(p * p)
    }

    pub fn who_percent(&self, ear: usize) -> f64 {
        who_dose_percent(self.ears[ear].diffuse_pa2s)
    }

    /// A saved record that can be trusted: finite, non-negative figures. A record that is not is
    /// refused whole (the exposure starts from zero) rather than half-applied.
    pub fn is_valid(&self) -> bool {
        let ok = |x: f64| x.is_finite() && x >= 0.0;
        ok(self.seconds)
            && self.reset_unix_s.is_none_or(ok)
            && self.ears.iter().all(|e| {
                ok(e.eardrum_pa2s)
                    && ok(e.diffuse_pa2s)
                    && ok(e.niosh_percent)
                    && ok(e.peak_c_pa)
                    && ok(e.laf_max_pa2)
            })
    }
}

fn mean_level(energy_pa2s: f64, seconds: f64) -> f64 {
    if seconds > 0.0 {
        level_db(energy_pa2s / seconds)
    } else {
        SILENCE_DB
    }
}

/// One ear's readings now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarReadings {
    /// LAF and LAS at the eardrum, dBA.
    pub laf_db: f64,
    pub las_db: f64,
    /// C-weighted, slow, at the eardrum (the reference noise is read on it too), dBC.
    pub lcs_db: f64,
    /// LAS of the monitor mix, diffuse-field equivalent, dBA.
    pub las_df_db: f64,
    /// The level doses grow at: `las_df_db` with the stage leak added (the same without), dBA.
    pub exposure_dba: f64,
    /// Since the last reset.
    pub laeq_db: f64,
    pub laeq_df_db: f64,
    pub laf_max_db: f64,
    pub lcpeak_db: f64,
    pub niosh_percent: f64,
    pub who_percent: f64,
    /// Seconds until each dose reaches 100 % if the level stays at `exposure_dba`.
    pub niosh_time_to_full_s: f64,
    pub who_time_to_full_s: f64,
}

impl Default for EarReadings {
    fn default() -> Self {
        Self {
            laf_db: SILENCE_DB,
            las_db: SILENCE_DB,
            lcs_db: SILENCE_DB,
            las_df_db: SILENCE_DB,
            exposure_dba: SILENCE_DB,
            laeq_db: SILENCE_DB,
            laeq_df_db: SILENCE_DB,
            laf_max_db: SILENCE_DB,
            lcpeak_db: SILENCE_DB,
            niosh_percent: 0.0,
            who_percent: 0.0,
            niosh_time_to_full_s: f64::INFINITY,
            who_time_to_full_s: f64::INFINITY,
        }
    }
}

/// The streaming meter of one ear.
#[derive(Debug, Clone)]
pub struct EarMeter {
    sample_period_s: f64,
    a_eardrum: Weighting,
    c_eardrum: Weighting,
    a_diffuse: Weighting,
    fast_coef: f64,
    slow_coef: f64,
    /// Exponentially averaged mean squares, Pa².
    laf_pa2: f64,
    las_pa2: f64,
    lcs_pa2: f64,
    las_df_pa2: f64,
    totals: EarTotals,
    /// The running NIOSH interval: its diffuse-field A-weighted energy (Pa²s) and samples.
    interval_pa2s: f64,
    interval_samples: u32,
    interval_len: u32,
}

impl EarMeter {
    pub fn new(sample_rate_hz: f64) -> Self {
        Self {
            sample_period_s: 1.0 / sample_rate_hz,
            a_eardrum: Weighting::new(Curve::A, sample_rate_hz),
            c_eardrum: Weighting::new(Curve::C, sample_rate_hz),
            a_diffuse: Weighting::new(Curve::A, sample_rate_hz),
            // One-pole exponential averaging, y += (x − y)·(1 − e^(−T/τ)) (IEC 61672-1 3.7).
            fast_coef: 1.0 - (-1.0 / (FAST_S * sample_rate_hz)).exp(),
            slow_coef: 1.0 - (-1.0 / (SLOW_S * sample_rate_hz)).exp(),
            laf_pa2: 0.0,
            las_pa2: 0.0,
            lcs_pa2: 0.0,
            las_df_pa2: 0.0,
            totals: EarTotals::default(),
            interval_pa2s: 0.0,
            interval_samples: 0,
            interval_len: (NIOSH_INTERVAL_S * sample_rate_hz).round().max(1.0) as u32,
        }
    }

    /// Feeds the pressure at the eardrum and its diffuse-field equivalent, as samples times
    /// `pa_per_unit` pascals; `leak_pa2` is an A-weighted, diffuse-field mean square that adds to
    /// the exposure (the stage leak; 0 without). A non-finite sample counts as silence, so it
    /// cannot poison the running sums.
    pub fn push(&mut self, eardrum: &[f32], diffuse: &[f32], pa_per_unit: f64, leak_pa2: f64) {
        let dt = self.sample_period_s;
        let t = &mut self.totals;
        for (&e, &d) in eardrum.iter().zip(diffuse) {
            let finite = |x: f32| if x.is_finite() { f64::from(x) } else { 0.0 };
            let p = finite(e) * pa_per_unit;
            let p_df = finite(d) * pa_per_unit;
            let pa = self.a_eardrum.tick(p);
            let pc = self.c_eardrum.tick(p);
            let pa_df = self.a_diffuse.tick(p_df);
            let (pa2, pc2, monitor_df) = (pa * pa, pc * pc, pa_df * pa_df);
            let pa2_df = monitor_df + leak_pa2;
            self.laf_pa2 += (pa2 - self.laf_pa2) * self.fast_coef;
            self.las_pa2 += (pa2 - self.las_pa2) * self.slow_coef;
            self.lcs_pa2 += (pc2 - self.lcs_pa2) * self.slow_coef;
            self.las_df_pa2 += (monitor_df - self.las_df_pa2) * self.slow_coef;
            t.eardrum_pa2s += pa2 * dt;
            t.diffuse_pa2s += pa2_df * dt;
            t.peak_c_pa = t.peak_c_pa.max(pc.abs());
            t.laf_max_pa2 = t.laf_max_pa2.max(self.laf_pa2);
            self.interval_pa2s += pa2_df * dt;
            self.interval_samples += 1;
            if self.interval_samples == self.interval_len {
                let seconds = f64::from(self.interval_len) * dt;
                t.niosh_percent +=
                    niosh_percent_per_s(level_db(self.interval_pa2s / seconds)) * seconds;
                self.interval_pa2s = 0.0;
                self.interval_samples = 0;
            }
        }
    }

    /// The totals since the last reset (the NIOSH dose with the running interval counted at its
    /// own level).
    pub fn totals(&self) -> EarTotals {
        let partial_s = f64::from(self.interval_samples) * self.sample_period_s;
        let partial = if partial_s > 0.0 {
            niosh_percent_per_s(level_db(self.interval_pa2s / partial_s)) * partial_s
        } else {
            0.0
        };
        EarTotals {
            niosh_percent: self.totals.niosh_percent + partial,
            ..self.totals
        }
    }

    /// Continue from `totals` (a reset is `EarTotals::default()`); the filters and time weightings
    /// keep their state, so there is no transient.
    pub fn restore(&mut self, totals: EarTotals) {
        self.totals = totals;
        self.interval_pa2s = 0.0;
        self.interval_samples = 0;
    }

    /// Forget the signal history (filters and time weightings); the totals stay.
    pub fn clear_history(&mut self) {
        self.a_eardrum.reset();
        self.c_eardrum.reset();
        self.a_diffuse.reset();
        self.laf_pa2 = 0.0;
        self.las_pa2 = 0.0;
        self.lcs_pa2 = 0.0;
        self.las_df_pa2 = 0.0;
    }

    /// Readings now, with `seconds` measured since the last reset and `leak_pa2` the stage leak
    /// (0 without).
    pub fn readings(&self, seconds: f64, leak_pa2: f64) -> EarReadings {
        let t = self.totals();
        let las_df_db = level_db(self.las_df_pa2);
        let exposure_dba = level_db(self.las_df_pa2 + leak_pa2);
        let who_percent = who_dose_percent(t.diffuse_pa2s);
        EarReadings {
            laf_db: level_db(self.laf_pa2),
            las_db: level_db(self.las_pa2),
            lcs_db: level_db(self.lcs_pa2),
            las_df_db,
            exposure_dba,
            laeq_db: mean_level(t.eardrum_pa2s, seconds),
            laeq_df_db: mean_level(t.diffuse_pa2s, seconds),
            laf_max_db: level_db(t.laf_max_pa2),
            lcpeak_db: level_db(t.peak_c_pa * t.peak_c_pa),
            niosh_percent: t.niosh_percent,
            who_percent,
            niosh_time_to_full_s: niosh_time_to_full_s(t.niosh_percent, exposure_dba),
            who_time_to_full_s: who_time_to_full_s(who_percent, exposure_dba),
        }
    }
}

/// The exposure totals shared between the audio thread and the host's state save and load.
///
/// The audio thread writes its totals to `live` every block; a save reads them. A load writes
/// the saved record to `restore` (and to `live`, so a save before the next block keeps it) and
/// bumps `restore_generation`; the audio thread then continues from it. A reset from the editor
/// bumps `reset_generation` and stamps the time. Atomics only: no locks on the audio thread.
#[derive(Debug, Default)]
pub struct ExposureStore {
    live: AtomicRecord,
    restore: AtomicRecord,
    restore_generation: AtomicU64,
    reset_generation: AtomicU64,
}

/// An [`ExposureTotals`] in atomics.
#[derive(Debug, Default)]
struct AtomicRecord {
    seconds: AtomicF64,
    ears: [[AtomicF64; 5]; EARS],
    /// NaN: never reset.
    reset_unix_s: AtomicF64,
}

impl AtomicRecord {
    fn store(&self, t: &ExposureTotals) {
        let put = |a: &AtomicF64, v: f64| a.store(v, Ordering::Relaxed);
        put(&self.seconds, t.seconds);
        for (slots, ear) in self.ears.iter().zip(&t.ears) {
            let values = [
                ear.eardrum_pa2s,
                ear.diffuse_pa2s,
                ear.niosh_percent,
                ear.peak_c_pa,
                ear.laf_max_pa2,
            ];
            for (slot, v) in slots.iter().zip(values) {
                put(slot, v);
            }
        }
        put(&self.reset_unix_s, t.reset_unix_s.unwrap_or(f64::NAN));
    }

    fn load(&self) -> ExposureTotals {
        let get = |a: &AtomicF64| a.load(Ordering::Relaxed);
        let reset = get(&self.reset_unix_s);
        ExposureTotals {
            seconds: get(&self.seconds),
            ears: std::array::from_fn(|e| {
                let s = &self.ears[e];
                EarTotals {
                    eardrum_pa2s: get(&s[0]),
                    diffuse_pa2s: get(&s[1]),
                    niosh_percent: get(&s[2]),
                    peak_c_pa: get(&s[3]),
                    laf_max_pa2: get(&s[4]),
                }
            }),
            reset_unix_s: (!reset.is_nan()).then_some(reset),
        }
    }
}

impl ExposureStore {
    /// The totals as last published by the audio thread (or restored): what a save writes.
    pub fn saved(&self) -> ExposureTotals {
        self.live.load()
    }

    /// A state load: the audio thread continues from `totals`.
    pub fn restore(&self, totals: &ExposureTotals) {
        self.restore.store(totals);
        self.live.store(totals);
        self.restore_generation.fetch_add(1, Ordering::Release);
    }

    /// The user's reset, made at `unix_s` (seconds since the epoch, UTC).
    pub fn reset(&self, unix_s: f64) {
        self.restore.store(&ExposureTotals {
            reset_unix_s: Some(unix_s),
            ..ExposureTotals::default()
        });
        self.live.store(&ExposureTotals {
            reset_unix_s: Some(unix_s),
            ..ExposureTotals::default()
        });
        self.reset_generation.fetch_add(1, Ordering::Release);
    }

    /// A new engine (activation): the totals to continue from — the newest, whether published
    /// by the previous engine or restored — and the generations seen so far.
    pub fn attach(&self) -> (ExposureTotals, (u64, u64)) {
        let seen = (
            self.restore_generation.load(Ordering::Acquire),
            self.reset_generation.load(Ordering::Acquire),
        );
        (self.live.load(), seen)
    }

    /// Audio thread: what to continue from, if a load or a reset happened since `seen`.
    pub fn take_restore(&self, seen: &mut (u64, u64)) -> Option<ExposureTotals> {
        let now = (
            self.restore_generation.load(Ordering::Acquire),
            self.reset_generation.load(Ordering::Acquire),
        );
        (now != *seen).then(|| {
            *seen = now;
            self.restore.load()
        })
    }

    /// Audio thread: publish the totals (relaxed stores, no allocation).
    pub fn publish(&self, totals: &ExposureTotals) {
        self.live.store(totals);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::spl::{REFERENCE_PA, mean_square_pa2};

    /// Samples of a sine at `spl_db` (RMS), `hz`, for `seconds`, in units of 1 mPa (so that
    /// `pa_per_unit` is exercised too).
    fn sine(spl_db: f64, hz: f64, fs: f64, seconds: f64) -> Vec<f32> {
        let peak_mpa = REFERENCE_PA * 10f64.powf(spl_db / 20.0) * std::f64::consts::SQRT_2 * 1e3;
        (0..(fs * seconds) as usize)
            .map(|i| (peak_mpa * (std::f64::consts::TAU * hz * i as f64 / fs).sin()) as f32)
            .collect()
    }

    /// A 1 kHz sine (A = C = 0 dB there) at 94 dB SPL: LAeq, LAF, LAS and LCS read 94.0, LCpeak
    /// 94 + 3.01 dB (a sine's peak is √2 × RMS); one minute of it adds the closed-form doses.
    #[test]
    fn one_khz_sine() {
        let fs = 48_000.0;
        let mut m = EarMeter::new(fs);
        let settle = sine(94.0, 1000.0, fs, 3.0);
        m.push(&settle, &settle, 1e-3, 0.0);
        m.restore(EarTotals::default());
        let x = sine(94.0, 1000.0, fs, 60.0);
        m.push(&x, &x, 1e-3, 0.0);
        let r = m.readings(60.0, 0.0);
        assert!((r.laeq_db - 94.0).abs() < 0.01, "{}", r.laeq_db);
        for l in [r.laf_db, r.las_db, r.lcs_db, r.las_df_db, r.laf_max_db] {
            assert!((l - 94.0).abs() < 0.05, "{r:?}");
        }
        assert!((r.lcpeak_db - (94.0 + 20.0 * 2f64.sqrt().log10())).abs() < 0.01);
        let expected = niosh_percent_per_s(94.0) * 60.0;
        assert!((r.niosh_percent / expected - 1.0).abs() < 0.003);
        let who = who_dose_percent(mean_square_pa2(94.0) * 60.0);
        assert!((r.who_percent / who - 1.0).abs() < 0.003);
    }

    /// F responds in about 125 ms, S in about 1 s: 0.125 s after a 94 dB tone starts LAF has
    /// risen to 1 − 1/e of the power, LAS to only 1 − e^(−1/8).
    #[test]
    fn time_weightings() {
        let fs = 48_000.0;
        let mut m = EarMeter::new(fs);
        let x = sine(94.0, 1000.0, fs, FAST_S);
        m.push(&x, &x, 1e-3, 0.0);
        let r = m.readings(FAST_S, 0.0);
        let rise = |frac: f64| 94.0 + 10.0 * frac.log10();
        assert!(
            (r.laf_db - rise(1.0 - (-1.0f64).exp())).abs() < 0.1,
            "{}",
            r.laf_db
        );
        assert!(
            (r.las_db - rise(1.0 - (-0.125f64).exp())).abs() < 0.1,
            "{}",
            r.las_db
        );
    }

    /// The stage leak adds to the diffuse-field exposure only: 60 s of silence with an 80 dBA leak
    /// reads 80 dBA diffuse-field LAeq and the closed-form WHO dose; the eardrum stays silent.
    #[test]
    fn leak_feeds_the_dose() {
        let fs = 48_000.0;
        let mut m = EarMeter::new(fs);
        let silence = vec![0.0f32; 60 * 48_000];
        m.push(&silence, &silence, 1.0, mean_square_pa2(80.0));
        let r = m.readings(60.0, mean_square_pa2(80.0));
        assert!((r.exposure_dba - 80.0).abs() < 1e-9 && r.las_df_db == SILENCE_DB);
        assert!((r.laeq_df_db - 80.0).abs() < 1e-6, "{}", r.laeq_df_db);
        assert_eq!(r.laeq_db, SILENCE_DB);
        let who = who_dose_percent(mean_square_pa2(80.0) * 60.0);
        assert!((r.who_percent / who - 1.0).abs() < 1e-9);
        assert!((r.niosh_percent / (niosh_percent_per_s(80.0) * 60.0) - 1.0).abs() < 1e-9);
    }

    #[test]
    fn non_finite_input_is_silence() {
        let mut m = EarMeter::new(48_000.0);
        let bad = [f32::NAN, f32::INFINITY, 0.0];
        m.push(&bad, &bad, 1.0, 0.0);
        let x = sine(80.0, 1000.0, 48_000.0, 1.0);
        m.push(&x, &x, 1e-3, 0.0);
        let r = m.readings(1.0, 0.0);
        assert!(r.laeq_db.is_finite() && r.laeq_db > 70.0, "{r:?}");
    }

    /// What a load restores is what the audio thread continues from, seen once; a reset zeroes
    /// everything but stamps its time; a corrupt record is refused.
    #[test]
    fn store_round_trip() {
        let store = ExposureStore::default();
        let mut seen = (0, 0);
        assert_eq!(store.take_restore(&mut seen), None);
        let mut t = ExposureTotals {
            seconds: 3600.0,
            ..Default::default()
        };
        t.ears[1].niosh_percent = 42.0;
        t.ears[0].peak_c_pa = 2.0;
        store.restore(&t);
        assert_eq!(store.saved(), t);
        assert_eq!(store.take_restore(&mut seen), Some(t));
        assert_eq!(store.take_restore(&mut seen), None);
        store.reset(1.7e9);
        let r = store.take_restore(&mut seen).unwrap();
        assert_eq!(r.seconds, 0.0);
        assert_eq!(r.reset_unix_s, Some(1.7e9));
        assert!(t.is_valid());
        t.ears[0].diffuse_pa2s = f64::NAN;
        assert!(!t.is_valid());
        t.ears[0].diffuse_pa2s = -1.0;
        assert!(!t.is_valid());
    }
}
