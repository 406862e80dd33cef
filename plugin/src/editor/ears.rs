//! "In your ears": the delivered SPL per ear and the exposure since the last reset, in numbers big
//! enough to read from arm's length.

use crate::dsp::spl::exposure::{EarReadings, ExposureStore};
use crate::dsp::spl::stage::SplReadings;
use crate::model::spl::SILENCE_DB;
use crate::model::units::{format_time_left, format_utc};

/// Levels below this show as a dash (below any IEM's hiss).
const FLOOR_DB: f64 = 0.0;
/// Doses at or above this show in red, %.
const DOSE_WARN_PERCENT: f64 = 100.0;
/// Above this a dose shows in amber, %.
const DOSE_CAUTION_PERCENT: f64 = 50.0;

fn level(db: f64) -> String {
    if db > FLOOR_DB && db != SILENCE_DB {
        format!("{db:.1}")
    } else {
        "—".to_owned()
    }
}

pub fn dose_colour(percent: f64) -> egui::Color32 {
    if percent >= DOSE_WARN_PERCENT {
        egui::Color32::from_rgb(235, 80, 70)
    } else if percent >= DOSE_CAUTION_PERCENT {
        egui::Color32::from_rgb(240, 180, 60)
    } else {
        egui::Color32::from_rgb(200, 220, 200)
    }
}

/// A headline figure, big enough to read from arm's length.
fn big_figure(text: String) -> egui::RichText {
    egui::RichText::new(text).monospace().size(26.0).strong()
}

/// A secondary figure of the exposure panels.
pub(super) fn figure(text: String) -> egui::RichText {
    egui::RichText::new(text).monospace().size(15.0)
}

pub fn show(ui: &mut egui::Ui, spl: &SplReadings, store: &ExposureStore, confirm: &mut bool) {
    ui.label(egui::RichText::new("In your ears").strong())
        .on_hover_text(
            "What leaves the plugin, played through your rig (the chain panel): pressure at the \
             eardrum from the IEM's coupler sensitivity and the circuit, and its diffuse-field \
             equivalent, which exposure limits are written for",
        );
    if !spl.ready {
        ui.small("waiting for the rig's filters…");
        return;
    }
    let all = spl.ear_readings();
    let ears = &all[..spl.ears.max(1)];
    egui::Grid::new("ears")
        .num_columns(1 + ears.len())
        .spacing([14.0, 2.0])
        .show(ui, |ui| {
            level_rows(ui, ears);
            dose_rows(ui, ears);
        });
    let since = spl.reset_unix_s.map_or_else(
        || "never reset".to_owned(),
        |t| format!("reset {}", format_utc(t)),
    );
    ui.small(format!(
        "measuring for {} · {since} · kept with the project",
        super::loudness::format_duration(spl.seconds)
    ));
    reset(ui, store, confirm);
}

/// The grid's header (a column per ear) and its level rows: LAeq, LAF, LAS, maxima, diffuse.
fn level_rows(ui: &mut egui::Ui, ears: &[EarReadings]) {
    let names: &[&str] = if ears.len() == 2 {
        &["L", "R"]
    } else {
        &["ear"]
    };
    ui.label("");
    for n in names {
        ui.label(egui::RichText::new(*n).strong());
    }
    ui.end_row();
    ui.label("LAeq dBA")
        .on_hover_text("Since the last reset, at the eardrum");
    for e in ears {
        ui.label(big_figure(level(e.laeq_db)));
    }
    ui.end_row();
    type Row = (&'static str, &'static str, fn(&EarReadings) -> f64);
    let rows: [Row; 5] = [
        ("LAF", "Fast (125 ms), at the eardrum, dBA", |e| e.laf_db),
        ("LAS", "Slow (1 s), at the eardrum, dBA", |e| e.las_db),
        ("LAF max", "Highest LAF since the last reset, dBA", |e| {
            e.laf_max_db
        }),
        (
            "LCpeak",
            "Peak C-weighted level since the last reset, dBC",
            |e| e.lcpeak_db,
        ),
        (
            "LAeq diffuse",
            "Diffuse-field equivalent (what limits are written for), dBA",
            |e| e.laeq_df_db,
        ),
    ];
    for (name, hint, value) in rows {
        ui.label(name).on_hover_text(hint);
        for e in ears {
            ui.label(figure(level(value(e))));
        }
        ui.end_row();
    }
}

/// The grid's dose rows: NIOSH, the WHO week, and the time left to a full NIOSH dose.
fn dose_rows(ui: &mut egui::Ui, ears: &[EarReadings]) {
    ui.label("NIOSH dose")
        .on_hover_text("85 dBA for 8 h is 100 % (3 dB exchange), from the diffuse-field level");
    for e in ears {
        ui.label(
            big_figure(format!("{:.1} %", e.niosh_percent)).color(dose_colour(e.niosh_percent)),
        );
    }
    ui.end_row();
    ui.label("WHO week")
        .on_hover_text("WHO/ITU-T H.870: 80 dBA for 40 h a week (1.6 Pa²h) is 100 %");
    for e in ears {
        ui.label(figure(format!("{:.2} %", e.who_percent)).color(dose_colour(e.who_percent)));
    }
    ui.end_row();
    ui.label("100 % NIOSH in")
        .on_hover_text("If the level stays where it is now (diffuse-field LAS)");
    for e in ears {
        ui.label(figure(format_time_left(e.niosh_time_to_full_s)));
    }
    ui.end_row();
}

/// The exposure reset, which asks for a confirmation (`confirm`) first.
fn reset(ui: &mut egui::Ui, store: &ExposureStore, confirm: &mut bool) {
    ui.horizontal(|ui| {
        if *confirm {
            ui.label("Reset the dose?");
            if ui.button("Yes, start again").clicked() {
                let now = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .map_or(0.0, |d| d.as_secs_f64());
                store.reset(now);
                *confirm = false;
            }
            if ui.button("Keep").clicked() {
                *confirm = false;
            }
        } else if ui
            .button("Reset exposure")
            .on_hover_text("Start LAeq, maxima and both doses again (asks first)")
            .clicked()
        {
            *confirm = true;
        }
    });
}
