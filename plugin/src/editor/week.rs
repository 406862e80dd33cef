//! "You, these seven days": the listener's rolling week from every instance and project (the
//! listener thread's figures), beside the project's own in the ears panel, and the warnings of
//! IEC 62368-1 (each further 100 % of the weekly dose; a momentary level above 100 dBA).

use std::sync::atomic::Ordering;

use egui::Color32;

use crate::dsp::spl::stage::SplReadings;
use crate::model::week::MOMENTARY_WARNING_DBA;
use crate::week::WeekShared;

use super::ears::{dose_colour, figure};

pub(super) const WARNING: Color32 = Color32::from_rgb(240, 90, 90);

pub fn show(ui: &mut egui::Ui, week: &WeekShared, spl: &SplReadings) {
    warnings(ui, week, spl);
    ui.label(egui::RichText::new("You, these 7 days").strong())
        .on_hover_text(
            "Every instance and project on this computer, rolling: IEC 62368-1's computed sound \
             dose, which is also WHO/ITU-T H.870's weekly 1.6 Pa²h (80 dBA for 40 h = 100 %). \
             Instances playing at once count as one pair of ears (each ear takes the louder). \
             Offline renders and bounces are not counted.",
        );
    let weekly = week
        .weekly_percent
        .each_ref()
        .map(|a| a.load(Ordering::Relaxed));
    let niosh = week
        .niosh_today_percent
        .each_ref()
        .map(|a| a.load(Ordering::Relaxed));
    let heard = week.heard_s.load(Ordering::Relaxed);
    egui::Grid::new("week")
        .num_columns(3)
        .spacing([14.0, 2.0])
        .show(ui, |ui| {
            ui.label("7-day dose").on_hover_text(
                "IEC 62368-1 computed sound dose = WHO/ITU-T H.870 weekly: 80 dBA for 40 h is 100 %",
            );
            for p in weekly {
                ui.label(figure(format!("{p:.1} %")).color(dose_colour(p)));
            }
            ui.end_row();
            ui.label("NIOSH today")
                .on_hover_text("85 dBA for 8 h is 100 % (UTC day, every instance)");
            for p in niosh {
                ui.label(figure(format!("{p:.0} %")).color(dose_colour(p)));
            }
            ui.end_row();
        });
    status(ui, week, heard);
}

/// IEC 62368-1's warnings: too loud now, and each further 100 % of the weekly dose until seen.
fn warnings(ui: &mut egui::Ui, week: &WeekShared, spl: &SplReadings) {
    let loud_now = spl.ready
        && spl.ear_readings()[..spl.ears.max(1)]
            .iter()
            .any(|e| e.exposure_dba > MOMENTARY_WARNING_DBA);
    if loud_now {
        ui.label(
            egui::RichText::new(format!(
                "Above {MOMENTARY_WARNING_DBA:.0} dBA now: this level damages hearing within \
                 minutes. Turn it down."
            ))
            .strong()
            .color(WARNING),
        );
    }
    let hundreds = week.warning_hundreds.load(Ordering::Relaxed);
    if hundreds > 0 {
        ui.horizontal(|ui| {
            ui.label(
                egui::RichText::new(format!(
                    "Your sound dose of the last 7 days has passed {} %. Give your ears a rest.",
                    100 * hundreds
                ))
                .strong()
                .color(WARNING),
            );
            if ui.button("OK").clicked() {
                week.warning_hundreds.store(0, Ordering::Relaxed);
            }
        });
    }
}

/// The time heard this week (`heard_s`), who is counted, and any problem keeping the record.
fn status(ui: &mut egui::Ui, week: &WeekShared, heard_s: f64) {
    let instances = week.instances_now.load(Ordering::Relaxed);
    let status = week.status.lock().map(|s| s.clone()).unwrap_or_default();
    let mut line = format!(
        "{} heard this week",
        super::loudness::format_duration(heard_s)
    );
    if instances > 1 {
        line.push_str(&format!(
            " · {instances} instances playing (the louder counts)"
        ));
    }
    if !week.realtime.load(Ordering::Relaxed) {
        line.push_str(" · offline render: not counted");
    }
    ui.small(line)
        .on_hover_text(status.folder.unwrap_or_else(|| "no record folder".into()));
    if let Some(problem) = status.problem {
        ui.label(egui::RichText::new(problem).small().color(WARNING));
    }
}
