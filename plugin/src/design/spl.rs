//! The rig's pressure responses (`model::spl`) as filters: fitted with the audition's fixed poles,
//! with the pascals per unit of full scale folded into the weights, so `dsp::spl::pressure` outputs
//! pascals. Allocates; runs on the designer's thread.

use super::bank::Coefficients;
use super::fit::fit_magnitude;
use crate::model::Chain;
use crate::model::audition::highpass_corner_hz;
use crate::model::iem::{EARS, Ear};
use crate::model::spl::{diffuse_magnitude, eardrum_magnitude, pascals_per_full_scale};

/// The rig's two pressure filters per ear (left, right) at one rate, in pascals per unit of full
/// scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SplDesign {
    pub eardrum: [Coefficients; EARS],
    pub diffuse: [Coefficients; EARS],
    /// The rig IEM's passive isolation from the catalog, if it has one, dB.
    pub isolation_db: Option<f64>,
}

impl SplDesign {
    /// One ear's filters in both slots: for a meter fed that ear alone.
    pub fn ear(&self, ear: Ear) -> SplDesign {
        let e = ear.index();
        SplDesign {
            eardrum: [self.eardrum[e]; EARS],
            diffuse: [self.diffuse[e]; EARS],
            ..*self
        }
    }
}

/// Scales a design's output by `k` (every weight but the DC section's, which is a ratio).
fn scaled(c: &Coefficients, k: f64) -> Coefficients {
    Coefficients {
        b0: c.b0.map(|b| b * k),
        b1: c.b1.map(|b| b * k),
        fir: c.fir.map(|b| b * k),
        ..*c
    }
}

/// One earpiece's (eardrum, diffuse-field) filters.
fn design_ear(rig: &Chain, sample_rate_hz: f64) -> (Coefficients, Coefficients) {
    let corners = (highpass_corner_hz(rig), None);
    let eardrum = fit_magnitude(&|hz| eardrum_magnitude(rig, hz), corners, sample_rate_hz);
    let diffuse = fit_magnitude(&|hz| diffuse_magnitude(rig, hz), corners, sample_rate_hz);
    let pa_per_fs = pascals_per_full_scale(rig);
    (
        scaled(&eardrum.coefficients, pa_per_fs),
        scaled(&diffuse.coefficients, pa_per_fs),
    )
}

/// Designs the rig's pressure filters at `sample_rate_hz`, each earpiece on its own impedance
/// (once where the two are the same). Allocates; not on the audio thread.
pub fn design_spl(rig: &Chain, sample_rate_hz: f64) -> SplDesign {
    let left = design_ear(&rig.ear(Ear::Left), sample_rate_hz);
    let right = if rig.iem.ears_differ() {
        design_ear(&rig.ear(Ear::Right), sample_rate_hz)
    } else {
        left
    };
    SplDesign {
        eardrum: [left.0, right.0],
        diffuse: [left.1, right.1],
        isolation_db: rig.iem.isolation_db,
    }
}
