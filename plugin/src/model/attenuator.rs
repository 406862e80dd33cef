//! Inline attenuators: the L-pad (IEMatch-style), the series "impedance adapter" and the series
//! R‖C barrel, as a series arm `Za` followed by an optional shunt arm `Zb`.

use serde::{Deserialize, Serialize};

use super::units::{Range, ValueError};

/// A series resistor (L-pad series arm, impedance adapter), Ω.
pub const SERIES_OHMS: Range = Range::new(0.0, 1e6);
/// An L-pad's shunt resistor, Ω.
pub const SHUNT_OHMS: Range = Range::new(1e-3, 1e6);
/// The capacitor across a series adapter, nF.
pub const NANOFARADS: Range = Range::new(1e-3, 1e9);
use super::{Complex64, capacitor, parallel};

/// What sits between the source and the cable.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Network {
    /// Nothing: the source drives the cable directly.
    None,
    /// L-pad: series `Ra` then shunt `Rb` across the IEM.
    LPad { series_ohms: f64, shunt_ohms: f64 },
    /// A series resistor only ("impedance adapter", `Rb → ∞`).
    Series { ohms: f64 },
    /// A series resistor with a capacitor across it (some barrel adapters: 100 Ω ‖ 220 nF).
    SeriesRc { ohms: f64, nanofarads: f64 },
}

/// A named attenuator with the provenance of its values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Attenuator {
    pub name: String,
    #[serde(flatten)]
    pub network: Network,
    /// Where the values come from.
    #[serde(default)]
    pub provenance: String,
}

impl Attenuator {
    /// No attenuator.
    pub fn none() -> Self {
        Self {
            name: "none".into(),
            network: Network::None,
            provenance: String::new(),
        }
    }

    /// The series arm `Za(f)`, Ω.
    pub fn series(&self, hz: f64) -> Complex64 {
        match self.network {
            Network::None => Complex64::new(0.0, 0.0),
            Network::LPad { series_ohms, .. } => Complex64::new(series_ohms, 0.0),
            Network::Series { ohms } => Complex64::new(ohms, 0.0),
            Network::SeriesRc { ohms, nanofarads } => {
                parallel(Complex64::new(ohms, 0.0), capacitor(nanofarads * 1e-9, hz))
            }
        }
    }

    /// The shunt arm `Zb`, Ω; `None` for an open circuit.
    /// The series resistance (0: none) and the shunt resistance (`None`: no shunt), Ω.
    pub fn resistances(&self) -> (f64, Option<f64>) {
        match self.network {
            Network::None => (0.0, None),
            Network::LPad {
                series_ohms,
                shunt_ohms,
            } => (series_ohms, Some(shunt_ohms)),
            Network::Series { ohms } | Network::SeriesRc { ohms, .. } => (ohms, None),
        }
    }

    pub fn shunt(&self) -> Option<Complex64> {
        match self.network {
            Network::LPad { shunt_ohms, .. } => Some(Complex64::new(shunt_ohms, 0.0)),
            _ => None,
        }
    }

    /// The Thevenin equivalent of source + attenuator at `hz`, given the source impedance `zs`:
    /// (`V_th/V`, `Z_th`) with `V_th = V·Zb/(Zs+Za+Zb)` and `Z_th = Zb ‖ (Zs+Za)` (docs/chain.md;
    /// Thevenin's theorem on the voltage divider).
    pub fn thevenin(&self, zs: Complex64, hz: f64) -> (Complex64, Complex64) {
        let upstream = zs + self.series(hz);
        match self.shunt() {
            Some(zb) => (zb / (upstream + zb), parallel(zb, upstream)),
            None => (Complex64::new(1.0, 0.0), upstream),
        }
    }

    /// The load the source sees when this attenuator drives `z_load`: `Za + Zb ‖ Z_load`.
    pub fn input_impedance(&self, z_load: Complex64, hz: f64) -> Complex64 {
        let downstream = match self.shunt() {
            Some(zb) => parallel(zb, z_load),
            None => z_load,
        };
        self.series(hz) + downstream
    }

    pub fn validate(&self) -> Result<(), ValueError> {
        let field = |f: &str| format!("attenuator {:?} {f}", self.name);
        match self.network {
            Network::None => {}
            Network::LPad {
                series_ohms,
                shunt_ohms,
            } => {
                SERIES_OHMS.check(&field("series_ohms"), series_ohms)?;
                SHUNT_OHMS.check(&field("shunt_ohms"), shunt_ohms)?;
            }
            Network::Series { ohms } => {
                SERIES_OHMS.check(&field("ohms"), ohms)?;
            }
            Network::SeriesRc { ohms, nanofarads } => {
                SERIES_OHMS.check(&field("ohms"), ohms)?;
                NANOFARADS.check(&field("nanofarads"), nanofarads)?;
            }
        }
        Ok(())
    }

    /// A one-line description of the network, e.g. "L-pad 15 Ω / 1 Ω".
    pub fn describe(&self) -> String {
        match self.network {
            Network::None => "none".into(),
            Network::LPad {
                series_ohms,
                shunt_ohms,
            } => format!("L-pad, series {series_ohms} Ω, shunt {shunt_ohms} Ω"),
            Network::Series { ohms } => format!("series {ohms} Ω"),
            Network::SeriesRc { ohms, nanofarads } => format!("series {ohms} Ω ‖ {nanofarads} nF"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pad(series_ohms: f64, shunt_ohms: f64) -> Attenuator {
        Attenuator {
            name: "pad".into(),
            network: Network::LPad {
                series_ohms,
                shunt_ohms,
            },
            provenance: String::new(),
        }
    }

    mod thevenin {
        use super::*;

        /// Worked by hand: a 15 Ω / 1 Ω pad on a 1 Ω source. V_th = 1/(1+15+1) = 1/17,
        /// Z_th = 1 ‖ 16 = 16/17 Ω.
        #[test]
        fn l_pad_by_hand() {
            let (ratio, zth) = pad(15.0, 1.0).thevenin(Complex64::new(1.0, 0.0), 1000.0);
            assert!((ratio.re - 1.0 / 17.0).abs() < 1e-15 && ratio.im == 0.0);
            assert!((zth.re - 16.0 / 17.0).abs() < 1e-15 && zth.im == 0.0);
        }

        #[test]
        fn series_adds_to_the_source() {
            let a = Attenuator {
                name: "75".into(),
                network: Network::Series { ohms: 75.0 },
                provenance: String::new(),
            };
            let (ratio, zth) = a.thevenin(Complex64::new(2.0, 0.0), 1000.0);
            assert_eq!(ratio, Complex64::new(1.0, 0.0));
            assert_eq!(zth, Complex64::new(77.0, 0.0));
        }

        /// 100 Ω ‖ 220 nF: the capacitor's reactance equals 100 Ω at 1/(2π·100·220n) = 7234 Hz,
        /// where the arm is 100/(1+j) = 50 − 50j Ω.
        #[test]
        fn rc_barrel_at_its_corner() {
            let a = Attenuator {
                name: "barrel".into(),
                network: Network::SeriesRc {
                    ohms: 100.0,
                    nanofarads: 220.0,
                },
                provenance: String::new(),
            };
            let corner = 1.0 / (std::f64::consts::TAU * 100.0 * 220e-9);
            let z = a.series(corner);
            assert!(
                (z.re - 50.0).abs() < 1e-9 && (z.im + 50.0).abs() < 1e-9,
                "{z}"
            );
        }
    }

    mod input_impedance {
        use super::*;

        #[test]
        fn pad_into_16_ohms() {
            // 15 + (1 ‖ 16) = 15 + 16/17.
            let z = pad(15.0, 1.0).input_impedance(Complex64::new(16.0, 0.0), 1000.0);
            assert!((z.re - (15.0 + 16.0 / 17.0)).abs() < 1e-12);
        }
    }
}
