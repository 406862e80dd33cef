//! The chain options shared by `chain` (and the commands that simulate a chain): a catalog entry
//! or explicit values for every part, resolved into a validated [`Chain`].

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::Args;
use earstage::model::attenuator::Network;
use earstage::model::catalog::Catalog;
use earstage::model::import::read_impedance;
use earstage::model::preset::Preset;
use earstage::model::units::{check_range, parse_volts};
use earstage::model::{Attenuator, Cable, Chain, Iem, ImpedanceModel, Sensitivity, Source};

/// The chain `earstage` uses when none is named: the plugin's default.
pub use earstage::params::{DEFAULT_IEM, DEFAULT_SOURCE};

#[derive(Args, Debug, Default, Clone)]
pub struct ChainArgs {
    /// Start from a preset file (TOML: [iem], [source], [attenuator], [cable]); options below
    /// override it.
    #[arg(long, value_name = "FILE", help_heading = "Chain")]
    pub preset: Option<PathBuf>,

    /// IEM from the catalog (`earstage catalog`); a unique part of the name is enough.
    #[arg(long, value_name = "NAME", help_heading = "IEM")]
    pub iem: Option<String>,
    /// IEM impedance from a file: .zma / REW text (Hz, Ω, degrees), CSV with a header, or
    /// magnitude only (phase reconstructed as minimum phase).
    #[arg(
        long,
        value_name = "FILE",
        help_heading = "IEM",
        conflicts_with = "iem_resistance"
    )]
    pub iem_impedance: Option<PathBuf>,
    /// A purely resistive IEM of this many ohms.
    #[arg(
        long,
        value_name = "OHMS",
        allow_hyphen_values = true,
        help_heading = "IEM"
    )]
    pub iem_resistance: Option<f64>,
    /// IEM sensitivity at 1 kHz: "112 dB/mW" or "131 dB/V".
    #[arg(long, value_name = "SENS", help_heading = "IEM")]
    pub iem_sensitivity: Option<String>,

    /// Source from the catalog.
    #[arg(long, value_name = "NAME", help_heading = "Source")]
    pub source: Option<String>,
    /// Source output impedance (resistance), Ω.
    #[arg(
        long,
        value_name = "OHMS",
        allow_hyphen_values = true,
        help_heading = "Source"
    )]
    pub source_impedance: Option<f64>,
    /// Source full-scale EMF at maximum volume: Vrms ("1.0") or dBu ("+10 dBu").
    #[arg(
        long,
        value_name = "VOLTS",
        help_heading = "Source",
        allow_hyphen_values = true
    )]
    pub source_vfs: Option<String>,
    /// Source analog volume relative to maximum, dB (0 = full).
    #[arg(
        long,
        value_name = "DB",
        help_heading = "Source",
        allow_hyphen_values = true
    )]
    pub source_volume: Option<f64>,
    /// Series output coupling capacitor, µF.
    #[arg(
        long,
        value_name = "MICROFARADS",
        allow_hyphen_values = true,
        help_heading = "Source"
    )]
    pub source_coupling_cap: Option<f64>,
    /// Source output noise, A-weighted, µV.
    #[arg(
        long,
        value_name = "MICROVOLTS",
        allow_hyphen_values = true,
        help_heading = "Source"
    )]
    pub source_noise: Option<f64>,
    /// Source clip point: largest undistorted EMF, Vrms.
    #[arg(
        long,
        value_name = "VOLTS",
        allow_hyphen_values = true,
        help_heading = "Source"
    )]
    pub source_clip: Option<f64>,

    /// Attenuator from the catalog ("none" for none).
    #[arg(long, value_name = "NAME", help_heading = "Attenuator", conflicts_with_all = ["pad_series", "pad_shunt", "adapter"])]
    pub attenuator: Option<String>,
    /// L-pad series resistor, Ω (with --pad-shunt).
    #[arg(
        long,
        value_name = "OHMS",
        help_heading = "Attenuator",
        requires = "pad_shunt",
        conflicts_with = "adapter"
    )]
    pub pad_series: Option<f64>,
    /// L-pad shunt resistor, Ω (with --pad-series).
    #[arg(
        long,
        value_name = "OHMS",
        help_heading = "Attenuator",
        requires = "pad_series"
    )]
    pub pad_shunt: Option<f64>,
    /// Series "impedance adapter", Ω.
    #[arg(
        long,
        value_name = "OHMS",
        allow_hyphen_values = true,
        help_heading = "Attenuator"
    )]
    pub adapter: Option<f64>,
    /// Capacitor across the series adapter, nF (a barrel R‖C adapter).
    #[arg(
        long,
        value_name = "NANOFARADS",
        help_heading = "Attenuator",
        requires = "adapter"
    )]
    pub adapter_cap: Option<f64>,

    /// Cable loop resistance, Ω.
    #[arg(
        long,
        value_name = "OHMS",
        allow_hyphen_values = true,
        help_heading = "Chain"
    )]
    pub cable_ohms: Option<f64>,
}

impl ChainArgs {
    /// True when no chain option was given at all.
    pub fn is_empty(&self) -> bool {
        self.preset.is_none()
            && self.iem.is_none()
            && self.iem_impedance.is_none()
            && self.iem_resistance.is_none()
            && self.iem_sensitivity.is_none()
            && self.source.is_none()
            && self.source_impedance.is_none()
            && self.source_vfs.is_none()
            && self.source_volume.is_none()
            && self.source_coupling_cap.is_none()
            && self.source_noise.is_none()
            && self.source_clip.is_none()
            && self.attenuator.is_none()
            && self.pad_series.is_none()
            && self.pad_shunt.is_none()
            && self.adapter.is_none()
            && self.adapter_cap.is_none()
            && self.cable_ohms.is_none()
    }

    /// Builds and validates the chain; nothing is half-applied: any error leaves no chain.
    pub fn resolve(&self, catalog: &Catalog) -> Result<Chain> {
        let preset = match &self.preset {
            Some(path) => Preset::load(path)?,
            None => Preset::default(),
        };
        let chain = Chain {
            iem: self.iem(catalog, preset.iem)?,
            source: self.source(catalog, preset.source)?,
            attenuator: self.attenuator(catalog, preset.attenuator)?,
            cable: match self.cable_ohms {
                Some(ohms) => Cable {
                    ohms: check_range("--cable-ohms", &ohms.to_string(), ohms, 0.0, 1e4)?,
                },
                None => preset.cable.unwrap_or_default(),
            },
        };
        chain.validate()?;
        Ok(chain)
    }

    fn iem(&self, catalog: &Catalog, preset: Option<Iem>) -> Result<Iem> {
        let custom_impedance = match (&self.iem_impedance, self.iem_resistance) {
            (Some(path), _) => Some((
                ImpedanceModel::Measured {
                    points: read_impedance(path)?,
                },
                path.display().to_string(),
            )),
            (None, Some(ohms)) => {
                let ohms = check_range("--iem-resistance", &ohms.to_string(), ohms, 0.1, 1e6)?;
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
        let base = match (&self.iem, preset) {
            (Some(name), _) => Some(catalog.iem(name)?.clone()),
            (None, Some(iem)) => Some(iem),
            (None, None) if custom_impedance.is_none() => Some(catalog.iem(DEFAULT_IEM)?.clone()),
            (None, None) => None,
        };
        let mut iem = match (base, &custom_impedance) {
            (Some(iem), _) => iem,
            (None, Some((impedance, name))) => {
                let Some(sensitivity) = sensitivity else {
                    bail!(
                        "a custom IEM ({name}) needs --iem-sensitivity, e.g. \"112 dB/mW\" or \"131 dB/V\""
                    );
                };
                let mut iem = Iem::resistive(1.0, sensitivity);
                iem.name = name.clone();
                iem.impedance = impedance.clone();
                iem
            }
            (None, None) => unreachable!("the default IEM covers this case"),
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
        Ok(iem)
    }

    fn source(&self, catalog: &Catalog, preset: Option<Source>) -> Result<Source> {
        let explicit = self.source_impedance.is_some() && self.source_vfs.is_some();
        let mut source = match (&self.source, preset) {
            (Some(name), _) => catalog.source(name)?.clone(),
            (None, Some(source)) => source,
            (None, None) if explicit => {
                let mut s = Source::ideal(1.0);
                s.name = "custom source".into();
                s.provenance = "user values".into();
                s
            }
            (None, None) => catalog.source(DEFAULT_SOURCE)?.clone(),
        };
        if let Some(ohms) = self.source_impedance {
            source.output_ohms =
                check_range("--source-impedance", &ohms.to_string(), ohms, 0.0, 1e5)?;
        }
        if let Some(vfs) = &self.source_vfs {
            source.vfs_volts = parse_volts("--source-vfs", vfs)?;
            if self.source_clip.is_none() && source.clip_volts.is_some_and(|c| c < source.vfs_volts)
            {
                source.clip_volts = None;
            }
        }
        if let Some(db) = self.source_volume {
            source.volume_db = check_range("--source-volume", &db.to_string(), db, -120.0, 40.0)?;
        }
        if let Some(uf) = self.source_coupling_cap {
            source.coupling_uf = Some(check_range(
                "--source-coupling-cap",
                &uf.to_string(),
                uf,
                0.01,
                1e6,
            )?);
        }
        if let Some(uv) = self.source_noise {
            source.noise_uv = check_range("--source-noise", &uv.to_string(), uv, 0.0, 1e5)?;
        }
        if let Some(v) = self.source_clip {
            source.clip_volts = Some(check_range(
                "--source-clip",
                &v.to_string(),
                v,
                1e-6,
                1000.0,
            )?);
        }
        Ok(source)
    }

    fn attenuator(&self, catalog: &Catalog, preset: Option<Attenuator>) -> Result<Attenuator> {
        let custom = |network: Network, name: String| Attenuator {
            name,
            network,
            provenance: "user values".into(),
        };
        Ok(
            match (
                &self.attenuator,
                self.pad_series,
                self.pad_shunt,
                self.adapter,
            ) {
                (Some(name), ..) if name.eq_ignore_ascii_case("none") => Attenuator::none(),
                (Some(name), ..) => catalog
                    .attenuator(name)
                    .with_context(|| "--attenuator".to_string())?
                    .clone(),
                (None, Some(series_ohms), Some(shunt_ohms), _) => custom(
                    Network::LPad {
                        series_ohms,
                        shunt_ohms,
                    },
                    format!("L-pad {series_ohms} Ω / {shunt_ohms} Ω"),
                ),
                (None, _, _, Some(ohms)) => match self.adapter_cap {
                    Some(nanofarads) => custom(
                        Network::SeriesRc { ohms, nanofarads },
                        format!("adapter {ohms} Ω ‖ {nanofarads} nF"),
                    ),
                    None => custom(Network::Series { ohms }, format!("adapter {ohms} Ω")),
                },
                _ => preset.unwrap_or_else(Attenuator::none),
            },
        )
    }
}
