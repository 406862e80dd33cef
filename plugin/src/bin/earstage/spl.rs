//! Delivered SPL and exposure of a file played through a chain, offline: the plugin's own SPL
//! meter (`earstage::dsp::spl`), with the rig's pressure filters designed before the first block,
//! each channel metered as one ear.

use earstage::dsp::spl::{SplStage, design_spl};
use earstage::model::Chain;
use serde::Serialize;

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
    /// One meter per channel.
    stages: Vec<SplStage>,
}

impl SplAnalyzer {
    pub fn new(chain: &Chain, sample_rate_hz: f64, channels: usize) -> Self {
        let design = design_spl(chain, sample_rate_hz);
        let stages = (0..channels)
            .map(|_| {
                let mut stage = SplStage::new(sample_rate_hz);
                stage.set_design(&design);
                stage
            })
            .collect();
        Self {
            chain: chain.clone(),
            stages,
        }
    }

    pub fn push(&mut self, planar: &[Vec<f32>]) {
        for (stage, channel) in self.stages.iter_mut().zip(planar) {
            stage.process(std::slice::from_ref(channel));
        }
    }

    pub fn finish(self) -> SplReport {
        let ears: Vec<_> = self
            .stages
            .iter()
            .map(|s| s.readings(1).ear_readings()[0])
            .collect();
        let each = |f: fn(&earstage::dsp::exposure::EarReadings) -> f64| {
            ears.iter().map(f).collect::<Vec<f64>>()
        };
        SplReport {
            chain_iem: self.chain.iem.name.clone(),
            chain_source: self.chain.source.name.clone(),
            chain_attenuator: self.chain.attenuator.name.clone(),
            laeq_dba: each(|e| e.laeq_db),
            laeq_df_dba: each(|e| e.laeq_df_db),
            lcpeak_dbc: each(|e| e.lcpeak_db),
            dose_niosh_percent: each(|e| e.niosh_percent),
            dose_who_percent: each(|e| e.who_percent),
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
