//! Parameter widgets the panels share: a labelled slider row, a checkbox, and the whole gesture
//! a click writes.

use nice_plug::prelude::*;
use nice_plug_egui::widgets::ParamSlider;

/// A whole parameter gesture: the host records one automation point.
pub fn set_param<P: Param>(setter: &ParamSetter, param: &P, value: P::Plain) {
    setter.begin_set_parameter(param);
    setter.set_parameter(param, value);
    setter.end_set_parameter(param);
}

/// A label and a parameter's slider `width` points wide; the slider's response, for a hover text.
pub fn slider_row<P: Param>(
    ui: &mut egui::Ui,
    label: &str,
    param: &P,
    setter: &ParamSetter,
    width: f32,
) -> egui::Response {
    ui.horizontal(|ui| {
        ui.label(label);
        ui.add(ParamSlider::for_param(param, setter).with_width(width))
    })
    .inner
}

/// A parameter's checkbox; the response, for a hover text.
pub fn toggle(
    ui: &mut egui::Ui,
    setter: &ParamSetter,
    param: &BoolParam,
    label: &str,
) -> egui::Response {
    let mut on = param.value();
    let response = ui.checkbox(&mut on, label);
    if response.changed() {
        set_param(setter, param, on);
    }
    response
}
