//! The fields of a per-earpiece file import: a label, the path, which earpieces (both, left or
//! right) and an Import button, laid out in the caller's row.

use crate::model::iem::Ear;

/// The earpieces an import is for (`None`: both).
pub fn ear_name(ear: Option<Ear>) -> &'static str {
    ear.map_or("both ears", |e| e.name())
}

/// Draws the fields; true when Import was clicked. `id` keeps this row's ear picker apart from
/// another's.
pub fn fields(
    ui: &mut egui::Ui,
    (label, hint, id): (&str, &str, &str),
    path: &mut String,
    ear: &mut Option<Ear>,
) -> bool {
    ui.label(label);
    ui.add(
        egui::TextEdit::singleline(path)
            .hint_text(hint)
            .desired_width(150.0),
    );
    egui::ComboBox::from_id_salt(id)
        .selected_text(ear_name(*ear))
        .width(80.0)
        .show_ui(ui, |ui| {
            for choice in [None, Some(Ear::Left), Some(Ear::Right)] {
                ui.selectable_value(ear, choice, ear_name(choice));
            }
        });
    ui.button("Import").clicked()
}
