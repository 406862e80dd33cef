//! A vertical peak bar on a dB scale: the level as a filled bar, a second level as a line (the
//! sample peak beside the true peak), the max-hold as a tick, the over threshold as a red line.

use egui::{Color32, Rect, Sense, Stroke, Ui, Vec2, pos2};

/// Bottom and top of the scale, dB.
pub const SCALE_MIN_DB: f32 = -60.0;
pub const SCALE_MAX_DB: f32 = 6.0;
/// Scale marks, dB.
pub const SCALE_MARKS_DB: [f32; 10] =
    [6.0, 3.0, 0.0, -3.0, -6.0, -10.0, -20.0, -30.0, -40.0, -50.0];

pub struct MeterBar {
    pub level_db: f32,
    pub line_db: f32,
    pub hold_db: f32,
    pub threshold_db: f32,
}

/// Fraction of the height at which `db` sits.
fn fraction(db: f32) -> f32 {
    ((db - SCALE_MIN_DB) / (SCALE_MAX_DB - SCALE_MIN_DB)).clamp(0.0, 1.0)
}

fn y_of(rect: Rect, db: f32) -> f32 {
    rect.bottom() - fraction(db) * rect.height()
}

impl MeterBar {
    pub fn show(&self, ui: &mut Ui, size: Vec2) {
        let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
        let painter = ui.painter_at(rect);
        painter.rect_filled(rect, 2.0, Color32::from_gray(24));
        let top = y_of(rect, self.level_db);
        let color = if self.level_db >= self.threshold_db {
            Color32::from_rgb(230, 60, 50)
        } else if self.level_db >= self.threshold_db - 6.0 {
            Color32::from_rgb(230, 190, 60)
        } else {
            Color32::from_rgb(70, 190, 110)
        };
        painter.rect_filled(
            Rect::from_min_max(
                pos2(rect.left() + 1.0, top),
                pos2(rect.right() - 1.0, rect.bottom()),
            ),
            1.0,
            color,
        );
        let line_y = y_of(rect, self.line_db);
        painter.hline(
            rect.x_range(),
            line_y,
            Stroke::new(1.0, Color32::from_gray(230)),
        );
        let hold_y = y_of(rect, self.hold_db);
        painter.hline(
            rect.x_range(),
            hold_y,
            Stroke::new(2.0, Color32::from_rgb(250, 250, 120)),
        );
        let threshold_y = y_of(rect, self.threshold_db);
        painter.hline(
            rect.x_range(),
            threshold_y,
            Stroke::new(1.0, Color32::from_rgb(230, 60, 50)),
        );
    }
}

/// The dB scale beside the bars.
pub fn scale(ui: &mut Ui, size: Vec2) {
    let (rect, _) = ui.allocate_exact_size(size, Sense::hover());
    let painter = ui.painter_at(rect);
    for db in SCALE_MARKS_DB {
        let y = y_of(rect, db);
        painter.text(
            pos2(rect.right() - 2.0, y),
            egui::Align2::RIGHT_CENTER,
            format!("{db:.0}"),
            egui::FontId::monospace(10.0),
            Color32::from_gray(160),
        );
    }
}
