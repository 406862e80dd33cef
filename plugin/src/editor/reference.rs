//! Reference level and stage mode: what the rig delivers for the calibration noise against the
//! user's target, the calibration noise itself, and the stage leak.

use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

use crate::dsp::spl::exposure::EarReadings;
use crate::dsp::spl::stage::SplReadings;
use crate::model::Chain;
use crate::model::spl::{PinkBand, ReferenceLevel, SILENCE_DB, Stage};
use crate::params::EarstageParams;

use super::widgets::param::{slider_row, toggle};

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
    reference_level(ui, params, setter, view);
    noise(ui, params, spl, generator);
    ui.add_space(8.0);
    stage(ui, params, setter, spl, view.rig.as_ref());
}

/// The reference level: its target, what the rig delivers for the noise and how to reach it.
fn reference_level(
    ui: &mut egui::Ui,
    params: &EarstageParams,
    setter: &ParamSetter,
    view: &ReferenceView,
) {
    ui.label(egui::RichText::new("Reference level").strong())
        .on_hover_text(
            "The level −20 dBFS RMS pink noise (AES17: a full-scale sine is 0 dBFS) should reach \
             at your eardrum, as LAeq; 79–85 are common choices",
        );
    slider_row(ui, "Target", &params.reference_dba, setter, 150.0);
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
}

/// The calibration noise's band picker and, while it plays, the level measured at the ears.
fn noise(
    ui: &mut egui::Ui,
    params: &EarstageParams,
    spl: &SplReadings,
    generator: Option<PinkBand>,
) {
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
        let live = per_ear(&all[..spl.ears.max(1)], |e| format!("{:.1}", e.las_db));
        ui.label(
            egui::RichText::new(format!("noise on · measured LAS {live} dBA")).color(NOISE_ON),
        );
    }
}

/// Stage mode: the ambient level and the IEM's isolation, and what the leak does at the ears.
fn stage(
    ui: &mut egui::Ui,
    params: &EarstageParams,
    setter: &ParamSetter,
    spl: &SplReadings,
    rig: Option<&Chain>,
) {
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
    slider_row(ui, "Ambient", &params.ambient_dba, setter, 150.0);
    let catalog = rig.and_then(|r| r.iem.isolation_db);
    isolation(ui, params, setter, catalog);
    let stage = Stage {
        ambient_dba: f64::from(params.ambient_dba.value()),
        isolation_db: Stage::isolation_db(
            catalog,
            f64::from(params.isolation_db.value()),
            params.isolation_from_catalog.value(),
        ),
    };
    stage_readout(ui, &stage, spl, on);
}

/// The isolation: the user's figure, or the IEM's `catalog` figure when there is one and chosen.
fn isolation(
    ui: &mut egui::Ui,
    params: &EarstageParams,
    setter: &ParamSetter,
    catalog: Option<f64>,
) {
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
}

/// The leak, the mix's margin over it per ear and, in stage mode (`on`), the exposure with it.
fn stage_readout(ui: &mut egui::Ui, stage: &Stage, spl: &SplReadings, on: bool) {
    let all = spl.ear_readings();
    let ears = &all[..spl.ears.max(1)];
    let margins = per_ear(ears, |e| {
        if e.las_df_db > SILENCE_DB {
            format!("{:+.1}", stage.margin_db(e.las_df_db))
        } else {
            "—".to_owned()
        }
    });
    ui.label(format!(
        "leak {:.1} dBA · mix over leak {margins} dB",
        stage.leak_dba(),
    ));
    if on {
        let combined = per_ear(ears, |e| format!("{:.1}", e.exposure_dba));
        ui.label(format!("exposure (mix + leak) {combined} dBA"));
    }
}

/// One figure per ear, as "L / R".
fn per_ear(ears: &[EarReadings], figure: impl Fn(&EarReadings) -> String) -> String {
    ears.iter().map(figure).collect::<Vec<_>>().join(" / ")
}
