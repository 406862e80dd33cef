//! The delivery target and the transport options: which spec the loudness readings and the
//! history are judged against (a preset, or the user's own loudness and ceiling), and whether
//! the measurement starts again when the transport starts or holds its integration while the
//! transport is stopped.

use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

use crate::params::{EarstageParams, TargetParam};

use super::widgets::param::{slider_row, toggle};

pub fn show(ui: &mut egui::Ui, params: &EarstageParams, setter: &ParamSetter) {
    slider_row(ui, "Target", &params.target, setter, 190.0).on_hover_text(
        "The delivery spec the integrated loudness and true peak are coloured against, drawn on \
         the history as a line and its tolerance band",
    );
    if params.target.value() == TargetParam::Custom {
        ui.horizontal(|ui| {
            ui.label("Loudness");
            ui.add(ParamSlider::for_param(&params.target_lufs, setter).with_width(110.0));
            ui.label("Ceiling");
            ui.add(ParamSlider::for_param(&params.target_ceiling_dbtp, setter).with_width(110.0));
        });
    }
    ui.horizontal(|ui| {
        toggle(ui, setter, &params.reset_on_play, "Reset on play")
            .on_hover_text("Start the measurement again each time the host's transport starts");
        toggle(
            ui,
            setter,
            &params.pause_when_stopped,
            "Pause integration when stopped",
        )
        .on_hover_text(
            "Hold the integrated loudness and range while the host's transport is stopped; \
             momentary, short-term, peaks and the history go on",
        );
    });
}
