//! The coloration plot, drawn with `plotters` as PNG or SVG: each chain's
//! `20·log10|H(f)/H(1 kHz)|` (`Chain::coloration_db`) on a log-frequency axis with labelled
//! decades, the first chain's IEM impedance on a second (Ω) axis, a legend, and the 20 Hz–20 kHz
//! band the figures are judged over marked.

use std::path::Path;

use anyhow::Result;
use earstage::model::chain::{BAND_START_HZ, BAND_STOP_HZ, log_grid};
use earstage::model::{Chain, ImpedanceModel};
pub use earstage::offline::figure::{
    FAMILY, Figure, GRID_BOLD, GRID_LIGHT, PlotFormat, write_figure,
};
use plotters::coord::Shift;
use plotters::coord::combinators::BindKeyPoints;
use plotters::prelude::*;

/// The plot spans an octave either side of the audio band, so the band's edges show.
const PLOT_START_HZ: f64 = 10.0;
const PLOT_STOP_HZ: f64 = 40_000.0;
/// Labelled frequencies: the decades, and the band's edges.
pub const KEY_HZ: [f64; 6] = [10.0, 20.0, 100.0, 1_000.0, 10_000.0, 20_000.0];
const COLOURS: [RGBColor; 4] = [
    RGBColor(214, 39, 40),
    RGBColor(31, 119, 180),
    RGBColor(44, 160, 44),
    RGBColor(148, 103, 189),
];
const IMPEDANCE: RGBColor = RGBColor(120, 120, 120);
/// The catalog's model of a measured IEM.
const MODEL: RGBColor = RGBColor(255, 127, 14);
const BAND: RGBColor = RGBColor(235, 242, 250);

/// The plot's title: the IEM, the source and, when there is one, the attenuator.
fn chain_title(chain: &Chain) -> String {
    let via = if chain.attenuator.name == "none" {
        String::new()
    } else {
        format!(" via {}", chain.attenuator.name)
    };
    format!(
        "{} on {}{via}: coloration relative to 1 kHz",
        chain.iem.name, chain.source.name
    )
}

/// The plot of a chain against the same IEM on an ideal (0 Ω) source, PNG or SVG by `path`'s
/// extension; an existing file is replaced only with `force`. `model` is the catalog's model of
/// a measured IEM, drawn beside the measurement.
pub fn write_chain_plot(
    path: &Path,
    chain: &Chain,
    model: Option<(&str, &ImpedanceModel)>,
    force: bool,
) -> Result<()> {
    let ideal = chain.reference();
    if !chain.iem.ears_differ() {
        return write_coloration_plot(
            path,
            &chain_title(chain),
            &[("this chain", chain), ("ideal 0 Ω source", &ideal)],
            model,
            force,
        );
    }
    // Each earpiece's coloration; the |Z| panel draws the left's, and beside it the catalog
    // model if there is one, else the right's.
    let [left, right] = chain.ears();
    let right_z = ("right earpiece", &right.iem.impedance);
    write_coloration_plot(
        path,
        &chain_title(chain),
        &[
            ("left earpiece", &left),
            ("right earpiece", &right),
            ("ideal 0 Ω source", &ideal),
        ],
        model.or(Some(right_z)),
        force,
    )
}

/// The coloration of some chains, and the first chain's IEM impedance (with the catalog model
/// it replaced, when there is one).
struct Coloration<'a> {
    title: &'a str,
    chains: &'a [(&'a str, &'a Chain)],
    model: Option<(&'a str, &'a ImpedanceModel)>,
}

impl Figure for Coloration<'_> {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String> {
        draw(root, self.title, self.chains, self.model)
    }
}

/// Write the plot of `chains` (label, chain) to `path`, PNG or SVG by its extension; `model`
/// (label, impedance) is drawn beside the first chain's IEM impedance.
pub fn write_coloration_plot(
    path: &Path,
    title: &str,
    chains: &[(&str, &Chain)],
    model: Option<(&str, &ImpedanceModel)>,
    force: bool,
) -> Result<()> {
    write_figure(
        path,
        &Coloration {
            title,
            chains,
            model,
        },
        force,
    )
}

/// "20", "100", "1k", "20k".
pub fn hz_label(hz: &f64) -> String {
    if *hz >= 1000.0 {
        format!("{}k", hz / 1000.0)
    } else {
        format!("{hz}")
    }
}

fn draw<DB: DrawingBackend>(
    root: &DrawingArea<DB, Shift>,
    title: &str,
    chains: &[(&str, &Chain)],
    model: Option<(&str, &ImpedanceModel)>,
) -> Result<(), String> {
    let err = |e: DrawingAreaErrorKind<DB::ErrorType>| e.to_string();
    let Some((_, first)) = chains.first() else {
        return Err("no chain to plot".into());
    };
    let grid = log_grid(PLOT_START_HZ, PLOT_STOP_HZ, 48.0);
    let curves: Vec<Vec<f64>> = chains.iter().map(|(_, c)| c.coloration_db(&grid)).collect();
    let impedance: Vec<f64> = grid
        .iter()
        .map(|&f| first.iem.impedance(f).norm())
        .collect();
    // Whole 3 dB steps holding every curve in the 20 Hz–20 kHz band, at least ±3 dB; outside the
    // band a curve that leaves the axis is drawn along its edge, so in-band detail keeps its
    // scale.
    let extreme = curves
        .iter()
        .flat_map(|curve| {
            grid.iter()
                .zip(curve)
                .filter(|(hz, _)| (BAND_START_HZ..=BAND_STOP_HZ).contains(*hz))
                .map(|(_, db)| db.abs())
        })
        .fold(1.0f64, f64::max);
    let span_db = (extreme / 3.0).ceil() * 3.0;
    let curves: Vec<Vec<f64>> = curves
        .into_iter()
        .map(|c| {
            c.into_iter()
                .map(|db| db.clamp(-span_db, span_db))
                .collect()
        })
        .collect();
    let model_impedance: Option<Vec<f64>> =
        model.map(|(_, m)| grid.iter().map(|&f| m.impedance(f).norm()).collect());
    let z_max = impedance
        .iter()
        .chain(model_impedance.iter().flatten())
        .fold(1.0f64, |m, v| m.max(*v))
        * 1.15;

    root.fill(&WHITE).map_err(err)?;
    let x_axis = || {
        (PLOT_START_HZ..PLOT_STOP_HZ)
            .log_scale()
            .with_key_points(KEY_HZ.to_vec())
    };
    let mut chart = ChartBuilder::on(root)
        .caption(title, (FAMILY, 20))
        .margin(12)
        .x_label_area_size(44)
        .y_label_area_size(64)
        .right_y_label_area_size(64)
        .build_cartesian_2d(x_axis(), -span_db..span_db)
        .map_err(err)?
        .set_secondary_coord(x_axis(), 0.0..z_max);
    // The band the figures are judged over, under the grid.
    chart
        .draw_series([Rectangle::new(
            [(BAND_START_HZ, -span_db), (BAND_STOP_HZ, span_db)],
            BAND.filled(),
        )])
        .map_err(err)?
        .label("20 Hz–20 kHz band")
        .legend(|(x, y)| Rectangle::new([(x, y - 5), (x + 20, y + 5)], BAND.filled()));
    chart
        .configure_mesh()
        .max_light_lines(2)
        .light_line_style(GRID_LIGHT)
        .bold_line_style(GRID_BOLD)
        .x_label_formatter(&hz_label)
        .y_label_formatter(&|db| format!("{db:+.0}"))
        .x_desc("frequency, Hz")
        .y_desc("coloration re 1 kHz, dB")
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .draw()
        .map_err(err)?;
    chart
        .configure_secondary_axes()
        .y_label_formatter(&|ohms| format!("{ohms:.0}"))
        .y_desc("IEM impedance |Z|, Ω")
        .label_style((FAMILY, 14))
        .axis_desc_style((FAMILY, 15))
        .draw()
        .map_err(err)?;
    chart
        .draw_series(LineSeries::new(
            [(PLOT_START_HZ, 0.0), (PLOT_STOP_HZ, 0.0)],
            BLACK.mix(0.4),
        ))
        .map_err(err)?;
    chart
        .draw_secondary_series(DashedLineSeries::new(
            grid.iter().copied().zip(impedance.iter().copied()),
            6,
            4,
            IMPEDANCE.stroke_width(2),
        ))
        .map_err(err)?
        .label(format!("|Z| of {}", first.iem.name))
        .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], IMPEDANCE.stroke_width(2)));
    if let (Some((label, _)), Some(model_impedance)) = (model, &model_impedance) {
        chart
            .draw_secondary_series(DashedLineSeries::new(
                grid.iter().copied().zip(model_impedance.iter().copied()),
                2,
                4,
                MODEL.stroke_width(2),
            ))
            .map_err(err)?
            .label(format!("|Z| of {label}"))
            .legend(|(x, y)| PathElement::new([(x, y), (x + 20, y)], MODEL.stroke_width(2)));
    }
    for (i, ((label, _), curve)) in chains.iter().zip(&curves).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(
                grid.iter().copied().zip(curve.iter().copied()),
                colour.stroke_width(2),
            ))
            .map_err(err)?
            .label(*label)
            .legend(move |(x, y)| PathElement::new([(x, y), (x + 20, y)], colour.stroke_width(2)));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decades_are_labelled_as_read() {
        let labels: Vec<String> = KEY_HZ.iter().map(hz_label).collect();
        assert_eq!(labels, ["10", "20", "100", "1k", "10k", "20k"]);
    }
}
