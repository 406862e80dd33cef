//! The notice after a state load that could not restore everything: which values fell back to
//! their defaults, and why.

use nice_plug::params::persist::PersistentField;

use crate::persist::Stored;

const WARNING: egui::Color32 = egui::Color32::from_rgb(240, 180, 60);

/// The notice, while the last load's report has entries.
pub fn show(ui: &mut egui::Ui, report: &Stored<Vec<String>>) {
    let problems = PersistentField::map(report, |r| r.clone());
    if problems.is_empty() {
        return;
    }
    ui.horizontal(|ui| {
        let noun = if problems.len() == 1 {
            "value"
        } else {
            "values"
        };
        ui.label(
            egui::RichText::new(format!(
                "The loaded state could not restore {} {noun}: defaults are used instead",
                problems.len()
            ))
            .strong()
            .color(WARNING),
        );
        if ui.small_button("Dismiss").clicked() {
            report.replace(Vec::new());
        }
    });
    egui::CollapsingHeader::new("Which, and why")
        .id_salt("load_report")
        .show(ui, |ui| {
            for problem in &problems {
                ui.label(egui::RichText::new(problem).small());
            }
        });
}
