//! The IEM: its sensitivity, nominal impedance and complex impedance curve, and its tuning (the
//! eardrum response's shape).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::Complex64;
use super::circuit::Circuit;
use super::curve::{FrequencyResponse, ImpedanceCurve};
use super::eardrum::diffuse_to_eardrum_db;
use super::units::{Range, ValueError, check_range};

/// Nominal impedance, Ω.
pub const NOMINAL_OHMS: Range = Range::new(0.1, 1e5);
/// The frequency a sensitivity is given at, Hz.
pub const SENSITIVITY_REF_HZ: Range = Range::new(20.0, 20_000.0);
/// A purely resistive IEM's resistance, Ω.
pub const RESISTANCE_OHMS: Range = Range::new(0.1, 1e6);
/// Sensitivity, dB SPL per mW or per V.
pub const SENSITIVITY_DB: Range = Range::new(40.0, 160.0);
/// Passive isolation, dB.
pub const ISOLATION_DB: Range = Range::new(0.0, 60.0);
/// Above this a coupler (IEC 60318-4, "711") is no longer an eardrum: its resonances move with
/// the ear canal's length and the insertion depth (docs/spl.md, "The IEM's tuning").
pub const COUPLER_TOP_HZ: f64 = 10_000.0;
/// The band an imported response must cover, Hz: where nearly all of a programme's A-weighted
/// energy lies.
pub const RESPONSE_BAND_HZ: (f64, f64) = (100.0, COUPLER_TOP_HZ);
/// The frequency the tuning is normalised at, and the sensitivity given at, Hz.
const TUNING_REF_HZ: f64 = 1000.0;

/// Sensitivity at the reference frequency (1 kHz unless stated), as spec sheets give it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Sensitivity {
    /// dB SPL for 1 mW.
    DbPerMw(f64),
    /// dB SPL for 1 Vrms.
    DbPerV(f64),
}

impl Sensitivity {
    /// dB SPL for 1 Vrms at the reference frequency given |Z| there:
    /// `S_V = S_mW + 10·log10(1000 mW/W · 1 V² / |Z|)` (P = V²/|Z|; docs/chain.md).
    pub fn db_per_volt(self, z_ref_ohms: f64) -> f64 {
        match self {
            Sensitivity::DbPerMw(s) => s + 10.0 * (1000.0 / z_ref_ohms).log10(),
            Sensitivity::DbPerV(s) => s,
        }
    }
}

impl FromStr for Sensitivity {
    type Err = ValueError;

    /// "112 dB/mW", "112 dB SPL/mW", "131 dB/V", "131 dB SPL/Vrms".
    fn from_str(text: &str) -> Result<Self, ValueError> {
        let what = "IEM sensitivity";
        let usage = "expected e.g. \"112 dB/mW\" or \"131 dB/V\"";
        let lower = text.to_ascii_lowercase().replace("spl", "");
        let (number, unit) = lower
            .split_once("db")
            .ok_or_else(|| ValueError::new(what, text, usage))?;
        let value: f64 = number
            .trim()
            .parse()
            .map_err(|_| ValueError::new(what, text, usage))?;
        let value = check_range(what, text, value, SENSITIVITY_DB.min, SENSITIVITY_DB.max)?;
        let unit: String = unit.chars().filter(|c| !c.is_whitespace()).collect();
        match unit.as_str() {
            "/mw" => Ok(Sensitivity::DbPerMw(value)),
            "/v" | "/vrms" => Ok(Sensitivity::DbPerV(value)),
            _ => Err(ValueError::new(what, text, usage)),
        }
    }
}

impl fmt::Display for Sensitivity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Sensitivity::DbPerMw(s) => write!(f, "{s} dB/mW"),
            Sensitivity::DbPerV(s) => write!(f, "{s} dB/V"),
        }
    }
}

impl Serialize for Sensitivity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Sensitivity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = String::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Where an IEM's complex impedance comes from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "model", rename_all = "snake_case")]
pub enum ImpedanceModel {
    /// A pure resistance: flat, 0° phase.
    Resistive { ohms: f64 },
    /// An equivalent circuit of drivers and crossover.
    Circuit(Circuit),
    /// An imported or measured curve (Hz, |Z|, degrees).
    Measured { points: ImpedanceCurve },
}

impl ImpedanceModel {
    pub fn impedance(&self, hz: f64) -> Complex64 {
        match self {
            ImpedanceModel::Resistive { ohms } => Complex64::new(*ohms, 0.0),
            ImpedanceModel::Circuit(circuit) => circuit.impedance(hz),
            ImpedanceModel::Measured { points } => points.impedance(hz),
        }
    }

    /// "resistive", "equivalent circuit (3 branches)", "measured (412 points)".
    pub fn describe(&self) -> String {
        match self {
            ImpedanceModel::Resistive { ohms } => format!("resistive {ohms} Ω"),
            ImpedanceModel::Circuit(c) => {
                let n: u32 = c.branches.iter().map(|b| b.count.max(1)).sum();
                format!("equivalent circuit, {n} driver(s)")
            }
            ImpedanceModel::Measured { points } => {
                format!("measured, {} points", points.rows().len())
            }
        }
    }
}

/// How many ears (earpieces) there are: the first two channels of the monitor feed.
pub const EARS: usize = 2;

/// One earpiece.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ear {
    Left,
    Right,
}

impl Ear {
    pub const BOTH: [Ear; EARS] = [Ear::Left, Ear::Right];

    /// The ear channel `index` feeds (0 left, 1 right; a mono feed is the left's).
    pub fn of_channel(index: usize) -> Ear {
        if index == 1 { Ear::Right } else { Ear::Left }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    pub fn name(self) -> &'static str {
        match self {
            Ear::Left => "left",
            Ear::Right => "right",
        }
    }
}

/// An in-ear monitor.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Iem {
    pub name: String,
    /// Driver layout, e.g. "single dynamic", "4 BA", "1 DD + 4 BA".
    #[serde(default)]
    pub drivers: String,
    pub sensitivity: Sensitivity,
    /// Frequency the sensitivity is given at, Hz.
    #[serde(default = "one_khz")]
    pub sensitivity_ref_hz: f64,
    /// Nominal impedance from the spec sheet, Ω.
    pub nominal_ohms: f64,
    /// The impedance of both earpieces, or of the left where [`Iem::right_impedance`] is set.
    pub impedance: ImpedanceModel,
    /// The right earpiece's impedance where the two were measured apart (`impedance` is then the
    /// left's); `None`: both earpieces are `impedance`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_impedance: Option<ImpedanceModel>,
    /// Passive isolation, dB (used for the stage leak estimate).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub isolation_db: Option<f64>,
    /// The measured frequency response (Hz, dB at a coupler; any offset) of both earpieces, or
    /// of the left where [`Iem::right_response`] is set: its shape is the tuning. `None`: the
    /// diffuse-field target ([`Iem::tuning_db`]).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub response: Option<FrequencyResponse>,
    /// The right earpiece's response where the two were measured apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub right_response: Option<FrequencyResponse>,
    /// Where the figures come from.
    #[serde(default)]
    pub provenance: String,
}

fn one_khz() -> f64 {
    1000.0
}

impl Iem {
    /// A purely resistive IEM.
    pub fn resistive(ohms: f64, sensitivity: Sensitivity) -> Self {
        Self {
            name: format!("resistive {ohms} Ω"),
            drivers: String::new(),
            sensitivity,
            sensitivity_ref_hz: 1000.0,
            nominal_ohms: ohms,
            impedance: ImpedanceModel::Resistive { ohms },
            right_impedance: None,
            isolation_db: None,
            response: None,
            right_response: None,
            provenance: "user values".into(),
        }
    }

    /// This IEM with a flat eardrum response (both earpieces): the worked examples'
    /// idealisation, and what a measurement at the eardrum that reads flat gives.
    pub fn tuned_flat(mut self) -> Self {
        self.response = Some(FrequencyResponse::flat());
        self.right_response = None;
        self
    }

    pub fn impedance(&self, hz: f64) -> Complex64 {
        self.impedance.impedance(hz)
    }

    /// This IEM as one earpiece: the right one's impedance where it has its own, and no separate
    /// right impedance left.
    pub fn ear(&self, ear: Ear) -> Iem {
        let mut iem = self.clone();
        if let (Ear::Right, Some(right)) = (ear, iem.right_impedance.take()) {
            iem.impedance = right;
        }
        iem.right_impedance = None;
        if let (Ear::Right, Some(right)) = (ear, iem.right_response.take()) {
            iem.response = Some(right);
        }
        iem.right_response = None;
        iem
    }

    /// Give one earpiece (`Some(ear)`) or both (`None`) this response (`None`: the
    /// diffuse-field target); the other keeps its own. An earpiece on the target beside one with
    /// a response of its own holds the target as a response ([`diffuse_field_target`]).
    pub fn set_response(&mut self, response: Option<FrequencyResponse>, ear: Option<Ear>) {
        match ear {
            None => {
                self.response = response;
                self.right_response = None;
            }
            Some(Ear::Left) => {
                let right = self
                    .right_response
                    .take()
                    .or_else(|| self.response.clone())
                    .unwrap_or_else(diffuse_field_target);
                self.response = response;
                self.right_response = Some(right);
            }
            Some(Ear::Right) => {
                self.right_response = Some(response.unwrap_or_else(diffuse_field_target));
            }
        }
    }

    /// The tuning: the eardrum response's shape, dB re its level at 1 kHz (where the sensitivity
    /// is given), of the left or only earpiece: the imported response's, or without one the
    /// diffuse-field target, the eardrum response of an IEM that sounds like a diffuse field
    /// (the diffuse-field → eardrum transfer normalised at 1 kHz). An imported response is used
    /// as measured, held at its ends; above [`COUPLER_TOP_HZ`] it is a coupler's figure, not an
    /// eardrum's (docs/spl.md, "The IEM's tuning").
    pub fn tuning_db(&self, hz: f64) -> f64 {
        match &self.response {
            None => diffuse_to_eardrum_db(hz) - diffuse_to_eardrum_db(TUNING_REF_HZ),
            Some(response) => response.db_at(hz) - response.db_at(TUNING_REF_HZ),
        }
    }

    /// Where the tuning comes from, for reports.
    pub fn tuning_source(&self) -> &'static str {
        match (&self.response, &self.right_response) {
            (None, None) => {
                "the diffuse-field target (ANSI S3.4-2007's diffuse field to eardrum, at 0 dB at \
                 1 kHz)"
            }
            (Some(_), None) => "the imported response",
            _ => "each earpiece's imported response",
        }
    }

    /// Give one earpiece (`Some(ear)`) or both (`None`) this impedance; the other keeps its own.
    pub fn set_impedance(&mut self, model: ImpedanceModel, ear: Option<Ear>) {
        match ear {
            None => {
                self.impedance = model;
                self.right_impedance = None;
            }
            Some(Ear::Left) => {
                let right = self
                    .right_impedance
                    .take()
                    .unwrap_or_else(|| self.impedance.clone());
                self.impedance = model;
                self.right_impedance = Some(right);
            }
            Some(Ear::Right) => self.right_impedance = Some(model),
        }
    }

    /// Whether the two earpieces have different impedances.
    pub fn ears_differ(&self) -> bool {
        self.right_impedance
            .as_ref()
            .is_some_and(|right| *right != self.impedance)
            || self
                .right_response
                .as_ref()
                .is_some_and(|right| Some(right) != self.response.as_ref())
    }

    /// Sensitivity in dB SPL per Vrms at the reference frequency.
    pub fn sensitivity_db_per_volt(&self) -> f64 {
        self.sensitivity
            .db_per_volt(self.impedance(self.sensitivity_ref_hz).norm())
    }

    pub fn validate(&self) -> Result<(), ValueError> {
        let field = |f: &str| format!("IEM {:?} {f}", self.name);
        NOMINAL_OHMS.check(&field("nominal_ohms"), self.nominal_ohms)?;
        SENSITIVITY_REF_HZ.check(&field("sensitivity_ref_hz"), self.sensitivity_ref_hz)?;
        let models = [
            ("impedance", Some(&self.impedance)),
            ("right_impedance", self.right_impedance.as_ref()),
        ];
        for (name, model) in models {
            match model {
                Some(ImpedanceModel::Resistive { ohms }) => {
                    RESISTANCE_OHMS.check(&field(&format!("{name} ohms")), *ohms)?;
                }
                Some(ImpedanceModel::Circuit(c)) => {
                    c.validate(&format!("IEM {:?} {name}", self.name))?
                }
                Some(ImpedanceModel::Measured { .. }) | None => {}
            }
        }
        if let Some(iso) = self.isolation_db {
            ISOLATION_DB.check(&field("isolation_db"), iso)?;
        }
        for (name, response) in [
            ("response", self.response.as_ref()),
            ("right_response", self.right_response.as_ref()),
        ] {
            if let Some(response) = response {
                check_covers(&field(name), response)?;
            }
        }
        Ok(())
    }
}

/// The diffuse-field target as a response: the default tuning sampled every 1/96 octave from
/// 10 Hz to 25.8 kHz (between the samples, within 0.01 dB of the smooth target).
pub fn diffuse_field_target() -> FrequencyResponse {
    let rows = (0..=(96 * 11 + 32))
        .map(|k| {
            let hz = 10.0 * 2f64.powf(f64::from(k) / 96.0);
            [
                hz,
                diffuse_to_eardrum_db(hz) - diffuse_to_eardrum_db(TUNING_REF_HZ),
            ]
        })
        .collect();
    FrequencyResponse::new(rows).expect("the target's rows are valid")
}

/// A response used as a tuning must cover [`RESPONSE_BAND_HZ`]; the error says what it covers.
pub fn check_covers(what: &str, response: &FrequencyResponse) -> Result<(), ValueError> {
    let rows = response.rows();
    let (low, high) = (rows[0][0], rows[rows.len() - 1][0]);
    let (from, to) = RESPONSE_BAND_HZ;
    if low > from || high < to {
        return Err(ValueError::new(
            what,
            &format!("{low} Hz to {high} Hz"),
            format!(
                "a response must cover {from} Hz to {to} Hz (where the tuning decides the level)"
            ),
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One earpiece's response leaves the other's tuning as it was (the target, held as a
    /// response, within 0.01 dB of the smooth target everywhere from 20 Hz to 20 kHz); both
    /// earpieces' replaces both; back to the target is `None`.
    #[test]
    fn responses_per_earpiece() {
        let mut iem = Iem::resistive(16.0, Sensitivity::DbPerMw(110.0));
        let shelf =
            FrequencyResponse::new(vec![[20.0, 0.0], [2000.0, 0.0], [4000.0, 6.0], [20e3, 6.0]])
                .unwrap();
        let target = iem.clone();
        iem.set_response(Some(shelf.clone()), Some(Ear::Left));
        assert!(iem.ears_differ());
        let (left, right) = (iem.ear(Ear::Left), iem.ear(Ear::Right));
        assert!((left.tuning_db(8000.0) - 6.0).abs() < 1e-12);
        for k in 0..=300 {
            let hz = 20.0 * 1000f64.powf(f64::from(k) / 300.0);
            assert!(
                (right.tuning_db(hz) - target.tuning_db(hz)).abs() < 0.01,
                "{hz} Hz"
            );
        }
        iem.set_response(Some(shelf), None);
        assert!(!iem.ears_differ());
        iem.set_response(None, None);
        assert_eq!(iem.tuning_db(3000.0), target.tuning_db(3000.0));
    }

    /// One earpiece's curve leaves the other's as it was; both ears' curve replaces both; each
    /// ear's IEM carries only its own curve.
    #[test]
    fn each_earpiece_its_own_impedance() {
        let ohms = |o: f64| ImpedanceModel::Resistive { ohms: o };
        let mut iem = Iem::resistive(16.0, Sensitivity::DbPerMw(110.0));
        assert!(!iem.ears_differ());
        iem.set_impedance(ohms(18.0), Some(Ear::Right));
        assert!(iem.ears_differ());
        iem.set_impedance(ohms(15.0), Some(Ear::Left));
        let [left, right] = Ear::BOTH.map(|ear| iem.ear(ear));
        assert_eq!(
            (left.impedance(1e3).re, right.impedance(1e3).re),
            (15.0, 18.0)
        );
        assert!(left.right_impedance.is_none() && right.right_impedance.is_none());
        let mut plain = Iem::resistive(16.0, Sensitivity::DbPerMw(110.0));
        plain.set_impedance(ohms(20.0), Some(Ear::Left));
        assert_eq!(
            plain.ear(Ear::Right).impedance(1e3).re,
            16.0,
            "the right kept its own"
        );
        iem.set_impedance(ohms(30.0), None);
        assert!(!iem.ears_differ() && iem.ear(Ear::Right).impedance(1e3).re == 30.0);
        // The right earpiece's values are checked with the rest.
        iem.set_impedance(ohms(-1.0), Some(Ear::Right));
        let err = iem.validate().unwrap_err().to_string();
        assert!(err.contains("right_impedance"), "{err}");
    }

    mod sensitivity {
        use super::*;

        /// docs/chain.md worked check: 115 dB/mW at 10 Ω = 135 dB SPL/V.
        #[test]
        fn worked_check() {
            let s: Sensitivity = "115 dB/mW".parse().unwrap();
            assert!((s.db_per_volt(10.0) - 135.0).abs() < 1e-12);
            let v: Sensitivity = "131 dB SPL/Vrms".parse().unwrap();
            assert_eq!(v, Sensitivity::DbPerV(131.0));
            assert_eq!(v.db_per_volt(3.0), 131.0);
        }

        #[test]
        fn refuses_other_units() {
            for bad in ["112", "112 dB/W", "dB/mW", "loud", "500 dB/mW"] {
                assert!(bad.parse::<Sensitivity>().is_err(), "{bad}");
            }
        }

        #[test]
        fn round_trips_through_text() {
            for s in [Sensitivity::DbPerMw(112.5), Sensitivity::DbPerV(120.0)] {
                assert_eq!(s.to_string().parse::<Sensitivity>().unwrap(), s);
            }
        }
    }
}
