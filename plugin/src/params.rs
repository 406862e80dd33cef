//! Host-automatable parameters. The `#[id]` strings are part of saved projects and host
//! automation lanes: never rename one once it has shipped.

use std::sync::{Arc, RwLock};

use nice_plug::prelude::*;

use crate::model::Chain;
use crate::model::catalog::Catalog;

/// Lowest output trim, dB.
pub const TRIM_MIN_DB: f32 = -24.0;
/// Highest output trim, dB.
pub const TRIM_MAX_DB: f32 = 12.0;
/// Range of the over threshold, dBTP.
pub const OVER_THRESHOLD_MIN_DBTP: f32 = -12.0;
pub const OVER_THRESHOLD_MAX_DBTP: f32 = 3.0;

#[derive(Params)]
pub struct EarstageParams {
    /// Output trim after everything else, in dB. 0 dB is an exact pass-through (bit for bit), so
    /// the plugin can sit on a monitor bus without touching the feed. The engine ramps changes over
    /// `dsp::TRIM_RAMP_MS` so automation never clicks.
    #[id = "trim"]
    pub trim_db: FloatParam,

    /// True peaks above this level count as overs and enter the over log, in dBTP. 0 dBTP is
    /// full scale; −1 dBTP leaves the headroom lossy codecs and wireless transmitters need.
    #[id = "over_thr"]
    pub over_threshold_dbtp: FloatParam,

    /// The user's playback chain (IEM, source, attenuator, cable), with any imported curve, saved
    /// with the project. Written by the editor on the GUI thread and by the host's state load;
    /// the audio thread never touches it.
    #[persist = "chain"]
    pub chain: Arc<RwLock<Chain>>,
}

/// The chain a new instance starts with: the catalog's default IEM on its default source.
pub fn default_chain() -> Chain {
    let catalog = Catalog::builtin();
    Chain {
        iem: catalog
            .iem(DEFAULT_IEM)
            .expect("the default IEM is in the catalog")
            .clone(),
        source: catalog
            .source(DEFAULT_SOURCE)
            .expect("the default source is in the catalog")
            .clone(),
        attenuator: crate::model::Attenuator::none(),
        cable: crate::model::Cable::default(),
    }
}

/// Catalog names of the default chain (also the CLI's default).
pub const DEFAULT_IEM: &str = "Campfire Audio Andromeda";
pub const DEFAULT_SOURCE: &str = "Audio interface, 10 Ω headphone out";

impl Default for EarstageParams {
    fn default() -> Self {
        Self {
            trim_db: FloatParam::new(
                "Output Trim",
                0.0,
                FloatRange::Linear {
                    min: TRIM_MIN_DB,
                    max: TRIM_MAX_DB,
                },
            )
            .with_unit(" dB")
            .with_step_size(0.1)
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            over_threshold_dbtp: FloatParam::new(
                "Over Threshold",
                crate::dsp::meter::DEFAULT_OVER_THRESHOLD_DBTP,
                FloatRange::Linear {
                    min: OVER_THRESHOLD_MIN_DBTP,
                    max: OVER_THRESHOLD_MAX_DBTP,
                },
            )
            .with_unit(" dBTP")
            .with_step_size(0.1)
            .with_value_to_string(formatters::v2s_f32_rounded(1)),
            chain: Arc::new(RwLock::new(default_chain())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The chain is saved with the project and comes back whole into a new instance (what the
    /// host's state save and load do with the persisted fields).
    #[test]
    fn chain_persists() {
        let params = EarstageParams::default();
        {
            let catalog = Catalog::builtin();
            let mut chain = params.chain.write().unwrap();
            chain.iem = catalog.iem("SE846").unwrap().clone();
            chain.attenuator = catalog.attenuator("75").unwrap().clone();
            chain.source.volume_db = -21.5;
        }
        let saved = params.serialize_fields();
        let restored = EarstageParams::default();
        restored.deserialize_fields(&saved);
        assert_eq!(
            *restored.chain.read().unwrap(),
            *params.chain.read().unwrap()
        );
        assert_ne!(*restored.chain.read().unwrap(), default_chain());
    }
}
