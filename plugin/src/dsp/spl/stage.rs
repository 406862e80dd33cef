//! Delivered SPL, live: what leaves the plugin, played through the user's rig, as pressure at the
//! eardrum and as its diffuse-field equivalent, metered per ear (docs/spl.md).
//!
//! The rig's pressure responses are realised with the same fixed poles as the audition's filter,
//! fitted off the audio thread (`design::spl`, run by the audition's designer) with the pascals
//! per unit of full scale folded into the weights, so the outputs are pascals; `dsp::spl::pressure`
//! runs them and the weightings. A change of the rig glides like an audition change. Nothing here
//! allocates after construction.

use super::exposure::{EarReadings, EarTotals, ExposureStore, ExposureTotals, ear_readings};
use super::pressure::PressureMeter;
use crate::design::spl::SplDesign;
use crate::dsp::limits::EARS;
use crate::model::spl::mean_square_pa2;

/// How long a change of the rig takes to glide in, milliseconds.
const RIG_RAMP_MS: f64 = 10.0;

/// The readings of both ears, for the editor and the front ends.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SplReadings {
    /// Whether the rig's filters are in place (false until the first design arrives).
    pub ready: bool,
    /// Ears metered (1 for a mono feed).
    pub ears: usize,
    /// Per ear, the totals since the last reset and the time-weighted mean squares now (LAF, LAS,
    /// LCS, diffuse-field LAS, Pa²): plain numbers, so publishing a frame costs no logarithms on
    /// the audio thread; [`SplReadings::ear_readings`] makes the levels.
    pub totals: [EarTotals; EARS],
    pub mean_squares: [[f64; 4]; EARS],
    /// Seconds measured since the last reset, and when that was (Unix seconds, UTC).
    pub seconds: f64,
    pub reset_unix_s: Option<f64>,
    /// The stage leak added to the exposure, dBA (`None`: stage mode off).
    pub leak_dba: Option<f64>,
}

impl SplReadings {
    /// The readings of each ear, in dB and per cent.
    pub fn ear_readings(&self) -> [EarReadings; EARS] {
        let leak_pa2 = self.leak_dba.map_or(0.0, mean_square_pa2);
        std::array::from_fn(|e| {
            ear_readings(
                &self.totals[e],
                self.seconds,
                self.mean_squares[e],
                leak_pa2,
            )
        })
    }
}

/// The SPL meter on the audio thread.
pub struct SplStage {
    sample_rate_hz: f64,
    meter: PressureMeter,
    design: Option<SplDesign>,
    seconds: f64,
    reset_unix_s: Option<f64>,
    /// The store generations last seen.
    seen: (u64, u64),
    leak_dba: Option<f64>,
}

impl SplStage {
    pub fn new(sample_rate_hz: f64) -> Self {
        let ramp = (RIG_RAMP_MS / 1000.0 * sample_rate_hz).round() as u32;
        Self {
            sample_rate_hz,
            meter: PressureMeter::new(sample_rate_hz, ramp),
            design: None,
            seconds: 0.0,
            reset_unix_s: None,
            seen: (0, 0),
            leak_dba: None,
        }
    }

    /// Take the rig's design (the first settles, later ones glide).
    pub fn set_design(&mut self, design: &SplDesign) {
        if self.design.as_ref() == Some(design) {
            return;
        }
        if self.design.is_some() {
            self.meter.set_target(&design.eardrum, &design.diffuse);
        } else {
            self.meter.settle(&design.eardrum, &design.diffuse);
        }
        self.design = Some(*design);
    }

    /// The rig IEM's catalog isolation, if the design has come and the IEM has one.
    pub fn catalog_isolation_db(&self) -> Option<f64> {
        self.design.and_then(|d| d.isolation_db)
    }

    /// Stage mode for the next blocks: the leak's level, dBA (`None`: off).
    pub fn set_stage(&mut self, leak_dba: Option<f64>) {
        self.leak_dba = leak_dba;
    }

    /// Forget the signal (filters, time weightings); the totals stay.
    pub fn clear_history(&mut self) {
        self.meter.clear_history();
    }

    /// Continue from a loaded or reset record.
    pub fn restore(&mut self, totals: &ExposureTotals) {
        self.seconds = totals.seconds;
        self.reset_unix_s = totals.reset_unix_s;
        self.meter.restore(&totals.ears);
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
            ears: self.meter.totals(),
            reset_unix_s: self.reset_unix_s,
        }
    }

    fn leak_pa2(&self) -> f64 {
        self.leak_dba.map_or(0.0, mean_square_pa2)
    }

    /// Meter a block of what leaves the plugin (one slice per channel; the first two are the
    /// ears). Nothing is measured until the rig's design has come.
    pub fn process<C: AsRef<[f32]>>(&mut self, channels: &[C]) {
        if self.design.is_none() {
            return;
        }
        let len = channels.first().map_or(0, |c| c.as_ref().len());
        let mut ears: [&[f32]; EARS] = [&[]; EARS];
        let n = channels.len().min(EARS);
        for (ear, channel) in ears.iter_mut().zip(channels) {
            *ear = channel.as_ref();
        }
        self.meter.process(&ears[..n], self.leak_pa2());
        self.seconds += len as f64 / self.sample_rate_hz;
    }

    /// Readings now, for `ears` ears.
    pub fn readings(&self, ears: usize) -> SplReadings {
        SplReadings {
            ready: self.design.is_some(),
            ears: ears.min(EARS),
            totals: self.meter.totals(),
            mean_squares: std::array::from_fn(|e| self.meter.mean_squares(e)),
            seconds: self.seconds,
            reset_unix_s: self.reset_unix_s,
            leak_dba: self.leak_dba,
        }
    }
}
