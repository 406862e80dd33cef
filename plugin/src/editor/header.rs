//! The title bar: product, version and what the host gave us.

use std::sync::atomic::Ordering;

use crate::session::SessionInfo;

pub fn show(ui: &mut egui::Ui, session: &SessionInfo) {
    ui.horizontal(|ui| {
        ui.heading("Earstage");
        ui.label(concat!("v", env!("CARGO_PKG_VERSION")));
        ui.with_layout(egui::Layout::right_to_left(egui::Align::Center), |ui| {
            let rate_hz = session.sample_rate_hz.load(Ordering::Relaxed);
            let channels = session.channels.load(Ordering::Relaxed);
            let layout = match channels {
                1 => "mono",
                2 => "stereo",
                _ => "inactive",
            };
            if rate_hz > 0.0 {
                ui.label(format!("{:.1} kHz · {layout}", rate_hz / 1000.0));
            } else {
                ui.label("not yet activated by the host");
            }
        });
    });
}
