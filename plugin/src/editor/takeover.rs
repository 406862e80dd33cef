//! The banner across the top while a calibration signal (the noise, the tone) replaces the sound,
//! so it is never mistaken for the mix, with a button to stop it.

use super::reference::NOISE_ON;

/// The banner saying `text`; whether its `stop` button was clicked.
pub fn show(ui: &mut egui::Ui, text: String, stop: &str) -> bool {
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(text)
                .size(18.0)
                .strong()
                .color(NOISE_ON),
        );
        ui.button(stop).clicked()
    })
    .inner
}
