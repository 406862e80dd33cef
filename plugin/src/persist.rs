//! What a project saves besides the parameters, and how: the saved state's format version, the
//! keys of the persisted fields, the revision-counted stored values the editor writes and the
//! audio thread watches, the monitoring record (exposure and the calibration noise's switch), and
//! the values a new instance starts with. `state.rs` repairs loaded states against these.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, RwLock};

use nice_plug::params::persist::PersistentField;
use serde::{Deserialize, Serialize};

use atomic_float::AtomicF32;

use crate::dsp::signal::tone::ToneSettings;
use crate::dsp::spl::exposure::{ExposureStore, ExposureTotals};
use crate::model::Chain;
use crate::model::audition::AuditionChain;
use crate::model::catalog::Catalog;
use crate::model::spl::PinkBand;

/// The format this version writes. Format 0 is Earstage 0.1.0's, which had no format field
/// (`tests/data/state/format-0.json` is one, and must keep loading). Format 2 added the delivery
/// target and the transport options ([`PARAMS_ADDED`]).
pub const FORMAT: u32 = 2;
/// Parameters added after format 0, with the format that added them: a state of an older format
/// lacks them by design, so they take their defaults without a word.
pub const PARAMS_ADDED: [(&str, u32); 5] = [
    ("target", 2),
    ("target_lufs", 2),
    ("target_tp", 2),
    ("reset_play", 2),
    ("pause_stop", 2),
];
/// The persisted fields' keys (the `#[persist = "…"]` names in `params.rs`; a test checks that they
/// agree). The rig.
pub const CHAIN_KEY: &str = "chain";
/// The audition chains as picked.
pub const AUDITION_KEY: &str = "audition";
/// The exposure record.
pub const EXPOSURE_KEY: &str = "exposure";
/// The state's format.
pub const FORMAT_KEY: &str = "format";
/// The load report, from `state::repair` to the instance.
pub const REPORT_KEY: &str = "load_report";

/// The format a state was saved in; it is read by `state::repair`, so a load does nothing with it.
#[derive(Debug, Default)]
pub struct StateFormat;

impl<'a> PersistentField<'a, u32> for StateFormat {
    fn set(&self, _saved: u32) {}

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&u32) -> R,
    {
        f(&FORMAT)
    }
}

/// A value saved with the project that counts its revisions: every write (by the editor or by a
/// state load) bumps the count, so the audio thread can tell that it changed without reading it.
#[derive(Debug)]
pub struct Stored<T> {
    value: RwLock<T>,
    revision: AtomicU64,
}

impl<T: Clone> Stored<T> {
    pub fn new(value: T) -> Self {
        Self {
            value: RwLock::new(value),
            revision: AtomicU64::new(0),
        }
    }

    /// A copy of the value (GUI or background thread: it takes the lock).
    pub fn get(&self) -> T {
        match self.value.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Replace the value and bump the revision (written with Release after the value).
    pub fn replace(&self, value: T) {
        match self.value.write() {
            Ok(mut guard) => *guard = value,
            Err(poisoned) => *poisoned.into_inner() = value,
        }
        self.revision.fetch_add(1, Ordering::Release);
    }

    /// How many times the value was replaced (any thread; lock-free).
    pub fn revision(&self) -> u64 {
        self.revision.load(Ordering::Acquire)
    }
}

impl<'a, T> PersistentField<'a, T> for Stored<T>
where
    T: Serialize + Deserialize<'a> + Send + Sync + Clone,
{
    fn set(&self, new_value: T) {
        self.replace(new_value);
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&T) -> R,
    {
        match self.value.read() {
            Ok(guard) => f(&guard),
            Err(poisoned) => f(&poisoned.into_inner()),
        }
    }
}

/// The audition chains A and B as stored with the project.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StoredAuditions {
    pub a: AuditionChain,
    pub b: AuditionChain,
}

/// The default audition chains: A, the rig's IEM on a low-impedance interface output; B, the
/// rig's source behind a 75 Ω series adapter.
pub fn default_auditions() -> StoredAuditions {
    let catalog = Catalog::builtin();
    let rig = default_chain();
    let mut a = AuditionChain::from_rig(&rig);
    a.source = catalog
        .source(DEFAULT_AUDITION_A_SOURCE)
        .expect("the default audition source is in the catalog")
        .clone();
    let mut b = AuditionChain::from_rig(&rig);
    b.attenuator = catalog
        .attenuator(DEFAULT_AUDITION_B_ATTENUATOR)
        .expect("the default audition adapter is in the catalog")
        .clone();
    StoredAuditions { a, b }
}

/// Catalog names of the default audition chains.
pub const DEFAULT_AUDITION_A_SOURCE: &str = "Audio interface, low-Z headphone out";
pub const DEFAULT_AUDITION_B_ATTENUATOR: &str = "Series adapter 75 Ω";

/// The chain a new instance starts with: the catalog's default chain.
pub fn default_chain() -> Chain {
    Catalog::builtin()
        .default_chain()
        .expect("the default chain is in the built-in catalog (checked by the tests)")
}

/// The monitoring state outside the parameters: the exposure store shared with the audio thread,
/// and the switch of the calibration noise or tone (one at a time).
#[derive(Debug, Default)]
pub struct Monitoring {
    pub exposure: Arc<ExposureStore>,
    /// 0: off, 1: pink full band, 2: pink 500 Hz–2 kHz, 3: the tone. Written by the editor, read
    /// by the audio thread.
    generator: AtomicU8,
    /// The tone's frequency (Hz) and level (dBFS), read when the switch says tone.
    tone_hz: AtomicF32,
    tone_dbfs: AtomicF32,
}

/// The switch's code for the tone.
const TONE: u8 = 3;

impl Monitoring {
    /// The calibration noise that replaces the feed, if on.
    pub fn generator(&self) -> Option<PinkBand> {
        match self.generator.load(Ordering::Relaxed) {
            1 => Some(PinkBand::Full),
            2 => Some(PinkBand::Mid),
            _ => None,
        }
    }

    /// Switch the noise (the tone goes off).
    pub fn set_generator(&self, band: Option<PinkBand>) {
        let code = match band {
            None => 0,
            Some(PinkBand::Full) => 1,
            Some(PinkBand::Mid) => 2,
        };
        self.generator.store(code, Ordering::Relaxed);
    }

    /// The calibration tone that replaces the output, if on.
    pub fn tone(&self) -> Option<ToneSettings> {
        (self.generator.load(Ordering::Acquire) == TONE).then(|| ToneSettings {
            hz: f64::from(self.tone_hz.load(Ordering::Relaxed)),
            dbfs: f64::from(self.tone_dbfs.load(Ordering::Relaxed)),
        })
    }

    /// Switch the tone (the noise goes off); `None` switches off only a tone.
    pub fn set_tone(&self, tone: Option<ToneSettings>) {
        match tone {
            Some(t) => {
                self.tone_hz.store(t.hz as f32, Ordering::Relaxed);
                self.tone_dbfs.store(t.dbfs as f32, Ordering::Relaxed);
                self.generator.store(TONE, Ordering::Release);
            }
            None => {
                let _ =
                    self.generator
                        .compare_exchange(TONE, 0, Ordering::Relaxed, Ordering::Relaxed);
            }
        }
    }
}

/// The exposure is saved with the project; a load restores it (a record that is not valid counts
/// as none: the exposure starts from zero) and switches the calibration noise off.
impl<'a> PersistentField<'a, ExposureTotals> for Monitoring {
    fn set(&self, new_value: ExposureTotals) {
        self.set_generator(None);
        if new_value.is_valid() {
            self.exposure.restore(&new_value);
        } else {
            self.exposure.restore(&ExposureTotals::default());
        }
    }

    fn map<F, R>(&self, f: F) -> R
    where
        F: Fn(&ExposureTotals) -> R,
    {
        f(&self.exposure.saved())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The noise and the tone are one switch: turning one on turns the other off, and switching
    /// the tone off leaves a noise alone.
    #[test]
    fn noise_and_tone_are_one_switch() {
        let m = Monitoring::default();
        let tone = ToneSettings {
            hz: 400.0,
            dbfs: -20.0,
        };
        m.set_generator(Some(PinkBand::Full));
        m.set_tone(None);
        assert_eq!(m.generator(), Some(PinkBand::Full));
        m.set_tone(Some(tone));
        assert_eq!((m.generator(), m.tone()), (None, Some(tone)));
        m.set_generator(Some(PinkBand::Mid));
        assert_eq!((m.generator(), m.tone()), (Some(PinkBand::Mid), None));
        m.set_tone(Some(tone));
        m.set_tone(None);
        assert_eq!((m.generator(), m.tone()), (None, None));
    }
}
