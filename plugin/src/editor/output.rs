//! The output section: the trim that follows everything else, and the over threshold.

use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

use crate::params::EarstageParams;

pub fn show(ui: &mut egui::Ui, params: &EarstageParams, setter: &ParamSetter) {
    ui.horizontal(|ui| {
        ui.label("Trim");
        ui.add(ParamSlider::for_param(&params.trim_db, setter).with_width(160.0))
            .on_hover_text("0 dB passes the monitor feed through unchanged, bit for bit");
        ui.add_space(16.0);
        ui.label("Over threshold");
        ui.add(ParamSlider::for_param(&params.over_threshold_dbtp, setter).with_width(160.0))
            .on_hover_text(
                "True peaks above this count as overs (−1 dBTP for codec or transmitter headroom)",
            );
    });
}
