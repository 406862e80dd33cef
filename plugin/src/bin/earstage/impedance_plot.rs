//! The plot of a measured impedance: |Z| (Ω, left axis) and phase (degrees, right axis) on a
//! log-frequency axis, the bands the measurement cannot vouch for shaded, and the catalog model
//! of the same IEM when there is one.

use std::path::Path;

use anyhow::Result;
use earstage::model::ImpedanceModel;
use earstage::offline::chart_style::{
    Axis, FREQUENCY_AXIS, FrequencyChart, area_key, chart_on, draw_grid, draw_legend,
    draw_secondary_axis, line_key, log_hz_axis,
};
use earstage::offline::figure::{Figure, write_figure};
use earstage::offline::impedance::{ImpedanceMeasurement, MeasuredPoint, RELIABLE_PERCENT};
use plotters::coord::Shift;
use plotters::prelude::*;

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

/// The model's (Hz, |Z|, degrees) at the measured frequencies.
type ModelPoints = Vec<(f64, f64, f64)>;

impl Figure for Measured<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        let points = &self.measurement.points;
        let (Some(first), Some(last)) = (points.first(), points.last()) else {
            return Err("no points to plot".into());
        };
        let model = self.model_points();
        let reliable_max = points
            .iter()
            .filter(|p| p.reliable)
            .map(|p| p.ohms)
            .chain(model.iter().flatten().map(|(_, ohms, _)| *ohms))
            .fold(1.0f64, f64::max);
        let z_max = reliable_max * 1.15;
        let x_axis = || log_hz_axis(first.hz, last.hz);
        let mut chart = chart_on(root, &self.title, true)?
            .build_cartesian_2d(x_axis(), 0.0..z_max)
            .map_err(|e| e.to_string())?
            .set_secondary_coord(x_axis(), -90.0..90.0);
        self.draw_unreliable_bands(&mut chart, z_max)?;
        draw_grid(
            &mut chart,
            2,
            FREQUENCY_AXIS,
            Axis {
                desc: "|Z|, Ω",
                label: &|ohms: &f64| format!("{ohms:.0}"),
            },
        )?;
        draw_secondary_axis(
            &mut chart,
            Axis {
                desc: "phase, degrees",
                label: &|deg: &f64| format!("{deg:+.0}°"),
            },
        )?;
        if let (Some((label, _)), Some(model)) = (self.model, &model) {
            draw_model(&mut chart, label, model)?;
        }
        draw_measured(&mut chart, points, z_max)?;
        self.draw_unreliable_key(&mut chart)?;
        draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
    }
}

impl Measured<'_> {
    /// The catalog model at the measured frequencies, when there is one.
    fn model_points(&self) -> Option<ModelPoints> {
        self.model.map(|(_, m)| {
            self.measurement
                .points
                .iter()
                .map(|p| {
                    let z = m.impedance(p.hz);
                    (p.hz, z.norm(), z.arg().to_degrees())
                })
                .collect()
        })
    }

    /// The bands the measurement cannot vouch for, shaded under the grid.
    fn draw_unreliable_bands<DB: DrawingBackend>(
        &self,
        chart: &mut FrequencyChart<'_, DB>,
        z_max: f64,
    ) -> Result<(), String> {
        for band in &self.measurement.unreliable_bands {
            chart
                .draw_series([Rectangle::new(
                    [
                        (band.start_hz, 0.0),
                        (band.stop_hz.max(band.start_hz * 1.01), z_max),
                    ],
                    UNRELIABLE.filled(),
                )])
                .map_err(|e| e.to_string())?;
        }
        Ok(())
    }

    /// The shaded bands' legend entry, when there are any.
    fn draw_unreliable_key<DB: DrawingBackend>(
        &self,
        chart: &mut FrequencyChart<'_, DB>,
    ) -> Result<(), String> {
        if self.measurement.unreliable_bands.is_empty() {
            return Ok(());
        }
        chart
            .draw_series(std::iter::empty::<Rectangle<(f64, f64)>>())
            .map_err(|e| e.to_string())?
            .label(format!("not within ±{RELIABLE_PERCENT} %"))
            .legend(area_key(UNRELIABLE));
        Ok(())
    }
}

/// The catalog model's |Z| and phase, dashed.
fn draw_model<DB: DrawingBackend>(
    chart: &mut FrequencyChart<'_, DB>,
    label: &str,
    model: &ModelPoints,
) -> Result<(), String> {
    chart
        .draw_series(DashedLineSeries::new(
            model.iter().map(|&(hz, ohms, _)| (hz, ohms)),
            6,
            4,
            MODEL.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label(format!("|Z| and phase of {label}"))
        .legend(line_key(MODEL));
    chart
        .draw_secondary_series(DashedLineSeries::new(
            model.iter().map(|&(hz, _, deg)| (hz, deg)),
            6,
            4,
            MODEL_PHASE.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// The measured |Z| (held within the axis) and phase.
fn draw_measured<DB: DrawingBackend>(
    chart: &mut FrequencyChart<'_, DB>,
    points: &[MeasuredPoint],
    z_max: f64,
) -> Result<(), String> {
    chart
        .draw_series(LineSeries::new(
            points.iter().map(|p| (p.hz, p.ohms.min(z_max))),
            MAGNITUDE.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label("|Z| measured")
        .legend(line_key(MAGNITUDE));
    chart
        .draw_secondary_series(LineSeries::new(
            points.iter().map(|p| (p.hz, p.degrees)),
            PHASE.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label("phase measured")
        .legend(line_key(PHASE));
    Ok(())
}
