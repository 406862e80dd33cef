//! How every chart looks, written once: the title and the room for the axes' labels, the grid,
//! the axes' text, the legend box and its keys, all in the one font [`FAMILY`]; and the
//! log-frequency axis, labelled at the decades and the audio band's edges, that the coloration
//! and impedance plots share. The CLI's plots and the loudness history's graph draw through
//! these, so the figures read as one set.

use plotters::chart::{ChartBuilder, ChartContext, DualCoordChartContext, SeriesLabelPosition};
use plotters::coord::Shift;
use plotters::coord::combinators::WithKeyPoints;
use plotters::coord::ranged1d::ValueFormatter;
use plotters::coord::types::RangedCoordf64;
use plotters::prelude::*;

use super::figure::FAMILY;

/// The grid's lines at the labelled values, and the lighter ones between them.
pub const GRID_BOLD: RGBColor = RGBColor(205, 205, 205);
pub const GRID_LIGHT: RGBColor = RGBColor(232, 232, 232);
/// Text sizes, pixels: the title, the axes' values and the legend's entries, the axes'
/// descriptions.
const TITLE_PX: f64 = 20.0;
const LABEL_PX: f64 = 14.0;
const AXIS_DESC_PX: f64 = 15.0;
/// The space round the chart, and for the axes' labels below and beside it, pixels.
const MARGIN_PX: u32 = 12;
const X_LABEL_AREA_PX: u32 = 44;
const Y_LABEL_AREA_PX: u32 = 64;
/// A legend key's length, pixels.
const KEY_PX: i32 = 20;

/// Labelled frequencies: the decades, and the band's edges.
pub const KEY_HZ: [f64; 6] = [10.0, 20.0, 100.0, 1_000.0, 10_000.0, 20_000.0];

/// A log-frequency axis, labelled at the [`KEY_HZ`] it spans.
pub type LogHzAxis = WithKeyPoints<LogCoord<f64>>;

/// A chart over a log-frequency axis with a y axis on either side (the coloration plot's dB and
/// Ω, the impedance plot's Ω and degrees).
pub type FrequencyChart<'a, DB> = DualCoordChartContext<
    'a,
    DB,
    Cartesian2d<LogHzAxis, RangedCoordf64>,
    Cartesian2d<LogHzAxis, RangedCoordf64>,
>;

/// "20", "100", "1k", "20k".
pub fn hz_label(hz: &f64) -> String {
    if *hz >= 1000.0 {
        format!("{}k", hz / 1000.0)
    } else {
        format!("{hz}")
    }
}

/// The log-frequency axis from `start_hz` to `stop_hz`, labelled at the [`KEY_HZ`] within it.
pub fn log_hz_axis(start_hz: f64, stop_hz: f64) -> LogHzAxis {
    let keys = KEY_HZ
        .iter()
        .copied()
        .filter(|hz| (start_hz..=stop_hz).contains(hz))
        .collect();
    (start_hz..stop_hz).log_scale().with_key_points(keys)
}

/// A chart on `root`, cleared to white: the title above, room for the axes' labels below and to
/// the left, and to the right too when `right_axis` (a secondary y axis).
pub fn chart_on<'a, 'b, DB: DrawingBackend>(
    root: &'a DrawingArea<DB, Shift>,
    title: &str,
    right_axis: bool,
) -> Result<ChartBuilder<'a, 'b, DB>, String> {
    root.fill(&WHITE).map_err(|e| e.to_string())?;
    let mut builder = ChartBuilder::on(root);
    builder
        .caption(title, (FAMILY, TITLE_PX))
        .margin(MARGIN_PX)
        .x_label_area_size(X_LABEL_AREA_PX)
        .y_label_area_size(Y_LABEL_AREA_PX);
    if right_axis {
        builder.right_y_label_area_size(Y_LABEL_AREA_PX);
    }
    Ok(builder)
}

/// What an axis says: what it measures, and how its values are written.
pub struct Axis<'f, T> {
    pub desc: &'f str,
    pub label: &'f dyn Fn(&T) -> String,
}

/// The frequency axis of the log-frequency charts, labelled with [`hz_label`].
pub const FREQUENCY_AXIS: Axis<'static, f64> = Axis {
    desc: "frequency, Hz",
    label: &hz_label,
};

/// Draw the grid and the primary axes, with `light_lines` lighter grid lines between two
/// labelled values.
pub fn draw_grid<DB, X, Y>(
    chart: &mut ChartContext<'_, DB, Cartesian2d<X, Y>>,
    light_lines: usize,
    x: Axis<'_, X::ValueType>,
    y: Axis<'_, Y::ValueType>,
) -> Result<(), String>
where
    DB: DrawingBackend,
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    chart
        .configure_mesh()
        .max_light_lines(light_lines)
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .x_label_formatter(x.label)
        .y_label_formatter(y.label)
        .x_desc(x.desc)
        .y_desc(y.desc)
        .label_style((FAMILY, LABEL_PX))
        .axis_desc_style((FAMILY, AXIS_DESC_PX))
        .draw()
        .map_err(|e| e.to_string())
}

/// Draw the secondary y axis, on the right (no grid of its own: the primary's serves).
pub fn draw_secondary_axis<DB, CT, X, Y>(
    chart: &mut DualCoordChartContext<'_, DB, CT, Cartesian2d<X, Y>>,
    y: Axis<'_, Y::ValueType>,
) -> Result<(), String>
where
    DB: DrawingBackend,
    CT: CoordTranslate,
    X: Ranged + ValueFormatter<X::ValueType>,
    Y: Ranged + ValueFormatter<Y::ValueType>,
{
    chart
        .configure_secondary_axes()
        .y_label_formatter(y.label)
        .y_desc(y.desc)
        .label_style((FAMILY, LABEL_PX))
        .axis_desc_style((FAMILY, AXIS_DESC_PX))
        .draw()
        .map_err(|e| e.to_string())
}

/// Draw the legend of the labelled series at `position`, on a white box that lets the grid show
/// through faintly.
pub fn draw_legend<'a, DB, CT>(
    chart: &mut ChartContext<'a, DB, CT>,
    position: SeriesLabelPosition,
) -> Result<(), String>
where
    DB: DrawingBackend + 'a,
    CT: CoordTranslate,
{
    chart
        .configure_series_labels()
        .position(position)
        .label_font((FAMILY, LABEL_PX))
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK.mix(0.3))
        .draw()
        .map_err(|e| e.to_string())
}

/// The legend key of a line of `colour`: a short stroke, 2 px wide whatever the line's width.
pub fn line_key(colour: RGBColor) -> impl Fn((i32, i32)) -> PathElement<(i32, i32)> {
    move |(x, y)| PathElement::new([(x, y), (x + KEY_PX, y)], colour.stroke_width(2))
}

/// The legend key of an area filled with `colour`: a small box of it.
pub fn area_key(colour: RGBColor) -> impl Fn((i32, i32)) -> Rectangle<(i32, i32)> {
    move |(x, y)| Rectangle::new([(x, y - 5), (x + KEY_PX, y + 5)], colour.filled())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_are_labelled_as_read() {
        let labels: Vec<String> = KEY_HZ.iter().map(hz_label).collect();
        assert_eq!(labels, ["10", "20", "100", "1k", "10k", "20k"]);
    }
}
