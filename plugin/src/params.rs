//! Host-automatable parameters. The `#[id]` strings are part of saved projects and host
//! automation lanes: never rename one once it has shipped.

use nice_plug::prelude::*;

use crate::design::handoff::{AuditionChains, AuditionValues};
use crate::dsp::StageSettings;
use crate::dsp::audition::{AuditionSettings, Selection};
use crate::model::Chain;
use crate::model::audition::{
    CEILING_DB, ChainValues, DEFAULT_CEILING_DB, LevelMatch, Mode, OUTPUT_OHMS, SERIES_OHMS,
    SHUNT_OHMS, VOLUME_DB,
};
use crate::model::delivery::{CEILING_DBTP, DeliveryTarget, PRESETS, TARGET_LUFS};
use crate::model::spl::{
    AMBIENT_DBA, DEFAULT_AMBIENT_DBA, DEFAULT_ISOLATION_DB, DEFAULT_REFERENCE_DBA, ISOLATION_DB,
    REFERENCE_DBA,
};
use crate::model::units::Range;
use std::sync::Arc;

use crate::persist::{
    Monitoring, StateFormat, Stored, StoredAuditions, default_auditions, default_chain,
};

/// Lowest output trim, dB.
pub const TRIM_MIN_DB: f32 = -24.0;
/// Highest output trim, dB.
pub const TRIM_MAX_DB: f32 = 12.0;
/// Range of the over threshold, dBTP (the meter's rule).
pub const OVER_THRESHOLD_MIN_DBTP: f32 = crate::dsp::meter::OVER_THRESHOLD_DBTP.min as f32;
pub const OVER_THRESHOLD_MAX_DBTP: f32 = crate::dsp::meter::OVER_THRESHOLD_DBTP.max as f32;

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

    /// Bypass: the feed passes unchanged, bit for bit (after a 10 ms crossfade). The host's own
    /// bypass switch drives it.
    #[id = "bypass"]
    pub bypass: BoolParam,

    /// What the user hears: the rig as it is, or the rig made to sound as audition chain A or B.
    #[id = "listen"]
    pub listen: EnumParam<Listen>,

    /// Coloration (level-matched) or level (with the level change, within the ceiling).
    #[id = "aud_mode"]
    pub mode: EnumParam<AuditionModeParam>,

    /// What "level-matched" means in coloration mode.
    #[id = "aud_match"]
    pub level_match: EnumParam<LevelMatchParam>,

    /// The audition never boosts any frequency by more than this, dB: it is someone's ears.
    #[id = "aud_ceil"]
    pub ceiling_db: FloatParam,

    /// Audition chain A's live values.
    #[nested(id_prefix = "a", group = "Audition A")]
    pub a: ChainParams,

    /// Audition chain B's live values.
    #[nested(id_prefix = "b", group = "Audition B")]
    pub b: ChainParams,

    /// The user's playback chain, the *rig* (IEM, source, attenuator, cable), with any imported
    /// curve, saved with the project. Written by the editor on the GUI thread and by the host's
    /// state load; the audio thread only reads its revision.
    #[persist = "chain"]
    pub chain: Stored<Chain>,

    /// The audition chains as picked (catalog entries, the capacitor of a barrel adapter); their
    /// live values are the parameters `a` and `b`. Same threads as `chain`.
    #[persist = "audition"]
    pub audition: Stored<StoredAuditions>,

    /// The target of the reference level: LAeq at the eardrum for −20 dBFS RMS pink noise, dBA.
    #[id = "ref_level"]
    pub reference_dba: FloatParam,

    /// Stage mode: the ambient sound leaking past the IEMs joins the exposure.
    #[id = "stage"]
    pub stage: BoolParam,

    /// The stage's ambient level, dBA.
    #[id = "stage_amb"]
    pub ambient_dba: FloatParam,

    /// The IEMs' passive isolation, dB (used when the catalog has no figure, or when the user
    /// prefers their own).
    #[id = "stage_iso"]
    pub isolation_db: FloatParam,

    /// Use the rig IEM's catalog isolation when it has one.
    #[id = "stage_iso_cat"]
    pub isolation_from_catalog: BoolParam,

    /// The delivery target the loudness readings and the history are judged against.
    #[id = "target"]
    pub target: EnumParam<TargetParam>,

    /// A custom target's integrated loudness and true-peak ceiling.
    #[id = "target_lufs"]
    pub target_lufs: FloatParam,
    #[id = "target_tp"]
    pub target_ceiling_dbtp: FloatParam,

    /// Start the measurement again when the host's transport starts.
    #[id = "reset_play"]
    pub reset_on_play: BoolParam,

    /// Hold the loudness measurement (and the history) while the host's transport is stopped.
    #[id = "pause_stop"]
    pub pause_when_stopped: BoolParam,

    /// The exposure since the last reset (saved with the project) and the calibration noise's
    /// switch (never saved, and off after every state load).
    #[persist = "exposure"]
    pub monitoring: Monitoring,

    /// The saved state's format (`state::FORMAT`).
    #[persist = "format"]
    pub format: StateFormat,

    /// What the last state load could not restore (set to the defaults instead), for the editor.
    #[persist = "load_report"]
    pub load_report: Stored<Vec<String>>,
}

/// The delivery target: off, one of the presets (`model::delivery::PRESETS`, in order), or the
/// user's own.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum TargetParam {
    #[id = "off"]
    Off,
    #[id = "ebu-r128"]
    #[name = "EBU R 128 (-23 LUFS)"]
    EbuR128,
    #[id = "atsc-a85"]
    #[name = "ATSC A/85 (-24 LKFS)"]
    AtscA85,
    #[id = "streaming"]
    #[name = "Streaming (-14 LUFS)"]
    Streaming,
    #[id = "apple-music"]
    #[name = "Apple Music (-16 LUFS)"]
    AppleMusic,
    #[id = "podcast"]
    #[name = "Podcast (-16 LUFS)"]
    Podcast,
    #[id = "podcast-mono"]
    #[name = "Podcast, mono (-19 LUFS)"]
    PodcastMono,
    #[id = "custom"]
    Custom,
}

impl EarstageParams {
    /// The delivery target chosen, if any.
    pub fn delivery_target(&self) -> Option<DeliveryTarget> {
        let preset = |key: &str| PRESETS.iter().copied().find(|p| p.key == key);
        match self.target.value() {
            TargetParam::Off => None,
            TargetParam::EbuR128 => preset("ebu-r128"),
            TargetParam::AtscA85 => preset("atsc-a85"),
            TargetParam::Streaming => preset("streaming"),
            TargetParam::AppleMusic => preset("apple-music"),
            TargetParam::Podcast => preset("podcast"),
            TargetParam::PodcastMono => preset("podcast-mono"),
            TargetParam::Custom => DeliveryTarget::custom(
                f64::from(self.target_lufs.value()),
                f64::from(self.target_ceiling_dbtp.value()),
            )
            .ok(),
        }
    }
}

/// The Rig / A / B switch.
#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum Listen {
    #[id = "rig"]
    Rig,
    #[id = "a"]
    A,
    #[id = "b"]
    B,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuditionModeParam {
    #[id = "coloration"]
    #[name = "Coloration (level-matched)"]
    Coloration,
    #[id = "level"]
    #[name = "Level (with the level change)"]
    Level,
}

#[derive(Enum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LevelMatchParam {
    #[id = "pink"]
    #[name = "Pink noise, K-weighted"]
    PinkLoudness,
    #[id = "1k"]
    #[name = "1 kHz"]
    OneKilohertz,
}

/// The live values of one audition chain.
#[derive(Params)]
pub struct ChainParams {
    /// The source's output impedance, Ω.
    #[id = "zo"]
    pub output_ohms: FloatParam,
    /// The attenuator's or adapter's series resistance, Ω (0: none).
    #[id = "ra"]
    pub series_ohms: FloatParam,
    /// The L-pad's shunt resistance, Ω; at the top of the range, no shunt (a series adapter).
    #[id = "rb"]
    pub shunt_ohms: FloatParam,
    /// The source's volume, dB.
    #[id = "vol"]
    pub volume_db: FloatParam,
}

impl ChainParams {
    fn new(label: &str, values: &ChainValues) -> Self {
        let ohms = |name: &str, range: Range, default: f64| {
            FloatParam::new(
                format!("{label} {name}"),
                default as f32,
                FloatRange::Skewed {
                    min: range.min as f32,
                    max: range.max as f32,
                    factor: FloatRange::skew_factor(-2.0),
                },
            )
            .with_unit(" Ω")
            .with_value_to_string(formatters::v2s_f32_rounded(2))
        };
        Self {
            output_ohms: ohms("Output Impedance", OUTPUT_OHMS, values.output_ohms),
            series_ohms: ohms("Series R", SERIES_OHMS, values.series_ohms),
            shunt_ohms: ohms(
                "Shunt R",
                SHUNT_OHMS,
                values.shunt_ohms.unwrap_or(SHUNT_OHMS.max),
            )
            .with_value_to_string(Arc::new(|v| {
                if shunt_from_param(v).is_none() {
                    "open".into()
                } else {
                    format!("{v:.2}")
                }
            }))
            .with_string_to_value(Arc::new(shunt_from_text)),
            volume_db: db_param(&format!("{label} Volume"), values.volume_db, VOLUME_DB, 0.1),
        }
    }

    /// The values now.
    pub fn values(&self) -> ChainValues {
        ChainValues {
            output_ohms: f64::from(self.output_ohms.value()),
            series_ohms: f64::from(self.series_ohms.value()),
            shunt_ohms: shunt_from_param(self.shunt_ohms.value()),
            volume_db: f64::from(self.volume_db.value()),
        }
    }
}

/// A level in dB over `range`, linear, in steps of `step_db`.
fn db_param(name: &str, default_db: f64, range: Range, step_db: f32) -> FloatParam {
    FloatParam::new(
        name,
        default_db as f32,
        FloatRange::Linear {
            min: range.min as f32,
            max: range.max as f32,
        },
    )
    .with_unit(" dB")
    .with_step_size(step_db)
    .with_value_to_string(formatters::v2s_f32_rounded(1))
}

/// A level over `range` in steps of 0.5, with `unit`.
fn level_param(name: &str, default: f64, range: Range, unit: &'static str) -> FloatParam {
    db_param(name, default, range, 0.5).with_unit(unit)
}

/// The shunt parameter's text as a value: "open" (or "∞", "inf"; what the value's text says at
/// the top) or a resistance, with or without the unit.
fn shunt_from_text(text: &str) -> Option<f32> {
    let number = text.trim().trim_end_matches('Ω').trim();
    if ["open", "∞", "inf"]
        .iter()
        .any(|word| number.eq_ignore_ascii_case(word))
    {
        return Some(SHUNT_OHMS.max as f32);
    }
    number.parse().ok()
}

/// The shunt parameter's value as a resistance; its top means "no shunt".
pub fn shunt_from_param(value: f32) -> Option<f64> {
    (f64::from(value) < SHUNT_OHMS.max * 0.999).then_some(f64::from(value))
}

impl Default for EarstageParams {
    fn default() -> Self {
        let auditions = default_auditions();
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
            bypass: BoolParam::new("Bypass", false).make_bypass(),
            listen: EnumParam::new("Listen", Listen::Rig),
            mode: EnumParam::new("Audition Mode", AuditionModeParam::Coloration),
            level_match: EnumParam::new("Level Match", LevelMatchParam::PinkLoudness),
            ceiling_db: db_param("Boost Ceiling", DEFAULT_CEILING_DB, CEILING_DB, 0.5),
            a: ChainParams::new("A", &auditions.a.values()),
            b: ChainParams::new("B", &auditions.b.values()),
            chain: Stored::new(default_chain()),
            audition: Stored::new(auditions),
            reference_dba: level_param(
                "Reference Level",
                DEFAULT_REFERENCE_DBA,
                REFERENCE_DBA,
                " dBA",
            ),
            stage: BoolParam::new("Stage Mode", false),
            ambient_dba: level_param("Stage Ambient", DEFAULT_AMBIENT_DBA, AMBIENT_DBA, " dBA"),
            isolation_db: level_param("IEM Isolation", DEFAULT_ISOLATION_DB, ISOLATION_DB, " dB"),
            isolation_from_catalog: BoolParam::new("Isolation From Catalog", true),
            target: EnumParam::new("Delivery Target", TargetParam::Off),
            target_lufs: level_param("Target Loudness", -18.0, TARGET_LUFS, " LUFS"),
            target_ceiling_dbtp: level_param("Target Ceiling", -1.0, CEILING_DBTP, " dBTP"),
            reset_on_play: BoolParam::new("Reset On Play", false),
            pause_when_stopped: BoolParam::new("Pause When Stopped", false),
            monitoring: Monitoring::default(),
            format: StateFormat,
            load_report: Stored::new(Vec::new()),
        }
    }
}

impl EarstageParams {
    /// The audition's live settings for the audio thread (lock-free: parameters and revisions).
    pub fn audition_settings(&self) -> AuditionSettings {
        AuditionSettings {
            selection: match self.listen.value() {
                Listen::Rig => Selection::Rig,
                Listen::A => Selection::A,
                Listen::B => Selection::B,
            },
            values: AuditionValues {
                a: self.a.values(),
                b: self.b.values(),
                mode: match self.mode.value() {
                    AuditionModeParam::Coloration => Mode::Coloration,
                    AuditionModeParam::Level => Mode::Level,
                },
                level_match: match self.level_match.value() {
                    LevelMatchParam::PinkLoudness => LevelMatch::PinkLoudness,
                    LevelMatchParam::OneKilohertz => LevelMatch::OneKilohertz,
                },
                ceiling_db: f64::from(self.ceiling_db.value()),
                chains_revision: self.chain.revision() + self.audition.revision(),
            },
        }
    }

    /// Stage mode's values for the audio thread (`None`: off).
    pub fn stage_settings(&self) -> Option<StageSettings> {
        self.stage.value().then(|| StageSettings {
            ambient_dba: f64::from(self.ambient_dba.value()),
            isolation_db: f64::from(self.isolation_db.value()),
            prefer_catalog: self.isolation_from_catalog.value(),
        })
    }

    /// The stored chains, for the designer (takes the locks: not on the audio thread).
    pub fn audition_chains(&self) -> AuditionChains {
        let stored = self.audition.get();
        AuditionChains {
            rig: self.chain.get(),
            a: stored.a,
            b: stored.b,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::catalog::Catalog;

    /// Every parameter's text, with and without its unit, parses back to a value that shows the
    /// same text (what a host's text entry and clap-validator's param-conversions test do), at
    /// both ends of its range and across it.
    #[test]
    fn every_parameter_text_round_trips() {
        let params = EarstageParams::default();
        for (id, ptr, _) in params.param_map() {
            for step in 0..=40 {
                let normalized = step as f32 / 40.0;
                // SAFETY: the pointers come from `params`, which outlives the loop.
                let (with_unit, bare) = unsafe {
                    (
                        ptr.normalized_value_to_string(normalized, true),
                        ptr.normalized_value_to_string(normalized, false),
                    )
                };
                for text in [&with_unit, &bare] {
                    let back = unsafe { ptr.string_to_normalized_value(text) }
                        .unwrap_or_else(|| panic!("{id}: {text:?} does not parse back"));
                    let again = unsafe { ptr.normalized_value_to_string(back, true) };
                    assert_eq!(again, with_unit, "{id}: {text:?}");
                }
            }
        }
    }

    /// The chain is saved with the project and comes back whole into a new instance (what the
    /// host's state save and load do with the persisted fields).
    #[test]
    fn chain_persists() {
        let params = EarstageParams::default();
        {
            let catalog = Catalog::builtin();
            let mut chain = params.chain.get();
            chain.iem = catalog.iem("SE846").unwrap().clone();
            chain.attenuator = catalog.attenuator("75").unwrap().clone();
            chain.source.volume_db = -21.5;
            params.chain.replace(chain);
            let mut auditions = params.audition.get();
            auditions.b.attenuator = catalog.attenuator("barrel").unwrap().clone();
            params.audition.replace(auditions);
        }
        let saved = params.serialize_fields();
        let restored = EarstageParams::default();
        let revision = restored.chain.revision() + restored.audition.revision();
        restored.deserialize_fields(&saved);
        assert_eq!(restored.chain.get(), params.chain.get());
        assert_ne!(restored.chain.get(), default_chain());
        assert_eq!(restored.audition.get(), params.audition.get());
        assert_ne!(restored.audition.get(), default_auditions());
        // A state load is a change the audio thread must see.
        assert!(restored.chain.revision() + restored.audition.revision() > revision);
    }

    /// The parameters' defaults are the default audition chains' own values, and the shunt's
    /// top means "open".
    #[test]
    fn audition_defaults() {
        let params = EarstageParams::default();
        let stored = default_auditions();
        assert_eq!(params.a.values(), stored.a.values());
        assert_eq!(params.b.values(), stored.b.values());
        assert_eq!(params.b.values().series_ohms, 75.0);
        assert_eq!(shunt_from_param(SHUNT_OHMS.max as f32), None);
        assert_eq!(shunt_from_param(2.2), Some(f64::from(2.2f32)));
    }
}
