//! The output section: the trim that follows everything else.

use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

use crate::params::EarstageParams;

pub fn show(ui: &mut egui::Ui, params: &EarstageParams, setter: &ParamSetter) {
    ui.group(|ui| {
        ui.label(egui::RichText::new("Output").strong());
        ui.horizontal(|ui| {
            ui.label("Trim");
            ui.add(ParamSlider::for_param(&params.trim_db, setter).with_width(220.0));
        });
        ui.small("0 dB passes the monitor feed through unchanged, bit for bit.");
    });
}
