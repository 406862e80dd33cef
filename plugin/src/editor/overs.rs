//! The over section: count per channel and the log of the newest overs.

use std::collections::VecDeque;

use crate::dsp::{MeterFrame, OverEvent};

/// Show the overs; returns whether the user cleared the log.
pub fn show(ui: &mut egui::Ui, frame: &MeterFrame, log: &VecDeque<OverEvent>) -> bool {
    ui.horizontal(|ui| {
        ui.label(egui::RichText::new("Overs").strong());
        ui.small(format!("above {:+.1} dBTP", frame.over_threshold_dbtp));
    });
    ui.horizontal(|ui| {
        for ch in 0..super::peaks::shown_channels(frame) {
            let count = frame.channel[ch].overs;
            let text = egui::RichText::new(format!("ch {}: {count}", ch + 1)).monospace();
            ui.label(if count > 0 {
                text.color(egui::Color32::from_rgb(240, 80, 70))
            } else {
                text
            });
        }
    });
    egui::ScrollArea::vertical()
        .max_height(120.0)
        .show(ui, |ui| {
            if log.is_empty() {
                ui.small("No overs since the last reset.");
            }
            for event in log {
                ui.monospace(format!(
                    "{}  ch {}  {:+.2} dBTP",
                    format_time(event.time_s),
                    event.channel + 1,
                    event.level_dbtp
                ));
            }
        });
    ui.button("Clear log").clicked()
}

/// Session time as h:mm:ss.mmm.
fn format_time(seconds: f64) -> String {
    let ms = (seconds * 1000.0).round() as u64;
    format!(
        "{}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}
