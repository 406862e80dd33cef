//! Sound exposure per ear: the totals since the last reset (LAeq's energies, LAF max, LCpeak, the
//! NIOSH dose), the readings made from them, and the store that keeps them across project saves
//! and loads (docs/spl.md). The streaming arithmetic is `dsp::spl::pressure`.
//!
//! The totals since the last reset ([`ExposureTotals`]) are what a project saves: an
//! [`ExposureStore`] carries them between the audio thread and the host's state save and load,
//! through atomics only.

use std::sync::atomic::{AtomicU64, Ordering};

use atomic_float::AtomicF64;
use serde::{Deserialize, Serialize};

use crate::model::spl::{
    SILENCE_DB, level_db, mean_level_db, niosh_time_to_full_s, who_dose_percent, who_time_to_full_s,
};

/// Time constants of IEC 61672-1 time weighting F and S, s.
pub const FAST_S: f64 = 0.125;
pub const SLOW_S: f64 = 1.0;
/// The NIOSH dose is summed over intervals of this length, each at its own LAeq (as a dosimeter
/// with a 1 s integration period does), s.
pub const NIOSH_INTERVAL_S: f64 = 1.0;
use crate::dsp::limits::EARS;

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
        mean_level_db(self.ears[ear].eardrum_pa2s, self.seconds)
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

/// One ear's readings now.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct EarReadings {
    /// LAF and LAS at the eardrum, dBA.
    pub laf_db: f64,
    pub las_db: f64,
    /// C-weighted, slow, at the eardrum, dBC.
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

/// One ear's readings from its totals since the last reset (`seconds` long), its time-weighted
/// mean squares now (LAF, LAS, LCS and diffuse-field LAS, Pa²) and the stage leak (Pa², 0 without).
pub fn ear_readings(
    totals: &EarTotals,
    seconds: f64,
    mean_squares: [f64; 4],
    leak_pa2: f64,
) -> EarReadings {
    let [laf, las, lcs, las_df] = mean_squares;
    let exposure_dba = level_db(las_df + leak_pa2);
    let who_percent = who_dose_percent(totals.diffuse_pa2s);
    EarReadings {
        laf_db: level_db(laf),
        las_db: level_db(las),
        lcs_db: level_db(lcs),
        las_df_db: level_db(las_df),
        exposure_dba,
        laeq_db: mean_level_db(totals.eardrum_pa2s, seconds),
        laeq_df_db: mean_level_db(totals.diffuse_pa2s, seconds),
        laf_max_db: level_db(totals.laf_max_pa2),
        lcpeak_db: level_db(totals.peak_c_pa * totals.peak_c_pa),
        niosh_percent: totals.niosh_percent,
        who_percent,
        niosh_time_to_full_s: niosh_time_to_full_s(totals.niosh_percent, exposure_dba),
        who_time_to_full_s: who_time_to_full_s(who_percent, exposure_dba),
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
    /// The live totals just before the last restore or reset: what had been heard up to that
    /// jump (the weekly record books it).
    before_jump: AtomicRecord,
    restore_generation: AtomicU64,
    reset_generation: AtomicU64,
}

/// An [`ExposureTotals`] in atomics.
#[derive(Debug)]
struct AtomicRecord {
    seconds: AtomicF64,
    ears: [[AtomicF64; 5]; EARS],
    /// NaN: never reset.
    reset_unix_s: AtomicF64,
}

impl Default for AtomicRecord {
    /// Zero totals, never reset.
    fn default() -> Self {
        Self {
            seconds: AtomicF64::new(0.0),
            ears: Default::default(),
            reset_unix_s: AtomicF64::new(f64::NAN),
        }
    }
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
        self.before_jump.store(&self.live.load());
        self.restore.store(totals);
        self.live.store(totals);
        self.restore_generation.fetch_add(1, Ordering::Release);
    }

    /// The user's reset, made at `unix_s` (seconds since the epoch, UTC).
    pub fn reset(&self, unix_s: f64) {
        let zero = ExposureTotals {
            reset_unix_s: Some(unix_s),
            ..ExposureTotals::default()
        };
        self.before_jump.store(&self.live.load());
        self.restore.store(&zero);
        self.live.store(&zero);
        self.reset_generation.fetch_add(1, Ordering::Release);
    }

    /// The last restore or reset as the totals just before it and the totals it set.
    pub fn last_jump(&self) -> (ExposureTotals, ExposureTotals) {
        (self.before_jump.load(), self.restore.load())
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

    /// The load and reset counts so far: a change means the totals jumped (not listening).
    pub fn generations(&self) -> (u64, u64) {
        (
            self.restore_generation.load(Ordering::Acquire),
            self.reset_generation.load(Ordering::Acquire),
        )
    }

    /// Audio thread: publish the totals (relaxed stores, no allocation).
    pub fn publish(&self, totals: &ExposureTotals) {
        self.live.store(totals);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// What a load restores is what the audio thread continues from, seen once; a reset zeroes
    /// everything but stamps its time; a corrupt record is refused.
    #[test]
    fn store_round_trip() {
        let store = ExposureStore::default();
        assert_eq!(
            store.saved(),
            ExposureTotals::default(),
            "a new store: zero, never reset"
        );
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
