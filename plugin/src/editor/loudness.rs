//! The loudness section: momentary, short-term, integrated, range, the maxima, PLR and PSR, the
//! integrated reading coloured against the delivery target.

use egui::Color32;

use crate::dsp::MeterReceiver;
use crate::dsp::meter::loudness::LoudnessReadings;
use crate::model::delivery::{DeliveryTarget, plr_lu, psr_lu};

const ON_TARGET: Color32 = Color32::from_rgb(110, 210, 110);
const OFF_TARGET: Color32 = Color32::from_rgb(255, 160, 60);

/// What the section judges the readings by.
pub struct Judged {
    pub target: Option<DeliveryTarget>,
    /// The highest true peak since the reset, over the channels, dBTP.
    pub true_peak_max_dbtp: Option<f64>,
    /// The highest true peak of the last 3 s, dBTP (from the history).
    pub true_peak_3s_dbtp: Option<f64>,
}

/// Tech 3341 §2.4: the loudness range is not stable during the first minute.
const LRA_SETTLE_S: f64 = 60.0;

fn lufs(value: Option<f64>) -> String {
    match value {
        Some(v) if v.is_finite() => format!("{v:.1}"),
        _ => "—".to_owned(),
    }
}

pub fn show(ui: &mut egui::Ui, l: &LoudnessReadings, judged: &Judged, meters: &MeterReceiver) {
    ui.label(egui::RichText::new("Loudness (EBU Mode)").strong());
    egui::Grid::new("loudness")
        .num_columns(3)
        .spacing([16.0, 4.0])
        .show(ui, |ui| {
            loudness_rows(ui, l, judged.target);
            ratio_rows(ui, l, judged);
        });
    if let Some(t) = &judged.target {
        let verdict = t.verdict(l.integrated_lufs, judged.true_peak_max_dbtp);
        let on = l.integrated_lufs.is_some_and(|i| t.loudness_on_target(i))
            && judged
                .true_peak_max_dbtp
                .is_none_or(|p| t.peak_on_target(p));
        ui.small(egui::RichText::new(format!("{t}: {verdict}")).color(if on {
            ON_TARGET
        } else {
            OFF_TARGET
        }));
    }
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

/// A reading of the grid, in big figures.
fn big(text: String) -> egui::RichText {
    egui::RichText::new(text).monospace().size(18.0)
}

/// The loudness rows of the grid, the integrated one coloured against `target`.
fn loudness_rows(ui: &mut egui::Ui, l: &LoudnessReadings, target: Option<DeliveryTarget>) {
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
        let text = big(lufs(value));
        let text = match (name, target, value) {
            ("Integrated", Some(t), Some(v)) if v.is_finite() => {
                text.color(if t.loudness_on_target(v) {
                    ON_TARGET
                } else {
                    OFF_TARGET
                })
            }
            _ => text,
        };
        ui.label(text);
        ui.small(unit);
        ui.end_row();
    }
}

/// The PLR and PSR rows of the grid.
fn ratio_rows(ui: &mut egui::Ui, l: &LoudnessReadings, judged: &Judged) {
    let ratios = [
        (
            "PLR",
            "LU, true-peak max − integrated",
            plr_lu(judged.true_peak_max_dbtp, l.integrated_lufs),
        ),
        (
            "PSR",
            "LU, true peak of the last 3 s − short-term",
            psr_lu(judged.true_peak_3s_dbtp, l.short_term_lufs),
        ),
    ];
    for (name, unit, value) in ratios {
        ui.label(name);
        ui.label(big(lufs(value)));
        ui.small(unit);
        ui.end_row();
    }
}

pub fn format_duration(seconds: f64) -> String {
    let s = seconds as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}
