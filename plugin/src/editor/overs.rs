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
                let mut line = format!(
                    "{}  ch {}  {:+.2} dBTP",
                    format_time(event.time_s),
                    event.channel + 1,
                    event.level_dbtp
                );
                if let Some(t) = event.timeline_s {
                    line.push_str(&format!("  @ {}", format_time(t)));
                }
                if let Some(w) = event.wall_clock_s {
                    line.push_str(&format!("  {}", utc_time_of_day(w)));
                }
                ui.monospace(line);
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

/// A wall-clock time as hh:mm:ss UTC.
fn utc_time_of_day(unix_s: f64) -> String {
    let s = unix_s.max(0.0) as u64 % 86_400;
    format!("{:02}:{:02}:{:02} UTC", s / 3600, s / 60 % 60, s % 60)
}

/// The over log as CSV, oldest first: measured time, channel, level, the host's timeline
/// position and the wall-clock time (Unix seconds), the last two empty where unknown.
pub fn log_csv(log: &VecDeque<OverEvent>) -> String {
    let mut csv = String::from("time_s,channel,level_dbtp,timeline_s,wall_clock_unix_s\n");
    let cell = |v: Option<f64>, digits: usize| v.map_or(String::new(), |v| format!("{v:.digits$}"));
    for e in log.iter().rev() {
        csv.push_str(&format!(
            "{:.3},{},{:.2},{},{}\n",
            e.time_s,
            e.channel + 1,
            e.level_dbtp,
            cell(e.timeline_s, 3),
            cell(e.wall_clock_s, 3)
        ));
    }
    csv
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_log_exports_oldest_first_with_unknowns_empty() {
        let mut log = VecDeque::new();
        log.push_front(OverEvent {
            time_s: 1.5,
            channel: 0,
            level_dbtp: 0.25,
            timeline_s: Some(61.5),
            wall_clock_s: Some(1_764_806_400.25),
        });
        log.push_front(OverEvent {
            time_s: 2.0,
            channel: 1,
            level_dbtp: 1.0,
            ..OverEvent::default()
        });
        assert_eq!(
            log_csv(&log),
            "time_s,channel,level_dbtp,timeline_s,wall_clock_unix_s\n\
             1.500,1,0.25,61.500,1764806400.250\n\
             2.000,2,1.00,,\n"
        );
        assert_eq!(utc_time_of_day(1_764_806_400.25 + 3_723.0), "01:02:03 UTC");
    }
}
