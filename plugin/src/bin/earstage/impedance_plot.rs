//! The plot of a measured impedance: |Z| (Ω, left axis) and phase (degrees, right axis) on a
//! log-frequency axis, the bands the measurement cannot vouch for shaded, and the catalog model
//! of the same IEM when there is one.

use std::path::Path;

use anyhow::Result;
use earstage::model::ImpedanceModel;
use earstage::offline::impedance::ImpedanceMeasurement;
use plotters::coord::Shift;
use plotters::coord::combinators::BindKeyPoints;
use plotters::prelude::*;

use crate::plot::{FAMILY, Figure, GRID_BOLD, GRID_LIGHT, KEY_HZ, hz_label, write_figure};

const MAGNITUDE: RGBColor = RGBColor(214, 39, 40);
const PHASE: RGBColor = RGBColor(31, 119, 180);
const MODEL: RGBColor = RGBColor(120, 120, 120);
const MODEL_PHASE: RGBColor = RGBColor(140, 170, 200);
const UNRELIABLE: RGBColor = RGBColor(250, 228, 228);

struct Measured<'a> {
    title: String,
    measurement: &'a ImpedanceMeasurement,
    model: Option<(&'a str, &'a ImpedanceModel)>,
}

/// Draw `measurement` (and `model`, label and impedance) into `path`, PNG or SVG.
pub fn write_impedance_plot(
    path: &Path,
    measurement: &ImpedanceMeasurement,
    model: Option<(&str, &ImpedanceModel)>,
    force: bool,
) -> Result<()> {
    let title = format!(
        "Impedance measured from {} ({} Ω sense resistor)",
        measurement
            .recording
            .file_name()
            .map_or_else(String::new, |n| n.to_string_lossy().into_owned()),
        measurement.sense_ohms
    );
    write_figure(
        path,
        &Measured {
            title,
            measurement,
            model,
        },
        force,
    )
}

impl Figure for Measured<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
        let points = &self.measurement.points;
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            return Err("no points to plot".into());
        };
        let (start, stop) = (first.hz, last.hz);
        // The model's (Hz, |Z|, degrees) at the measured frequencies.
        let model: Option<Vec<(f64, f64, f64)>> = self.model.map(|(_, m)| {
            points
                .iter()
                .map(|p| {
                    let z = m.impedance(p.hz);
                    (p.hz, z.norm(), z.arg().to_degrees())
                })
                .collect()
        });
        let reliable_max = points
            .iter()
            .filter(|p| p.reliable)
            .map(|p| p.ohms)
            .chain(model.iter().flatten().map(|(_, ohms, _)| *ohms))
            .fold(1.0f64, f64::max);
        let z_max = reliable_max * 1.15;
        root.fill(&WHITE).map_err(err)?;
        let keys: Vec<f64> = KEY_HZ
            .iter()
            .copied()
            .filter(|hz| (start..=stop).contains(hz))
            .collect();
        let x_axis = || (start..stop).log_scale().with_key_points(keys.clone());
        let mut chart = ChartBuilder::on(root)
            .caption(&self.title, (FAMILY, 20))
            .margin(12)
            .x_label_area_size(44)
            .y_label_area_size(64)
            .right_y_label_area_size(64)
            .build_cartesian_2d(x_axis(), 0.0..z_max)
            .map_err(err)?
            .set_secondary_coord(x_axis(), -90.0..90.0);
        for band in &self.measurement.unreliable_bands {
            chart
                .draw_series([Rectangle::new(
                    [
                        (band.start_hz, 0.0),
                        (band.stop_hz.max(band.start_hz * 1.01), z_max),
                    ],
                    UNRELIABLE.filled(),
                )])
                .map_err(err)?;
        }
        chart
            .configure_mesh()
            .max_light_lines(2)
            .light_line_style(GRID_LIGHT)
            .bold_line_style(GRID_BOLD)
            .x_label_formatter(&hz_label)
            .y_label_formatter(&|ohms| format!("{ohms:.0}"))
            .x_desc("frequency, Hz")
            .y_desc("|Z|, Ω")
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .draw()
            .map_err(err)?;
        chart
            .configure_secondary_axes()
            .y_label_formatter(&|deg| format!("{deg:+.0}°"))
            .y_desc("phase, degrees")
            .label_style((FAMILY, 14))
            .axis_desc_style((FAMILY, 15))
            .draw()
            .map_err(err)?;
        if let (Some((label, _)), Some(model)) = (self.model, &model) {
            chart
                .draw_series(DashedLineSeries::new(
                    model.iter().map(|&(hz, ohms, _)| (hz, ohms)),
                    6,
                    4,
                    MODEL.stroke_width(2),
                ))
                .map_err(err)?
                .label(format!("|Z| and phase of {label}"))
                .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MODEL.stroke_width(2)));
            chart
                .draw_secondary_series(DashedLineSeries::new(
                    model.iter().map(|&(hz, _, deg)| (hz, deg)),
                    6,
                    4,
                    MODEL_PHASE.stroke_width(2),
                ))
                .map_err(err)?;
        }
        chart
            .draw_series(LineSeries::new(
                points.iter().map(|p| (p.hz, p.ohms.min(z_max))),
                MAGNITUDE.stroke_width(2),
            ))
            .map_err(err)?
            .label("|Z| measured")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MAGNITUDE.stroke_width(2)));
        chart
            .draw_secondary_series(LineSeries::new(
                points.iter().map(|p| (p.hz, p.degrees)),
                PHASE.stroke_width(2),
            ))
            .map_err(err)?
            .label("phase measured")
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], PHASE.stroke_width(2)));
        if !self.measurement.unreliable_bands.is_empty() {
            chart
                .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
                .map_err(err)?
                .label(format!(
                    "not within ±{} %",
                    earstage::offline::impedance::RELIABLE_PERCENT
                ))
                .legend(|(x, y)| {
                    Rectangle::new([(x, y - 5), (x + 20, y + 5)], UNRELIABLE.filled())
                });
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .label_font((FAMILY, 14))
            .background_style(WHITE.mix(0.85))
            .border_style(BLACK.mix(0.3))
            .draw()
            .map_err(err)?;
        Ok(())
    }
}
