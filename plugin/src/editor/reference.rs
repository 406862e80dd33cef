//! Reference level and stage mode: what the rig delivers for the calibration noise against the
//! user's target, the calibration noise itself, and the stage leak.

use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

use crate::dsp::spl::stage::SplReadings;
use crate::model::Chain;
use crate::model::spl::{PinkBand, ReferenceLevel, SILENCE_DB, Stage};
use crate::params::EarstageParams;

/// Volume changes smaller than this count as "on target", dB.
const ON_TARGET_DB: f64 = 0.25;
/// The warning colour of the calibration noise.
pub const NOISE_ON: egui::Color32 = egui::Color32::from_rgb(235, 80, 70);

/// The panel's derived figures: the model's reference level for the stored rig, remade when the
/// rig, the target or the band changes.
pub struct ReferenceView {
    key: Option<(u64, u32, PinkBand)>,
    rig: Option<Chain>,
    reference: Option<ReferenceLevel>,
    /// The band the reference is read for (the calibration noise's, or the last one played).
    band: PinkBand,
}

impl ReferenceView {
    pub fn new() -> Self {
        Self {
            key: None,
            rig: None,
            reference: None,
            band: PinkBand::Full,
        }
    }

    fn refresh(&mut self, params: &EarstageParams) {
        let target = params.reference_dba.value();
        let key = (params.chain.revision(), target.to_bits(), self.band);
        if self.key != Some(key) {
            let rig = params.chain.get();
            self.reference = Some(ReferenceLevel::new(&rig, self.band, f64::from(target)));
            self.rig = Some(rig);
            self.key = Some(key);
        }
    }
}

/// A parameter's checkbox; the response, for a hover text.
pub(super) fn toggle(
    ui: &mut egui::Ui,
    setter: &ParamSetter,
    param: &BoolParam,
    label: &str,
) -> egui::Response {
    let mut on = param.value();
    let response = ui.checkbox(&mut on, label);
    if response.changed() {
        setter.begin_set_parameter(param);
        setter.set_parameter(param, on);
        setter.end_set_parameter(param);
    }
    response
}

pub fn show(
    ui: &mut egui::Ui,
    params: &EarstageParams,
    setter: &ParamSetter,
    spl: &SplReadings,
    view: &mut ReferenceView,
) {
    let generator = params.monitoring.generator();
    if let Some(band) = generator {
        view.band = band;
    }
    view.refresh(params);
    ui.label(egui::RichText::new("Reference level").strong())
        .on_hover_text(
            "The level −20 dBFS RMS pink noise (AES17: a full-scale sine is 0 dBFS) should reach \
             at your eardrum, as LAeq; 79–85 are common choices",
        );
    ui.horizontal(|ui| {
        ui.label("Target");
        ui.add(ParamSlider::for_param(&params.reference_dba, setter).with_width(150.0));
    });
    if let (Some(r), Some(rig)) = (&view.reference, &view.rig) {
        ui.label(format!(
            "−20 dBFS {} plays {:.1} dBA",
            view.band.label(),
            r.delivered_dba
        ));
        let change = r.volume_change_db;
        let text = if change.abs() < ON_TARGET_DB {
            "on target".to_owned()
        } else {
            format!(
                "turn {} {:.1} dB: source volume {:+.1} to {:+.1} dB",
                if change < 0.0 { "down" } else { "up" },
                change.abs(),
                rig.source.volume_db,
                r.volume_needed_db
            )
        };
        ui.label(egui::RichText::new(text).strong());
    }
    ui.horizontal(|ui| {
        ui.label("Noise");
        for (band, label) in [
            (None, "Off"),
            (Some(PinkBand::Full), "Pink"),
            (Some(PinkBand::Mid), "Pink 500–2k"),
        ] {
            if ui
                .selectable_label(generator == band, label)
                .on_hover_text("Replaces the feed with −20 dBFS RMS pink noise while on")
                .clicked()
            {
                params.monitoring.set_generator(band);
            }
        }
    });
    if generator.is_some() && spl.ready {
        let all = spl.ear_readings();
        let live: Vec<String> = all[..spl.ears.max(1)]
            .iter()
            .map(|e| format!("{:.1}", e.las_db))
            .collect();
        ui.label(
            egui::RichText::new(format!("noise on · measured LAS {} dBA", live.join(" / ")))
                .color(NOISE_ON),
        );
    }

    ui.add_space(8.0);
    ui.label(egui::RichText::new("Stage").strong())
        .on_hover_text(
            "The stage's sound leaks past the seal: ambient level less the IEM's isolation reaches \
         the ear as well, and joins the dose while stage mode is on",
        );
    toggle(
        ui,
        setter,
        &params.stage,
        "Stage mode (leak joins the dose)",
    );
    let on = params.stage.value();
    ui.horizontal(|ui| {
        ui.label("Ambient");
        ui.add(ParamSlider::for_param(&params.ambient_dba, setter).with_width(150.0));
    });
    let catalog = view.rig.as_ref().and_then(|r| r.iem.isolation_db);
    let from_catalog = catalog.is_some() && params.isolation_from_catalog.value();
    ui.horizontal(|ui| {
        ui.label("Isolation");
        ui.add_enabled(
            !from_catalog,
            ParamSlider::for_param(&params.isolation_db, setter).with_width(150.0),
        );
    });
    match catalog {
        Some(iso) => {
            toggle(
                ui,
                setter,
                &params.isolation_from_catalog,
                &format!("use the IEM's catalog figure ({iso:.0} dB)"),
            );
        }
        None => {
            ui.small("the rig's IEM has no catalog isolation: your figure is used");
        }
    }
    let stage = Stage {
        ambient_dba: f64::from(params.ambient_dba.value()),
        isolation_db: Stage::isolation_db(
            catalog,
            f64::from(params.isolation_db.value()),
            params.isolation_from_catalog.value(),
        ),
    };
    let all = spl.ear_readings();
    let ears = &all[..spl.ears.max(1)];
    let margins: Vec<String> = ears
        .iter()
        .map(|e| {
            if e.las_df_db > SILENCE_DB {
                format!("{:+.1}", stage.margin_db(e.las_df_db))
            } else {
                "—".to_owned()
            }
        })
        .collect();
    ui.label(format!(
        "leak {:.1} dBA · mix over leak {} dB",
        stage.leak_dba(),
        margins.join(" / ")
    ));
    if on {
        let combined: Vec<String> = ears
            .iter()
            .map(|e| format!("{:.1}", e.exposure_dba))
            .collect();
        ui.label(format!(
            "exposure (mix + leak) {} dBA",
            combined.join(" / ")
        ));
    }
}
