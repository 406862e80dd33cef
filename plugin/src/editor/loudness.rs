//! The loudness section: momentary, short-term, integrated, range, and the maxima.

use crate::dsp::MeterReceiver;
use crate::dsp::loudness::LoudnessReadings;

/// Tech 3341 §2.4: the loudness range is not stable during the first minute.
const LRA_SETTLE_S: f64 = 60.0;

fn lufs(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.1}"),
        _ => "—".to_owned(),
    }
}

pub fn show(ui: &mut egui::Ui, l: &LoudnessReadings, meters: &MeterReceiver) {
    ui.label(egui::RichText::new("Loudness (EBU Mode)").strong());
    egui::Grid::new("loudness")
        .num_columns(3)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            let big = |text: String| egui::RichText::new(text).monospace().size(18.0);
            let rows = [
                ("Momentary", "LUFS, 400 ms", l.momentary_lufs),
                ("Short-term", "LUFS, 3 s", l.short_term_lufs),
                ("Integrated", "LUFS, gated, since reset", l.integrated_lufs),
                ("Range", "LU (EBU Tech 3342)", l.loudness_range_lu),
                ("Max momentary", "LUFS", l.momentary_max_lufs),
                ("Max short-term", "LUFS", l.short_term_max_lufs),
            ];
            for (name, unit, value) in rows {
                ui.label(name);
                ui.label(big(lufs(value)));
                ui.small(unit);
                ui.end_row();
            }
        });
    ui.horizontal(|ui| {
        ui.small(format!("measuring for {}", format_duration(l.measured_s)));
        if l.measured_s < LRA_SETTLE_S {
            ui.small("· range not yet stable (< 60 s)");
        }
    });
    if ui
        .button("Reset measurement")
        .on_hover_text("Start integrated loudness, range, maxima, peaks and overs again")
        .clicked()
    {
        meters.request_reset_all();
    }
}

pub fn format_duration(seconds: f64) -> String {
    let s = seconds as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
