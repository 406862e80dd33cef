//! The built-in catalog of IEMs, sources and attenuators (`catalog.toml`, embedded in the
//! binary), and name look-up with helpful errors.

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::{Attenuator, Cable, Chain, Iem, Source};

const CATALOG_TOML: &str = include_str!("catalog.toml");

/// Every preset Earstage ships with.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Catalog {
    #[serde(default, rename = "iem")]
    pub iems: Vec<Iem>,
    #[serde(default, rename = "source")]
    pub sources: Vec<Source>,
    #[serde(default, rename = "attenuator")]
    pub attenuators: Vec<Attenuator>,
}

/// A name that matches no entry, or several.
#[derive(Debug, Error, PartialEq)]
pub enum LookupError {
    #[error("no {kind} named {name:?} in the catalog; known: {known}")]
    Unknown {
        kind: &'static str,
        name: String,
        known: String,
    },
    #[error("{kind} {name:?} is ambiguous: it matches {matches}")]
    Ambiguous {
        kind: &'static str,
        name: String,
        matches: String,
    },
}

/// Normalises a name for matching: lower case, letters and digits only.
fn key(name: &str) -> String {
    name.chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(char::to_lowercase)
        .collect()
}

/// Finds an entry by exact name (ignoring case, spaces and punctuation), else by a unique
/// substring ("se846", "andromeda", "75").
fn find<'a, T>(
    kind: &'static str,
    entries: &'a [T],
    name_of: fn(&T) -> &str,
    name: &str,
) -> Result<&'a T, LookupError> {
    let wanted = key(name);
    if let Some(exact) = entries.iter().find(|e| key(name_of(e)) == wanted) {
        return Ok(exact);
    }
    let matches: Vec<&T> = if wanted.is_empty() {
        Vec::new()
    } else {
        entries
            .iter()
            .filter(|e| key(name_of(e)).contains(&wanted))
            .collect()
    };
    let list = |items: &mut dyn Iterator<Item = &str>| {
        items
            .map(|n| format!("{n:?}"))
            .collect::<Vec<_>>()
            .join(", ")
    };
    match matches.as_slice() {
        [one] => Ok(one),
        [] => Err(LookupError::Unknown {
            kind,
            name: name.to_owned(),
            known: list(&mut entries.iter().map(name_of)),
        }),
        many => Err(LookupError::Ambiguous {
            kind,
            name: name.to_owned(),
            matches: list(&mut many.iter().map(|e| name_of(e))),
        }),
    }
}

/// Catalog names of the default chain: what a new plugin instance and the CLI start from.
pub const DEFAULT_IEM: &str = "Campfire Audio Andromeda";
pub const DEFAULT_SOURCE: &str = "Audio interface, 10 Ω headphone out";

impl Catalog {
    /// The default chain: [`DEFAULT_IEM`] on [`DEFAULT_SOURCE`], no attenuator, no cable. Both
    /// entries are in the built-in catalog (checked by the tests).
    pub fn default_chain(&self) -> Result<Chain, LookupError> {
        Ok(Chain {
            iem: self.iem(DEFAULT_IEM)?.clone(),
            source: self.source(DEFAULT_SOURCE)?.clone(),
            attenuator: Attenuator::none(),
            cable: Cable::default(),
        })
    }

    /// The catalog compiled into Earstage. Its validity is checked by the tests, so a failure
    /// here is a build defect.
    pub fn builtin() -> Self {
        toml::from_str(CATALOG_TOML).expect("the built-in catalog parses (checked by the tests)")
    }

    pub fn iem(&self, name: &str) -> Result<&Iem, LookupError> {
        find("IEM", &self.iems, |e| &e.name, name)
    }

    pub fn source(&self, name: &str) -> Result<&Source, LookupError> {
        find("source", &self.sources, |e| &e.name, name)
    }

    pub fn attenuator(&self, name: &str) -> Result<&Attenuator, LookupError> {
        find("attenuator", &self.attenuators, |e| &e.name, name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::attenuator::Network;
    use crate::model::circuit::Driver;
    use crate::model::{ImpedanceModel, Sensitivity};

    #[test]
    fn builtin_parses_and_validates() {
        let c = Catalog::builtin();
        for iem in &c.iems {
            iem.validate().unwrap();
        }
        for s in &c.sources {
            s.validate().unwrap();
        }
        for a in &c.attenuators {
            a.validate().unwrap();
        }
    }

    /// Issue #4: ≥ 12 IEMs spanning single dynamic, multi-BA and hybrid; ≥ 8 sources; ≥ 6
    /// attenuators; every entry says where its figures come from.
    #[test]
    fn coverage_and_provenance() {
        let c = Catalog::builtin();
        assert!(c.iems.len() >= 12 && c.sources.len() >= 8 && c.attenuators.len() >= 6);
        let kinds = |iem: &Iem| match &iem.impedance {
            ImpedanceModel::Circuit(circuit) => {
                let ba = circuit
                    .branches
                    .iter()
                    .filter(|b| matches!(b.driver, Driver::BalancedArmature { .. }))
                    .map(|b| b.count)
                    .sum::<u32>();
                let dd = circuit
                    .branches
                    .iter()
                    .filter(|b| matches!(b.driver, Driver::Dynamic { .. }))
                    .count();
                (dd, ba)
            }
            _ => (0, 0),
        };
        assert!(c.iems.iter().any(|i| kinds(i) == (1, 0)), "single dynamic");
        assert!(
            c.iems.iter().any(|i| kinds(i).0 == 0 && kinds(i).1 >= 4),
            "multi-BA"
        );
        assert!(
            c.iems.iter().any(|i| kinds(i).0 >= 1 && kinds(i).1 >= 1),
            "hybrid"
        );
        let provenance_ok = |p: &str| {
            ["spec", "measurement", "modeled"]
                .iter()
                .any(|k| p.contains(k))
        };
        assert!(c.iems.iter().all(|e| provenance_ok(&e.provenance)));
        assert!(c.sources.iter().all(|e| provenance_ok(&e.provenance)));
        assert!(c.attenuators.iter().all(|e| provenance_ok(&e.provenance)));
    }

    /// Issue #21: every real source says how its volume is set (the advisor's usable-range
    /// check), its provenance says where that comes from, and a source whose output stage has a
    /// current limit gives at least the current of its full scale into 32 Ω (the load such
    /// outputs are rated into).
    #[test]
    fn sources_say_how_their_volume_is_set_and_what_current_they_give() {
        let c = Catalog::builtin();
        for s in c.sources.iter().filter(|s| s.output_ohms > 0.0) {
            assert!(s.volume_control.is_some(), "{}", s.name);
            assert!(s.provenance.contains("volume:"), "{}", s.provenance);
            if let Some(ma) = s.max_current_ma {
                let rated_ma = 1e3 * s.vfs_volts / (s.output_ohms + 32.0);
                assert!(ma >= rated_ma, "{}: {ma} mA < {rated_ma} mA", s.name);
                assert!(s.provenance.contains("current:"), "{}", s.provenance);
            }
        }
    }

    /// Each modeled curve matches the published 1 kHz impedance within 3 % (spec sheets quote
    /// ±10 to ±15 %), so the dB/mW → dB/V conversion is off by at most 0.13 dB.
    #[test]
    fn modeled_curves_match_published_impedance() {
        for iem in &Catalog::builtin().iems {
            let z = iem.impedance(1000.0).norm();
            assert!(
                (z / iem.nominal_ohms - 1.0).abs() < 0.03,
                "{}: {z} Ω",
                iem.name
            );
            if let Sensitivity::DbPerMw(_) = iem.sensitivity {
                assert!(iem.sensitivity_db_per_volt() > 100.0);
            }
        }
    }

    /// The catalog has the attenuators the issue names: −12 and −24 dB low-Z pads, 10/33/75 Ω
    /// adapters and a 100 Ω ‖ 220 nF barrel.
    #[test]
    fn named_attenuators() {
        let c = Catalog::builtin();
        for series in [10.0, 33.0, 75.0] {
            assert!(
                c.attenuators
                    .iter()
                    .any(|a| a.network == Network::Series { ohms: series })
            );
        }
        assert!(c.attenuators.iter().any(|a| a.network
            == Network::SeriesRc {
                ohms: 100.0,
                nanofarads: 220.0
            }));
        for target in [-12.0, -24.0] {
            let pad = c
                .attenuators
                .iter()
                .find(|a| {
                    let (ratio, zth) = a.thevenin(Default::default(), 1000.0);
                    a.shunt().is_some()
                        && (crate::model::db(ratio.norm()) - target).abs() < 0.5
                        && zth.norm() < 1.5
                })
                .map(|a| a.name.clone());
            assert!(pad.is_some(), "{target} dB pad");
        }
    }

    mod lookup {
        use super::*;

        #[test]
        fn exact_substring_and_errors() {
            let c = Catalog::builtin();
            assert_eq!(c.iem("shure se846").unwrap().name, "Shure SE846");
            assert_eq!(c.iem("andromeda").unwrap().name, "Campfire Audio Andromeda");
            assert_eq!(c.attenuator("75").unwrap().name, "Series adapter 75 Ω");
            assert!(matches!(c.iem("shure"), Err(LookupError::Ambiguous { .. })));
            let err = c.source("nonesuch").unwrap_err().to_string();
            assert!(
                err.contains("nonesuch") && err.contains("Ideal source"),
                "{err}"
            );
        }
    }
}
