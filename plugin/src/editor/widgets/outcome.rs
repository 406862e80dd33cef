//! The line under an action that can fail (an import, a calibration): what it did, or why not.

/// What the last action did, small, or why it failed, small in `error`; nothing before the first.
pub fn show(ui: &mut egui::Ui, outcome: &Option<Result<String, String>>, error: egui::Color32) {
    match outcome {
        Some(Ok(text)) => {
            ui.label(egui::RichText::new(text).small());
        }
        Some(Err(text)) => {
            ui.label(egui::RichText::new(text).small().color(error));
        }
        None => {}
    }
}
