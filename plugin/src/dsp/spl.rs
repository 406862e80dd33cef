//! Delivered SPL, live: what leaves the plugin, played through the user's rig, as pressure at the
//! eardrum and as its diffuse-field equivalent, metered per ear (docs/spl.md).
//!
//! The rig's pressure responses (`model::spl`) are realised by the same fixed-pole bank as the
//! audition, fitted off the audio thread ([`design_spl`], run by the audition's designer) with the
//! pascals per unit of full scale folded into the weights, so the bank's outputs are pascals.
//! A change of the rig glides like an audition change. Nothing here allocates after construction.

use super::bank::{BankFilter, Coefficients};
use super::design::fit_magnitude;
use super::exposure::{EARS, EarMeter, EarReadings, ExposureStore, ExposureTotals};
use crate::model::Chain;
use crate::model::audition::highpass_corner_hz;
use crate::model::spl::{
    diffuse_magnitude, eardrum_magnitude, mean_square_pa2, pascals_per_full_scale,
};

/// How long a change of the rig takes to glide in, milliseconds.
const RIG_RAMP_MS: f64 = 10.0;
/// Samples filtered at a time (the scratch the pressure signals are made in).
const CHUNK: usize = 256;

/// The rig's two pressure filters at one rate, in pascals per unit of full scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplDesign {
    pub eardrum: Coefficients,
    pub diffuse: Coefficients,
    /// Pascals at the eardrum per unit of full scale at 1 kHz on an ideal source.
    pub pa_per_fs: f64,
    /// The rig IEM's passive isolation from the catalog, if it has one, dB.
    pub isolation_db: Option<f64>,
    /// Largest deviation of either filter from its target over 20 Hz–20 kHz, dB.
    pub fit_error_db: f64,
}

/// Scales a design's output by `k` (every weight but the DC section's, which is a ratio).
fn scaled(c: &Coefficients, k: f64) -> Coefficients {
    Coefficients {
        b0: c.b0.map(|b| b * k),
        b1: c.b1.map(|b| b * k),
        fir: c.fir.map(|b| b * k),
        ..*c
    }
}

/// Designs the rig's pressure filters at `sample_rate_hz` (allocates; not on the audio thread).
pub fn design_spl(rig: &Chain, sample_rate_hz: f64) -> SplDesign {
    let corners = (highpass_corner_hz(rig), None);
    let eardrum = fit_magnitude(&|hz| eardrum_magnitude(rig, hz), corners, sample_rate_hz);
    let diffuse = fit_magnitude(&|hz| diffuse_magnitude(rig, hz), corners, sample_rate_hz);
    let pa_per_fs = pascals_per_full_scale(rig);
    SplDesign {
        eardrum: scaled(&eardrum.coefficients, pa_per_fs),
        diffuse: scaled(&diffuse.coefficients, pa_per_fs),
        pa_per_fs,
        isolation_db: rig.iem.isolation_db,
        fit_error_db: eardrum.error_db.max(diffuse.error_db),
    }
}

/// The readings of both ears, for the editor and the front ends.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SplReadings {
    /// Whether the rig's filters are in place (false until the first design arrives).
    pub ready: bool,
    /// Ears metered (1 for a mono feed).
    pub ears: usize,
    pub ear: [EarReadings; EARS],
    /// Seconds measured since the last reset, and when that was (Unix seconds, UTC).
    pub seconds: f64,
    pub reset_unix_s: Option<f64>,
    /// The stage leak added to the exposure, dBA (`None`: stage mode off).
    pub leak_dba: Option<f64>,
    /// The isolation the leak was computed with, dB.
    pub isolation_db: f64,
    /// Pascals per unit of full scale the rig delivers.
    pub pa_per_fs: f64,
}

/// The SPL meter on the audio thread.
pub struct SplStage {
    sample_rate_hz: f64,
    eardrum: BankFilter,
    diffuse: BankFilter,
    ears: [EarMeter; EARS],
    design: Option<SplDesign>,
    seconds: f64,
    reset_unix_s: Option<f64>,
    scratch: Box<[[f32; CHUNK]; 2 * EARS]>,
    /// The store generations last seen.
    seen: (u64, u64),
    leak_dba: Option<f64>,
    isolation_db: f64,
}

impl SplStage {
    pub fn new(sample_rate_hz: f64) -> Self {
        let ramp = (RIG_RAMP_MS / 1000.0 * sample_rate_hz).round() as u32;
        Self {
            sample_rate_hz,
            eardrum: BankFilter::new(sample_rate_hz, ramp),
            diffuse: BankFilter::new(sample_rate_hz, ramp),
            ears: std::array::from_fn(|_| EarMeter::new(sample_rate_hz)),
            design: None,
            seconds: 0.0,
            reset_unix_s: None,
            scratch: Box::new([[0.0; CHUNK]; 2 * EARS]),
            seen: (0, 0),
            leak_dba: None,
            isolation_db: 0.0,
        }
    }

    /// Take the rig's design (the first settles, later ones glide).
    pub fn set_design(&mut self, design: &SplDesign) {
        if self.design.as_ref() == Some(design) {
            return;
        }
        if self.design.is_some() {
            self.eardrum.set_target(&design.eardrum);
            self.diffuse.set_target(&design.diffuse);
        } else {
            self.eardrum.settle(&design.eardrum);
            self.diffuse.settle(&design.diffuse);
        }
        self.design = Some(*design);
    }

    /// The rig IEM's catalog isolation, if the design has come and the IEM has one.
    pub fn catalog_isolation_db(&self) -> Option<f64> {
        self.design.and_then(|d| d.isolation_db)
    }

    /// Stage mode for the next blocks: the leak's level (dBA) and the isolation it came from, or
    /// `None`.
    pub fn set_stage(&mut self, leak: Option<(f64, f64)>) {
        self.leak_dba = leak.map(|(l, _)| l);
        self.isolation_db = leak.map_or(self.isolation_db, |(_, i)| i);
    }

    /// Forget the signal (filters, time weightings); the totals stay.
    pub fn clear_history(&mut self) {
        self.eardrum.clear_state();
        self.diffuse.clear_state();
        for ear in &mut self.ears {
            ear.clear_history();
        }
    }

    /// Continue from a loaded or reset record.
    pub fn restore(&mut self, totals: &ExposureTotals) {
        self.seconds = totals.seconds;
        self.reset_unix_s = totals.reset_unix_s;
        for (ear, t) in self.ears.iter_mut().zip(&totals.ears) {
            ear.restore(*t);
        }
    }

    /// Continue from what `store` holds now (a new engine on an existing instance).
    pub fn attach(&mut self, store: &ExposureStore) {
        let (totals, seen) = store.attach();
        self.seen = seen;
        if totals.is_valid() {
            self.restore(&totals);
        }
    }

    /// Follow the store: a load or a reset since the last block.
    pub fn sync(&mut self, store: &ExposureStore) {
        if let Some(totals) = store.take_restore(&mut self.seen)
            && totals.is_valid()
        {
            self.restore(&totals);
        }
    }

    /// The totals since the last reset.
    pub fn totals(&self) -> ExposureTotals {
        ExposureTotals {
            seconds: self.seconds,
            ears: std::array::from_fn(|e| self.ears[e].totals()),
            reset_unix_s: self.reset_unix_s,
        }
    }

    /// Meter a block of what leaves the plugin (one slice per channel; the first two are the
    /// ears). Nothing is measured until the rig's design has come.
    pub fn process<C: AsRef<[f32]>>(&mut self, channels: &[C]) {
        if self.design.is_none() {
            return;
        }
        let ears = channels.len().min(EARS);
        let len = channels.first().map_or(0, |c| c.as_ref().len());
        let leak_pa2 = self.leak_dba.map_or(0.0, mean_square_pa2);
        let (eardrum, diffuse) = self.scratch.split_at_mut(EARS);
        for start in (0..len).step_by(CHUNK) {
            let end = (start + CHUNK).min(len);
            let n = end - start;
            for e in 0..ears {
                let x = &channels[e].as_ref()[start..end];
                eardrum[e][..n].copy_from_slice(x);
                diffuse[e][..n].copy_from_slice(x);
            }
            let [e0, e1] = eardrum else { unreachable!() };
            let [d0, d1] = diffuse else { unreachable!() };
            let mut e_views: [&mut [f32]; EARS] = [&mut e0[..n], &mut e1[..n]];
            let mut d_views: [&mut [f32]; EARS] = [&mut d0[..n], &mut d1[..n]];
            self.eardrum.process(&mut e_views[..ears]);
            self.diffuse.process(&mut d_views[..ears]);
            for ((meter, e), d) in self.ears.iter_mut().zip(&e_views).zip(&d_views).take(ears) {
                meter.push(e, d, 1.0, leak_pa2);
            }
        }
        self.seconds += len as f64 / self.sample_rate_hz;
    }

    /// Readings now, for `ears` ears.
    pub fn readings(&self, ears: usize) -> SplReadings {
        SplReadings {
            ready: self.design.is_some(),
            ears: ears.min(EARS),
            ear: std::array::from_fn(|e| {
                let leak_pa2 = self.leak_dba.map_or(0.0, mean_square_pa2);
                self.ears[e].readings(self.seconds, leak_pa2)
            }),
            seconds: self.seconds,
            reset_unix_s: self.reset_unix_s,
            leak_dba: self.leak_dba,
            isolation_db: self.isolation_db,
            pa_per_fs: self.design.map_or(0.0, |d| d.pa_per_fs),
        }
    }
}
