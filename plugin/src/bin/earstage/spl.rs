//! Delivered SPL and exposure of a file played through a chain, offline: each channel is filtered
//! by the chain's response with the same filter the plugin's audition uses (the band-limited
//! minimum-phase response of |H|, fitted to within 0.1 dB) and scaled to eardrum pressure,
//! `p = x·√2·V_fs·g·(h ⊛)·20 µPa·10^(S_V/20)` (docs/chain.md), then metered by the same exposure
//! meter as the plugin.

use earstage::dsp::bank::BankFilter;
use earstage::dsp::design::fit_magnitude;
use earstage::dsp::exposure::ExposureMeter;
use earstage::model::audition::highpass_corner_hz;
use earstage::model::eardrum::diffuse_to_eardrum_db;
use earstage::model::{Chain, from_db};
use serde::Serialize;

/// A chain's response as a running filter: `magnitude` shaped, band-limited minimum phase.
fn chain_filter(chain: &Chain, sample_rate_hz: f64, magnitude: &dyn Fn(f64) -> f64) -> BankFilter {
    let corners = (highpass_corner_hz(chain), None);
    let fitted = fit_magnitude(magnitude, corners, sample_rate_hz);
    let mut filter = BankFilter::new(sample_rate_hz, 1);
    filter.settle(&fitted.coefficients);
    filter
}

/// One ear: the eardrum path and the diffuse-field-equivalent path.
struct Ear {
    eardrum: BankFilter,
    diffuse: BankFilter,
    eardrum_meter: ExposureMeter,
    diffuse_meter: ExposureMeter,
}

/// Delivered SPL and dose, per channel (ear), channel order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SplReport {
    pub chain_iem: String,
    pub chain_source: String,
    pub chain_attenuator: String,
    /// LAeq at the eardrum, dBA.
    pub laeq_dba: Vec<f64>,
    /// LAeq, diffuse-field equivalent, dBA (what exposure limits are written for).
    pub laeq_df_dba: Vec<f64>,
    /// Peak C-weighted level at the eardrum, dBC.
    pub lcpeak_dbc: Vec<f64>,
    /// NIOSH daily dose (diffuse-field equivalent), %.
    pub dose_niosh_percent: Vec<f64>,
    /// WHO/ITU-T H.870 weekly dose (diffuse-field equivalent), %.
    pub dose_who_percent: Vec<f64>,
}

/// Meters what a chain delivers for planar audio fed block by block.
pub struct SplAnalyzer {
    chain: Chain,
    ears: Vec<Ear>,
    /// Pascals at the eardrum per unit of full scale.
    pa_per_fs: f64,
    scratch: Vec<f32>,
    pressure: Vec<f64>,
}

impl SplAnalyzer {
    pub fn new(chain: &Chain, sample_rate_hz: f64, channels: usize) -> Self {
        // Pascals per unit of full scale: √2·V_fs·g (EMF peak of a 0 dBFS sine) · 20 µPa·10^(S_V/20).
        let pa_per_fs = std::f64::consts::SQRT_2
            * chain.source.emf_at_full_scale_volts()
            * 20e-6
            * from_db(chain.iem.sensitivity_db_per_volt());
        let h = |hz: f64| chain.transfer(hz).norm();
        let diffuse = |hz: f64| h(hz) * from_db(-diffuse_to_eardrum_db(hz));
        let eardrum_filter = chain_filter(chain, sample_rate_hz, &h);
        let diffuse_filter = chain_filter(chain, sample_rate_hz, &diffuse);
        let ears = (0..channels)
            .map(|_| Ear {
                eardrum: eardrum_filter.clone(),
                diffuse: diffuse_filter.clone(),
                eardrum_meter: ExposureMeter::new(sample_rate_hz),
                diffuse_meter: ExposureMeter::new(sample_rate_hz),
            })
            .collect();
        Self {
            chain: chain.clone(),
            ears,
            pa_per_fs,
            scratch: Vec::new(),
            pressure: Vec::new(),
        }
    }

    pub fn push(&mut self, planar: &[Vec<f32>]) {
        let pa_per_fs = self.pa_per_fs;
        for (ear, x) in self.ears.iter_mut().zip(planar) {
            for (filter, meter) in [
                (&mut ear.eardrum, &mut ear.eardrum_meter),
                (&mut ear.diffuse, &mut ear.diffuse_meter),
            ] {
                self.scratch.clear();
                self.scratch.extend_from_slice(x);
                filter.process(&mut [&mut self.scratch]);
                self.pressure.clear();
                self.pressure
                    .extend(self.scratch.iter().map(|&v| f64::from(v) * pa_per_fs));
                meter.push(&self.pressure);
            }
        }
    }

    pub fn finish(self) -> SplReport {
        let each = |f: fn(&Ear) -> f64| self.ears.iter().map(f).collect::<Vec<f64>>();
        SplReport {
            chain_iem: self.chain.iem.name.clone(),
            chain_source: self.chain.source.name.clone(),
            chain_attenuator: self.chain.attenuator.name.clone(),
            laeq_dba: each(|e| e.eardrum_meter.laeq_db()),
            laeq_df_dba: each(|e| e.diffuse_meter.laeq_db()),
            lcpeak_dbc: each(|e| e.eardrum_meter.lcpeak_db()),
            dose_niosh_percent: each(|e| e.diffuse_meter.niosh_dose_percent()),
            dose_who_percent: each(|e| e.diffuse_meter.who_dose_percent()),
        }
    }
}

impl SplReport {
    pub fn print_text(&self) {
        let list = |v: &[f64], digits: usize| {
            v.iter()
                .map(|x| format!("{x:7.digits$}"))
                .collect::<Vec<_>>()
                .join("  ")
        };
        println!(
            "  delivered by          {} on {}{}",
            self.chain_iem,
            self.chain_source,
            if self.chain_attenuator == "none" {
                String::new()
            } else {
                format!(" via {}", self.chain_attenuator)
            }
        );
        println!("  LAeq at the eardrum   {} dBA", list(&self.laeq_dba, 1));
        println!("  LAeq diffuse-field    {} dBA", list(&self.laeq_df_dba, 1));
        println!("  LCpeak                {} dBC", list(&self.lcpeak_dbc, 1));
        println!(
            "  NIOSH dose            {} % of the daily allowance",
            list(&self.dose_niosh_percent, 3)
        );
        println!(
            "  WHO dose              {} % of the weekly allowance",
            list(&self.dose_who_percent, 3)
        );
    }
}
