//! The banner that says bad input arrived: how many non-finite samples were replaced by silence,
//! and where the last one was.

use crate::dsp::MeterReceiver;
use crate::dsp::guard::InputHealth;

const WARNING: egui::Color32 = egui::Color32::from_rgb(240, 180, 60);

/// "non-finite input: 1 234 samples, last at 0:01:23.456 in the timeline (12 s ago)".
pub fn describe(health: &InputHealth) -> String {
    let count = health.non_finite_samples;
    let noun = if count == 1 { "sample" } else { "samples" };
    let mut text = format!("non-finite input: {} {noun}", group_thousands(count));
    if health.last_timeline_s.is_finite() {
        text += &format!(
            ", last at {} in the timeline",
            format_timeline(health.last_timeline_s)
        );
    } else {
        text += ", last";
    }
    if let Some(ago) = health.seconds_since_last() {
        text += &if health.last_timeline_s.is_finite() {
            format!(" ({} ago)", format_ago(ago))
        } else {
            format!(" {} ago", format_ago(ago))
        };
    }
    text + " (replaced by silence)"
}

/// The banner, when there was bad input since the last reset.
pub fn show(ui: &mut egui::Ui, health: &InputHealth, meters: &MeterReceiver) {
    ui.horizontal(|ui| {
        ui.label(
            egui::RichText::new(describe(health))
                .strong()
                .color(WARNING),
        )
        .on_hover_text(
            "NaN or infinite samples came from the host or an earlier plugin. Earstage \
             replaced each with silence before any filter, meter or dose saw it.",
        );
        if ui
            .small_button("Clear")
            .on_hover_text("Reset the count (and every measurement, as Reset measurement does)")
            .clicked()
        {
            meters.request_reset_all();
        }
    });
}

/// 1234567 → "1 234 567" (thin groups, as SI writes them).
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(' ');
        }
        out.push(c);
    }
    out
}

/// A timeline position as "h:mm:ss.mmm" ("−" before zero, as pre-roll can be).
pub fn format_timeline(seconds: f64) -> String {
    let sign = if seconds < 0.0 { "−" } else { "" };
    let ms = (seconds.abs() * 1000.0).round() as u64;
    format!(
        "{sign}{}:{:02}:{:02}.{:03}",
        ms / 3_600_000,
        ms / 60_000 % 60,
        ms / 1000 % 60,
        ms % 1000
    )
}

/// "0.3 s", "12 s", "5 min", "2 h 03 min".
pub fn format_ago(seconds: f64) -> String {
    if seconds < 10.0 {
        format!("{seconds:.1} s")
    } else if seconds < 120.0 {
        format!("{} s", seconds as u64)
    } else if seconds < 7200.0 {
        format!("{} min", (seconds / 60.0) as u64)
    } else {
        format!(
            "{} h {:02} min",
            (seconds / 3600.0) as u64,
            (seconds / 60.0) as u64 % 60
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn says_how_many_and_where() {
        let health = InputHealth {
            non_finite_samples: 1234,
            clock_s: 95.5,
            last_at_s: 83.5,
            last_timeline_s: 83.456,
        };
        assert_eq!(
            describe(&health),
            "non-finite input: 1 234 samples, last at 0:01:23.456 in the timeline (12 s ago) \
             (replaced by silence)"
        );
        let no_transport = InputHealth {
            non_finite_samples: 1,
            last_timeline_s: f64::NAN,
            ..health
        };
        assert_eq!(
            describe(&no_transport),
            "non-finite input: 1 sample, last 12 s ago (replaced by silence)"
        );
    }

    #[test]
    fn numbers_and_times() {
        assert_eq!(group_thousands(0), "0");
        assert_eq!(group_thousands(999), "999");
        assert_eq!(group_thousands(1000), "1 000");
        assert_eq!(group_thousands(1_234_567), "1 234 567");
        assert_eq!(format_timeline(3723.5), "1:02:03.500");
        assert_eq!(format_timeline(-1.25), "−0:00:01.250");
        assert_eq!(format_ago(0.34), "0.3 s");
        assert_eq!(format_ago(59.9), "59 s");
        assert_eq!(format_ago(600.0), "10 min");
        assert_eq!(format_ago(7500.0), "2 h 05 min");
    }
}
