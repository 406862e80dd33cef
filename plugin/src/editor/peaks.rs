//! The peak section: a bar per channel (true peak filled, sample peak as a line, max-hold tick)
//! and the numeric max-holds of both true-peak readings.

use crate::dsp::MeterFrame;
use crate::dsp::MeterReceiver;
use crate::dsp::level::SILENCE_DB;
use crate::dsp::meter::ChannelReadings;

use super::widgets::meter_bar::{self, MeterBar};

const BAR_WIDTH: f32 = 22.0;

/// Picks one reading out of a channel's readings.
type Reading = fn(&ChannelReadings) -> f32;
const CHANNEL_NAMES: [&str; 2] = ["L", "R"];

/// A dB value for display: "−inf" for silence.
pub fn format_db(db: f32) -> String {
    if db <= SILENCE_DB + 1.0 {
        "−inf".to_owned()
    } else {
        format!("{db:+.1}")
    }
}

fn channel_name(frame: &MeterFrame, ch: usize) -> &'static str {
    if frame.channels == 1 {
        "M"
    } else {
        CHANNEL_NAMES.get(ch).copied().unwrap_or("?")
    }
}

/// Channels to draw: the host's layout, or stereo before the host has activated the plugin.
pub fn shown_channels(frame: &MeterFrame) -> usize {
    if frame.channels == 0 {
        2
    } else {
        frame.channels.min(2)
    }
}

pub fn show(ui: &mut egui::Ui, frame: &MeterFrame, meters: &MeterReceiver) {
    ui.label(egui::RichText::new("True peak").strong());
    let channels = shown_channels(frame);
    // Numeric max-holds above the bars.
    egui::Grid::new("peak_holds")
        .num_columns(channels + 1)
        .show(ui, |ui| {
            ui.label("");
            for ch in 0..channels {
                ui.label(egui::RichText::new(channel_name(frame, ch)).strong());
            }
            ui.end_row();
            let rows: [(&str, &str, Reading); 3] = [
                ("dBTP", "precise true-peak max-hold", |c| {
                    c.true_peak_max_dbtp
                }),
                ("BS.1770", "true-peak max-hold, BS.1770 4× filter", |c| {
                    c.true_peak_bs1770_max_dbtp
                }),
                ("dBFS", "sample-peak max-hold", |c| c.sample_peak_max_dbfs),
            ];
            for (label, hint, value) in rows {
                ui.label(label).on_hover_text(hint);
                for ch in 0..channels {
                    let v = value(&frame.channel[ch]);
                    let text = egui::RichText::new(format_db(v)).monospace();
                    let text = if v >= frame.over_threshold_dbtp && label != "dBFS" {
                        text.color(egui::Color32::from_rgb(240, 80, 70))
                    } else {
                        text
                    };
                    ui.label(text);
                }
                ui.end_row();
            }
        });
    let height = (ui.available_height() - 30.0).max(120.0);
    ui.horizontal(|ui| {
        meter_bar::scale(ui, egui::vec2(24.0, height));
        for ch in 0..channels {
            let c = &frame.channel[ch];
            MeterBar {
                level_db: c.true_peak_dbtp,
                line_db: c.sample_peak_dbfs,
                hold_db: c.true_peak_max_dbtp,
                threshold_db: frame.over_threshold_dbtp,
            }
            .show(ui, egui::vec2(BAR_WIDTH, height));
        }
    });
    if ui
        .button("Reset peaks")
        .on_hover_text("Clear the max-holds and the over count; loudness keeps measuring")
        .clicked()
    {
        meters.request_reset_peaks();
    }
}
