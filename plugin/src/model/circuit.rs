//! Equivalent circuits of IEM drivers and their crossovers (docs/chain.md), giving a complex
//! impedance at any frequency. Every element is a passive one-port, so the result is a
//! minimum-phase, positive-real impedance.

use serde::{Deserialize, Serialize};

use super::units::{ValueError, check_range};
use super::{Complex64, capacitor, inductor, omega, parallel};

/// One transducer's electrical equivalent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Driver {
    /// A balanced armature: coil resistance, coil inductance (plain `Le` and/or a
    /// semi-inductance `K·(jω)^0.5` for the eddy-current loss of the armature stack), and the
    /// motional impedance of the armature-reed resonance as `Rm ‖ Lm ‖ Cm` (a peak of height
    /// `Rm` at `1/(2π√(Lm·Cm))`).
    BalancedArmature {
        re_ohms: f64,
        #[serde(default)]
        le_mh: f64,
        /// Semi-inductance K, Ω·s^½.
        #[serde(default)]
        semi_k: f64,
        rm_ohms: f64,
        lm_mh: f64,
        cm_uf: f64,
    },
    /// A moving-coil driver from its Thiele–Small figures: `Re + jωLe + (Res ‖ Lces ‖ Cmes)` with
    /// `Res = Re·Qms/Qes`, `Lces = Re/(2π·fs·Qes)`, `Cmes = Qes/(2π·fs·Re)` (Small, "Direct-radiator
    /// loudspeaker system analysis", JAES 1972).
    Dynamic {
        re_ohms: f64,
        #[serde(default)]
        le_mh: f64,
        fs_hz: f64,
        qms: f64,
        qes: f64,
    },
}

impl Driver {
    pub fn impedance(&self, hz: f64) -> Complex64 {
        match *self {
            Driver::BalancedArmature {
                re_ohms,
                le_mh,
                semi_k,
                rm_ohms,
                lm_mh,
                cm_uf,
            } => {
                let semi = Complex64::new(0.0, omega(hz)).sqrt() * semi_k;
                let motional_admittance = 1.0 / Complex64::new(rm_ohms, 0.0)
                    + 1.0 / inductor(lm_mh * 1e-3, hz)
                    + 1.0 / capacitor(cm_uf * 1e-6, hz);
                Complex64::new(re_ohms, 0.0)
                    + inductor(le_mh * 1e-3, hz)
                    + semi
                    + 1.0 / motional_admittance
            }
            Driver::Dynamic {
                re_ohms,
                le_mh,
                fs_hz,
                qms,
                qes,
            } => {
                let res = re_ohms * qms / qes;
                let lces = re_ohms / (omega(fs_hz) * qes);
                let cmes = qes / (omega(fs_hz) * re_ohms);
                let motional_admittance =
                    1.0 / res + 1.0 / inductor(lces, hz) + 1.0 / capacitor(cmes, hz);
                Complex64::new(re_ohms, 0.0)
                    + inductor(le_mh * 1e-3, hz)
                    + 1.0 / motional_admittance
            }
        }
    }

    fn validate(&self, field: &dyn Fn(&str) -> String) -> Result<(), ValueError> {
        let check = |name: &str, v: f64, min: f64, max: f64| {
            check_range(&field(name), &v.to_string(), v, min, max).map(|_| ())
        };
        match *self {
            Driver::BalancedArmature {
                re_ohms,
                le_mh,
                semi_k,
                rm_ohms,
                lm_mh,
                cm_uf,
            } => {
                check("re_ohms", re_ohms, 0.01, 1e5)?;
                check("le_mh", le_mh, 0.0, 1e4)?;
                check("semi_k", semi_k, 0.0, 1e3)?;
                check("rm_ohms", rm_ohms, 1e-3, 1e6)?;
                check("lm_mh", lm_mh, 1e-6, 1e6)?;
                check("cm_uf", cm_uf, 1e-6, 1e6)
            }
            Driver::Dynamic {
                re_ohms,
                le_mh,
                fs_hz,
                qms,
                qes,
            } => {
                check("re_ohms", re_ohms, 0.01, 1e5)?;
                check("le_mh", le_mh, 0.0, 1e4)?;
                check("fs_hz", fs_hz, 1.0, 1e5)?;
                check("qms", qms, 1e-3, 1e4)?;
                check("qes", qes, 1e-3, 1e4)
            }
        }
    }
}

/// One driver (or several identical ones in parallel) with its crossover: series R, C and L in
/// front, and an optional R and C across the driver.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Branch {
    /// What this branch plays, e.g. "woofer" (for display).
    #[serde(default)]
    pub role: String,
    /// Identical drivers wired in parallel.
    #[serde(default = "one")]
    pub count: u32,
    #[serde(default)]
    pub series_ohms: f64,
    /// Series capacitor (a high-pass), µF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_uf: Option<f64>,
    /// Series inductor (a low-pass), mH.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub series_mh: Option<f64>,
    /// Resistor across the driver(s), Ω.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shunt_ohms: Option<f64>,
    /// Capacitor across the driver(s), µF.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub shunt_uf: Option<f64>,
    pub driver: Driver,
}

fn one() -> u32 {
    1
}

impl Branch {
    pub fn impedance(&self, hz: f64) -> Complex64 {
        let mut across = self.driver.impedance(hz) / f64::from(self.count.max(1));
        if let Some(r) = self.shunt_ohms {
            across = parallel(across, Complex64::new(r, 0.0));
        }
        if let Some(uf) = self.shunt_uf {
            across = parallel(across, capacitor(uf * 1e-6, hz));
        }
        let mut z = across + self.series_ohms;
        if let Some(uf) = self.series_uf {
            z += capacitor(uf * 1e-6, hz);
        }
        if let Some(mh) = self.series_mh {
            z += inductor(mh * 1e-3, hz);
        }
        z
    }
}

/// An IEM's electrical network: branches in parallel, behind an optional common series
/// resistance (wiring, a damping resistor).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Circuit {
    #[serde(default)]
    pub series_ohms: f64,
    pub branches: Vec<Branch>,
}

impl Circuit {
    pub fn impedance(&self, hz: f64) -> Complex64 {
        let admittance: Complex64 = self.branches.iter().map(|b| 1.0 / b.impedance(hz)).sum();
        1.0 / admittance + self.series_ohms
    }

    pub fn validate(&self, owner: &str) -> Result<(), ValueError> {
        if self.branches.is_empty() {
            return Err(ValueError::new(
                &format!("{owner} circuit"),
                "branches = []",
                "needs at least one driver branch",
            ));
        }
        for (i, branch) in self.branches.iter().enumerate() {
            let field = |f: &str| format!("{owner} branch {} {f}", i + 1);
            let check = |name: &str, v: Option<f64>, min: f64| match v {
                Some(v) => check_range(&field(name), &v.to_string(), v, min, 1e6).map(|_| ()),
                None => Ok(()),
            };
            check("series_ohms", Some(branch.series_ohms), 0.0)?;
            check("series_uf", branch.series_uf, 1e-6)?;
            check("series_mh", branch.series_mh, 0.0)?;
            check("shunt_ohms", branch.shunt_ohms, 1e-3)?;
            check("shunt_uf", branch.shunt_uf, 1e-6)?;
            branch.driver.validate(&field)?;
        }
        check_range(
            &format!("{owner} circuit series_ohms"),
            &self.series_ohms.to_string(),
            self.series_ohms,
            0.0,
            1e6,
        )?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dynamic() -> Driver {
        Driver::Dynamic {
            re_ohms: 16.0,
            le_mh: 0.0,
            fs_hz: 200.0,
            qms: 2.0,
            qes: 8.0,
        }
    }

    mod dynamic_driver {
        use super::*;

        /// At fs the motional L and C cancel and |Z| = Re + Res = Re·(1 + Qms/Qes), purely
        /// resistive.
        #[test]
        fn peak_at_resonance() {
            let z = dynamic().impedance(200.0);
            assert!((z.re - 20.0).abs() < 1e-9 && z.im.abs() < 1e-9, "{z}");
        }

        /// Far from fs the motional branch shorts out and only Re is left.
        #[test]
        fn re_far_from_resonance() {
            assert!((dynamic().impedance(0.01).re - 16.0).abs() < 1e-3);
            assert!((dynamic().impedance(1e7).re - 16.0).abs() < 1e-3);
        }
    }

    mod balanced_armature {
        use super::*;

        /// The semi-inductor has a constant 45° phase and |Z| ∝ √f.
        #[test]
        fn semi_inductor_phase() {
            let ba = Driver::BalancedArmature {
                re_ohms: 1e-9,
                le_mh: 0.0,
                semi_k: 0.5,
                rm_ohms: 1e-9,
                lm_mh: 1.0,
                cm_uf: 1.0,
            };
            for hz in [100.0, 1000.0, 10_000.0] {
                let z = ba.impedance(hz);
                assert!((z.arg().to_degrees() - 45.0).abs() < 1e-3, "{hz}: {z}");
                assert!((z.norm() - 0.5 * omega(hz).sqrt()).abs() < 1e-3);
            }
        }
    }

    mod branch {
        use super::*;

        /// A series capacitor dominates the branch at low frequency: |Z| ≈ 1/(ωC).
        #[test]
        fn series_cap_blocks_lows() {
            let b = Branch {
                role: "tweeter".into(),
                count: 2,
                series_ohms: 0.0,
                series_uf: Some(1.0),
                series_mh: None,
                shunt_ohms: None,
                shunt_uf: None,
                driver: dynamic(),
            };
            let z = b.impedance(10.0);
            assert!((z.norm() - 1.0 / (omega(10.0) * 1e-6)).abs() / z.norm() < 1e-3);
            // Two drivers in parallel halve the impedance where the cap is a short.
            assert!((b.impedance(1e7).re - 8.0).abs() < 1e-3);
        }
    }
}
