//! What a user asks of a chain on top of a preset or the catalog: a catalog entry or explicit
//! values for every part, and the rules that combine them into one validated [`Chain`]. The CLI's
//! chain options are parsed into this; errors name each value as the command line spells it.

use std::path::{Path, PathBuf};

use thiserror::Error;

use super::attenuator::{self, Network};
use super::calibration::{DEFAULT_TONE_DBFS, DEFAULT_TONE_HZ, LevelReading, ProbePoint};
use super::catalog::{Catalog, DEFAULT_IEM, DEFAULT_SOURCE, LookupError};
use super::chain::CABLE_OHMS;
use super::curve::FrequencyResponse;
use super::import::{ImportError, read_impedance, read_response};
use super::preset::{Preset, PresetError};
use super::units::{ValueError, parse_volts, today_utc};
use super::volume::VolumeControl;
use super::{Attenuator, Cable, Chain, Iem, ImpedanceModel, Sensitivity, Source, iem, source};

/// Why the requested chain cannot be built.
#[derive(Debug, Error)]
pub enum OverrideError {
    #[error(transparent)]
    Value(#[from] ValueError),
    #[error(transparent)]
    Preset(#[from] PresetError),
    #[error(transparent)]
    Import(#[from] ImportError),
    #[error("{option}: {source}")]
    Lookup {
        option: &'static str,
        source: LookupError,
    },
    #[error("a custom IEM ({name}) needs --iem-sensitivity, e.g. \"112 dB/mW\" or \"131 dB/V\"")]
    MissingSensitivity { name: String },
}

/// An IEM's response for `option`: the file at `path`, which must cover
/// [`iem::RESPONSE_BAND_HZ`], or a flat one where `path` is `flat` and no such file exists.
fn read_tuning(option: &str, path: &Path) -> Result<FrequencyResponse, OverrideError> {
    if path == Path::new("flat") && !path.exists() {
        return Ok(FrequencyResponse::flat());
    }
    let response = read_response(path)?;
    iem::check_covers(&format!("{option} {}", path.display()), &response)?;
    Ok(response)
}

/// A catalog entry found for `option`, or the lookup's error naming the option.
fn found<T: Clone>(
    option: &'static str,
    entry: Result<&T, LookupError>,
) -> Result<T, OverrideError> {
    entry
        .cloned()
        .map_err(|source| OverrideError::Lookup { option, source })
}

/// The requested chain: each part from a preset, a catalog entry or explicit values; explicit
/// values override the entry they modify.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ChainOverrides {
    pub preset: Option<PathBuf>,
    pub iem: Option<String>,
    pub iem_impedance: Option<PathBuf>,
    /// The right earpiece's own impedance (the left is the IEM's).
    pub iem_impedance_right: Option<PathBuf>,
    /// The IEM's response (its tuning) from a file, both earpieces; `flat` for a flat one.
    pub iem_response: Option<PathBuf>,
    /// The right earpiece's own response.
    pub iem_response_right: Option<PathBuf>,
    pub iem_resistance: Option<f64>,
    pub iem_sensitivity: Option<String>,
    pub source: Option<String>,
    pub source_impedance: Option<f64>,
    pub source_vfs: Option<String>,
    pub source_volume: Option<f64>,
    pub source_coupling_cap: Option<f64>,
    pub source_noise: Option<f64>,
    pub source_clip: Option<f64>,
    /// The output stage's current limit, mA rms.
    pub source_max_current: Option<f64>,
    /// How the source's volume is set.
    pub source_volume_control: Option<VolumeControl>,
    /// Bit depth of the digital path (16, 24 or 32).
    pub source_path_bits: Option<u32>,
    pub attenuator: Option<String>,
    /// An L-pad: series and shunt resistors, Ω.
    pub pad: Option<(f64, f64)>,
    pub adapter: Option<f64>,
    pub adapter_cap: Option<f64>,
    pub cable_ohms: Option<f64>,
    /// A multimeter reading of the calibration tone, with where and how it was taken.
    pub level_reading: Option<ReadingOverrides>,
}

/// A level reading as the command line gives it; the tone's level and frequency default to
/// [`DEFAULT_TONE_DBFS`] and [`DEFAULT_TONE_HZ`], the probe point to the open jack.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct ReadingOverrides {
    pub vrms: f64,
    pub at: Option<ProbePoint>,
    pub tone_dbfs: Option<f64>,
    pub tone_hz: Option<f64>,
}

impl ChainOverrides {
    /// True when nothing is asked: the chain is the catalog's default.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }

    /// Builds and validates the chain; nothing is half-applied: any error leaves no chain.
    pub fn resolve(&self, catalog: &Catalog) -> Result<Chain, OverrideError> {
        let preset = match &self.preset {
            Some(path) => Preset::load(path, catalog)?,
            None => Preset::default(),
        };
        let chain = Chain {
            iem: self.resolve_iem(catalog, preset.iem)?,
            source: self.resolve_source(catalog, preset.source)?,
            attenuator: self.resolve_attenuator(catalog, preset.attenuator)?,
            cable: match self.cable_ohms {
                Some(ohms) => Cable {
                    ohms: CABLE_OHMS.check("--cable-ohms", ohms)?,
                },
                None => preset.cable.unwrap_or_default(),
            },
        };
        chain.validate()?;
        match &self.level_reading {
            Some(r) => Ok(chain.calibrated(&LevelReading {
                vrms: r.vrms,
                at: r.at.unwrap_or(ProbePoint::Open),
                tone_dbfs: r.tone_dbfs.unwrap_or(DEFAULT_TONE_DBFS),
                tone_hz: r.tone_hz.unwrap_or(DEFAULT_TONE_HZ),
                volume_db: chain.source.volume_db,
                date: today_utc(),
                spec_vfs_volts: chain.source.vfs_volts,
            })?),
            None => Ok(chain),
        }
    }

    fn resolve_iem(&self, catalog: &Catalog, preset: Option<Iem>) -> Result<Iem, OverrideError> {
        let lookup = |name: &str| found("--iem", catalog.iem(name));
        let custom_impedance = match (&self.iem_impedance, self.iem_resistance) {
            (Some(path), _) => Some((
                ImpedanceModel::Measured {
                    points: read_impedance(path)?,
                },
                path.display().to_string(),
            )),
            (None, Some(ohms)) => {
                let ohms = iem::RESISTANCE_OHMS.check("--iem-resistance", ohms)?;
                Some((
                    ImpedanceModel::Resistive { ohms },
                    format!("resistive {ohms} Ω"),
                ))
            }
            (None, None) => None,
        };
        let sensitivity = self
            .iem_sensitivity
            .as_deref()
            .map(|s| s.parse::<Sensitivity>())
            .transpose()?;
        let mut iem = match (&self.iem, preset, &custom_impedance) {
            (Some(name), ..) => lookup(name)?,
            (None, Some(iem), _) => iem,
            (None, None, None) => lookup(DEFAULT_IEM)?,
            (None, None, Some((impedance, name))) => {
                let Some(sensitivity) = sensitivity else {
                    return Err(OverrideError::MissingSensitivity { name: name.clone() });
                };
                let mut iem = Iem::resistive(1.0, sensitivity);
                iem.name = name.clone();
                iem.impedance = impedance.clone();
                iem
            }
        };
        if let Some((impedance, name)) = custom_impedance {
            iem.impedance = impedance;
            iem.nominal_ohms = iem.impedance(1000.0).norm();
            iem.provenance = format!("user values: impedance from {name}");
            if self.iem.is_some() {
                iem.name = format!("{} ({name})", iem.name);
            }
        }
        if let Some(s) = sensitivity {
            iem.sensitivity = s;
            iem.sensitivity_ref_hz = 1000.0;
        }
        if let Some(path) = &self.iem_response {
            iem.response = Some(read_tuning("--iem-response", path)?);
            iem.right_response = None;
            iem.provenance = format!("{}; tuning from {}", iem.provenance, path.display());
        }
        if let Some(path) = &self.iem_response_right {
            iem.right_response = Some(read_tuning("--iem-response-right", path)?);
            iem.provenance = format!(
                "{}; right earpiece: tuning from {}",
                iem.provenance,
                path.display()
            );
        }
        if let Some(path) = &self.iem_impedance_right {
            iem.right_impedance = Some(ImpedanceModel::Measured {
                points: read_impedance(path)?,
            });
            iem.provenance = format!(
                "{}; right earpiece: impedance from {}",
                iem.provenance,
                path.display()
            );
        }
        Ok(iem)
    }

    fn resolve_source(
        &self,
        catalog: &Catalog,
        preset: Option<Source>,
    ) -> Result<Source, OverrideError> {
        let lookup = |name: &str| found("--source", catalog.source(name));
        // Values given alone modify the source they name (or the preset's, or the default): an
        // override changes only what it names.
        let mut source = match (&self.source, preset) {
            (Some(name), _) => lookup(name)?,
            (None, Some(source)) => source,
            (None, None) => lookup(DEFAULT_SOURCE)?,
        };
        let changed: Vec<&str> = [
            (self.source_impedance.is_some(), "output impedance"),
            (self.source_vfs.is_some(), "full scale"),
            (self.source_volume.is_some(), "volume"),
            (self.source_coupling_cap.is_some(), "coupling capacitor"),
            (self.source_noise.is_some(), "noise"),
            (self.source_clip.is_some(), "clip point"),
            (self.source_max_current.is_some(), "current limit"),
            (self.source_volume_control.is_some(), "volume control"),
            (self.source_path_bits.is_some(), "path bit depth"),
        ]
        .iter()
        .filter_map(|&(given, what)| given.then_some(what))
        .collect();
        if !changed.is_empty() {
            source.name = format!("{}, with your {}", source.name, changed.join(", "));
            source.provenance = format!(
                "{}; {} given by the user",
                source.provenance,
                changed.join(", ")
            );
        }
        if let Some(ohms) = self.source_impedance {
            source.output_ohms = source::OUTPUT_OHMS.check("--source-impedance", ohms)?;
        }
        if let Some(vfs) = &self.source_vfs {
            source.vfs_volts = parse_volts("--source-vfs", vfs)?;
            // A clip point below the new full scale belonged to the old one.
            if self.source_clip.is_none() && source.clip_volts.is_some_and(|c| c < source.vfs_volts)
            {
                source.clip_volts = None;
            }
        }
        if let Some(db) = self.source_volume {
            source.volume_db = source::VOLUME_DB.check("--source-volume", db)?;
        }
        if let Some(uf) = self.source_coupling_cap {
            source.coupling_uf = Some(source::COUPLING_UF.check("--source-coupling-cap", uf)?);
        }
        if let Some(uv) = self.source_noise {
            source.noise_uv = source::NOISE_UV.check("--source-noise", uv)?;
        }
        if let Some(v) = self.source_clip {
            source.clip_volts = Some(source::CLIP_VOLTS.check("--source-clip", v)?);
        }
        if let Some(ma) = self.source_max_current {
            source.max_current_ma = Some(source::MAX_CURRENT_MA.check("--source-max-current", ma)?);
        }
        // Checked when parsed.
        if let Some(control) = self.source_volume_control {
            source.volume_control = Some(control);
        }
        // Checked with the rest of the chain in `resolve`.
        if let Some(bits) = self.source_path_bits {
            source.path_bits = Some(bits);
        }
        Ok(source)
    }

    fn resolve_attenuator(
        &self,
        catalog: &Catalog,
        preset: Option<Attenuator>,
    ) -> Result<Attenuator, OverrideError> {
        let custom = |network: Network, name: String| Attenuator {
            name,
            network,
            provenance: "user values".into(),
        };
        Ok(match (&self.attenuator, self.pad, self.adapter) {
            (Some(name), ..) if name.eq_ignore_ascii_case("none") => Attenuator::none(),
            (Some(name), ..) => found("--attenuator", catalog.attenuator(name))?,
            (None, Some((series, shunt)), _) => {
                let series_ohms = attenuator::SERIES_OHMS.check("--pad-series", series)?;
                let shunt_ohms = attenuator::SHUNT_OHMS.check("--pad-shunt", shunt)?;
                custom(
                    Network::LPad {
                        series_ohms,
                        shunt_ohms,
                    },
                    format!("L-pad {series_ohms} Ω / {shunt_ohms} Ω"),
                )
            }
            (None, None, Some(ohms)) => {
                let ohms = attenuator::SERIES_OHMS.check("--adapter", ohms)?;
                match self.adapter_cap {
                    Some(nf) => {
                        let nanofarads = attenuator::NANOFARADS.check("--adapter-cap", nf)?;
                        custom(
                            Network::SeriesRc { ohms, nanofarads },
                            format!("adapter {ohms} Ω ‖ {nanofarads} nF"),
                        )
                    }
                    None => custom(Network::Series { ohms }, format!("adapter {ohms} Ω")),
                }
            }
            (None, None, None) => preset.unwrap_or_else(Attenuator::none),
        })
    }
}

/// The rig a chain is heard through (`render`): the chain's IEM on its reference (ideal) source
/// unless a source, its impedance or volume, or an attenuator is named.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct RigOverrides {
    pub source: Option<String>,
    pub source_impedance: Option<f64>,
    pub source_volume: Option<f64>,
    pub attenuator: Option<String>,
}

impl RigOverrides {
    /// The rig for `audition`, validated.
    pub fn resolve(&self, audition: &Chain, catalog: &Catalog) -> Result<Chain, OverrideError> {
        let mut rig = audition.reference();
        if let Some(name) = &self.source {
            rig.source = found("--rig-source", catalog.source(name))?;
        }
        if let Some(ohms) = self.source_impedance {
            rig.source.output_ohms = source::OUTPUT_OHMS.check("--rig-source-impedance", ohms)?;
        }
        if let Some(db) = self.source_volume {
            rig.source.volume_db = source::VOLUME_DB.check("--rig-source-volume", db)?;
        }
        if let Some(name) = &self.attenuator {
            rig.attenuator = found("--rig-attenuator", catalog.attenuator(name))?;
        }
        rig.validate()?;
        Ok(rig)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn catalog() -> Catalog {
        Catalog::builtin()
    }

    #[test]
    fn nothing_asked_is_the_catalog_default() {
        let o = ChainOverrides::default();
        assert!(o.is_empty());
        assert_eq!(
            o.resolve(&catalog()).unwrap(),
            catalog().default_chain().unwrap()
        );
    }

    /// Each source option changes its own field of the default source and nothing else (giving
    /// the impedance and full scale together once swapped in a noiseless 0 dB "custom source").
    #[test]
    fn each_source_option_changes_only_its_field() {
        let base = catalog().default_chain().unwrap().source;
        type Change = fn(&mut Source);
        let cases: [(ChainOverrides, Change); 6] = [
            (
                ChainOverrides {
                    source_impedance: Some(base.output_ohms + 7.0),
                    ..Default::default()
                },
                |s| s.output_ohms += 7.0,
            ),
            (
                ChainOverrides {
                    source_vfs: Some("1.0".into()),
                    ..Default::default()
                },
                |s| s.vfs_volts = 1.0,
            ),
            (
                ChainOverrides {
                    source_volume: Some(-3.0),
                    ..Default::default()
                },
                |s| s.volume_db = -3.0,
            ),
            (
                ChainOverrides {
                    source_coupling_cap: Some(220.0),
                    ..Default::default()
                },
                |s| s.coupling_uf = Some(220.0),
            ),
            (
                ChainOverrides {
                    source_noise: Some(1.5),
                    ..Default::default()
                },
                |s| s.noise_uv = 1.5,
            ),
            (
                ChainOverrides {
                    source_clip: Some(9.0),
                    ..Default::default()
                },
                |s| s.clip_volts = Some(9.0),
            ),
        ];
        for (overrides, change) in cases {
            let got = overrides.resolve(&catalog()).unwrap().source;
            let mut want = base.clone();
            change(&mut want);
            assert_eq!(
                (got.vfs_volts, got.volume_db, got.output_ohms),
                (want.vfs_volts, want.volume_db, want.output_ohms),
                "{overrides:?}"
            );
            assert_eq!(
                (got.coupling_uf, got.clip_volts, got.noise_uv),
                (want.coupling_uf, want.clip_volts, want.noise_uv),
                "{overrides:?}"
            );
            assert!(got.name.starts_with(&base.name), "{}", got.name);
        }
        // Both at once: still the default source with those two values.
        let both = ChainOverrides {
            source_impedance: Some(base.output_ohms),
            source_vfs: Some("1.0".into()),
            ..Default::default()
        }
        .resolve(&catalog())
        .unwrap()
        .source;
        assert_eq!(both.volume_db, base.volume_db);
        assert_eq!(both.noise_uv, base.noise_uv);
        assert_eq!(both.output_ohms, base.output_ohms);
        assert_eq!(both.vfs_volts, 1.0);
    }

    #[test]
    fn explicit_values_override_the_entry() {
        let o = ChainOverrides {
            source: Some("Audio interface, low-Z headphone out".into()),
            source_volume: Some(-20.0),
            adapter: Some(75.0),
            ..Default::default()
        };
        let chain = o.resolve(&catalog()).unwrap();
        assert_eq!(chain.source.volume_db, -20.0);
        assert_eq!(
            chain.source.output_ohms,
            catalog()
                .source("Audio interface, low-Z headphone out")
                .unwrap()
                .output_ohms
        );
        assert_eq!(chain.attenuator.network, Network::Series { ohms: 75.0 });
    }

    #[test]
    fn each_range_is_the_models() {
        for (o, option, range) in [
            (
                ChainOverrides {
                    source_volume: Some(source::VOLUME_DB.max + 1.0),
                    ..Default::default()
                },
                "--source-volume",
                source::VOLUME_DB,
            ),
            (
                ChainOverrides {
                    cable_ohms: Some(-1.0),
                    ..Default::default()
                },
                "--cable-ohms",
                CABLE_OHMS,
            ),
            (
                ChainOverrides {
                    pad: Some((10.0, 0.0)),
                    ..Default::default()
                },
                "--pad-shunt",
                attenuator::SHUNT_OHMS,
            ),
        ] {
            let Err(OverrideError::Value(e)) = o.resolve(&catalog()) else {
                panic!("{option}: accepted");
            };
            assert_eq!(e.what, option);
            assert_eq!(
                e.reason,
                format!("allowed range is {} to {}", range.min, range.max)
            );
        }
    }

    #[test]
    fn the_rig_defaults_to_the_reference_and_checks_its_ranges() {
        let chain = catalog().default_chain().unwrap();
        let rig = RigOverrides::default().resolve(&chain, &catalog()).unwrap();
        assert_eq!(rig, chain.reference());
        let bad = RigOverrides {
            source_impedance: Some(-1.0),
            ..Default::default()
        };
        let Err(OverrideError::Value(e)) = bad.resolve(&chain, &catalog()) else {
            panic!("a negative impedance was accepted");
        };
        assert_eq!(e.what, "--rig-source-impedance");
    }

    #[test]
    fn a_custom_iem_needs_a_sensitivity() {
        let o = ChainOverrides {
            iem_resistance: Some(16.0),
            ..Default::default()
        };
        assert!(matches!(
            o.resolve(&catalog()),
            Err(OverrideError::MissingSensitivity { .. })
        ));
    }
}
