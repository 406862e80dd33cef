//! The chain options shared by `chain`, `analyze` and `render`: parsed here, resolved by the
//! model's [`ChainOverrides`] (which owns the rules and the ranges).

use std::path::PathBuf;

use clap::{Args, ValueEnum};
use earstage::model::calibration::ProbePoint;
use earstage::model::catalog::Catalog;
use earstage::model::overrides::{ChainOverrides, OverrideError, ReadingOverrides};
use earstage::model::volume::VolumeControl;
use earstage::model::{Chain, Iem};

/// Where a level reading was taken.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum ProbeArg {
    /// At the source's jack, nothing plugged in (the open-circuit voltage).
    Open,
    /// Across the IEM's terminals (through an adapter), the chain connected.
    Iem,
}

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
    /// The right earpiece's impedance from a file, where the two were measured apart: the right
    /// channel is then simulated and metered on it, the left on --iem-impedance (or the model).
    #[arg(long, value_name = "FILE", help_heading = "IEM")]
    pub iem_impedance_right: Option<PathBuf>,
    /// The IEM's frequency response, its tuning, from a file (squig.link / CrinGraph text,
    /// AutoEQ CSV, REW export: Hz and dB at a coupler, any offset: only the shape counts),
    /// covering 100 Hz to 10 kHz; `flat` for a flat eardrum response. Without it: the preset's,
    /// else the diffuse-field target (docs/spl.md, "The IEM's tuning").
    #[arg(long, value_name = "FILE", help_heading = "IEM")]
    pub iem_response: Option<PathBuf>,
    /// The right earpiece's response from a file, where the two were measured apart (the left's
    /// is then --iem-response, or the default).
    #[arg(long, value_name = "FILE", help_heading = "IEM")]
    pub iem_response_right: Option<PathBuf>,
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
    /// Bit depth of the digital path to the source's DAC (16, 24 or 32; the catalog gives 16 for
    /// phone dongles, 24 otherwise): sets the dither floor at the eardrum.
    #[arg(
        long,
        value_name = "BITS",
        help_heading = "Source",
        value_parser = clap::builder::TypedValueParser::map(
            clap::builder::PossibleValuesParser::new(["16", "24", "32"]),
            |s: String| s.parse::<u32>().expect("one of the listed values")
        )
    )]
    pub path_bits: Option<u32>,
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
    /// Source current limit: largest undistorted output current, mA rms (a low-impedance pad
    /// makes the output stage clip below its voltage swing).
    #[arg(
        long,
        value_name = "MILLIAMPS",
        allow_hyphen_values = true,
        help_heading = "Source"
    )]
    pub source_max_current: Option<f64>,
    /// How the source's volume is set, for the advisor's usable-range check: pot:-40 (a pot
    /// whose channels track within 3 dB down to -40 dB; pot:-40:1 within 1 dB), stepped:1x100
    /// or digital:3x16 (step size in dB × number of settings).
    #[arg(
        long,
        value_name = "SPEC",
        allow_hyphen_values = true,
        help_heading = "Source"
    )]
    pub source_volume_control: Option<VolumeControl>,

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

    /// A multimeter's reading of the calibration tone, Vrms: sets the source's full scale at
    /// the volume setting, so every level is calibrated instead of estimated from the spec sheet.
    #[arg(
        long,
        value_name = "VRMS",
        allow_hyphen_values = true,
        help_heading = "Calibrated level"
    )]
    pub measured_vrms: Option<f64>,
    /// Where the reading was taken: at the source's jack with nothing plugged in, or across the
    /// IEM's terminals with the chain connected [default: open].
    #[arg(
        long,
        value_enum,
        value_name = "POINT",
        requires = "measured_vrms",
        help_heading = "Calibrated level"
    )]
    pub measured_at: Option<ProbeArg>,
    /// The tone's level, dBFS (−60 to 0) [default: −20].
    #[arg(
        long,
        value_name = "DBFS",
        allow_hyphen_values = true,
        requires = "measured_vrms",
        help_heading = "Calibrated level"
    )]
    pub tone_dbfs: Option<f64>,
    /// The tone's frequency, Hz (20 to 20000) [default: 400].
    #[arg(
        long,
        value_name = "HZ",
        allow_hyphen_values = true,
        requires = "measured_vrms",
        help_heading = "Calibrated level"
    )]
    pub tone_hz: Option<f64>,

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
    /// What the options ask of the chain, for the model to resolve.
    pub fn overrides(&self) -> ChainOverrides {
        ChainOverrides {
            preset: self.preset.clone(),
            iem: self.iem.clone(),
            iem_impedance: self.iem_impedance.clone(),
            iem_impedance_right: self.iem_impedance_right.clone(),
            iem_response: self.iem_response.clone(),
            iem_response_right: self.iem_response_right.clone(),
            iem_resistance: self.iem_resistance,
            iem_sensitivity: self.iem_sensitivity.clone(),
            source: self.source.clone(),
            source_impedance: self.source_impedance,
            source_vfs: self.source_vfs.clone(),
            source_volume: self.source_volume,
            source_coupling_cap: self.source_coupling_cap,
            source_noise: self.source_noise,
            source_clip: self.source_clip,
            source_max_current: self.source_max_current,
            source_volume_control: self.source_volume_control,
            source_path_bits: self.path_bits,
            attenuator: self.attenuator.clone(),
            pad: self.pad_series.zip(self.pad_shunt),
            adapter: self.adapter,
            adapter_cap: self.adapter_cap,
            cable_ohms: self.cable_ohms,
            level_reading: self.measured_vrms.map(|vrms| ReadingOverrides {
                vrms,
                at: self.measured_at.map(|a| match a {
                    ProbeArg::Open => ProbePoint::Open,
                    ProbeArg::Iem => ProbePoint::Iem,
                }),
                tone_dbfs: self.tone_dbfs,
                tone_hz: self.tone_hz,
            }),
        }
    }

    /// True when no chain option was given at all.
    pub fn is_empty(&self) -> bool {
        self.overrides().is_empty()
    }

    /// The catalog entry whose impedance `--iem-impedance` replaced (`--iem` with a measured
    /// curve), to show the measurement beside the model.
    pub fn catalog_model(&self, catalog: &Catalog) -> Option<Iem> {
        self.iem_impedance.as_ref()?;
        catalog.iem(self.iem.as_deref()?).ok().cloned()
    }

    /// The chain the options ask for, validated.
    pub fn resolve(&self, catalog: &Catalog) -> Result<Chain, OverrideError> {
        self.overrides().resolve(catalog)
    }
}
