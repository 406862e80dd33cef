//! The coloration plot, drawn with `plotters` as PNG or SVG: each chain's
//! `20·log10|H(f)/H(1 kHz)|` (`Chain::coloration_db`) on a log-frequency axis with labelled
//! decades, the first chain's IEM impedance on a second (Ω) axis, a legend, and the 20 Hz–20 kHz
//! band the figures are judged over marked.

use std::path::Path;

use anyhow::Result;
use earstage::model::chain::{BAND_START_HZ, BAND_STOP_HZ, log_grid};
use earstage::model::{Chain, ImpedanceModel};
use earstage::offline::chart_style::{
    Axis, FREQUENCY_AXIS, FrequencyChart, area_key, chart_on, draw_grid, draw_legend,
    draw_secondary_axis, line_key, log_hz_axis,
};
use earstage::offline::figure::{Figure, write_figure};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The plot spans an octave either side of the audio band, so the band's edges show.
const PLOT_START_HZ: f64 = 10.0;
const PLOT_STOP_HZ: f64 = 40_000.0;
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

/// What the plot draws, on its 1/48-octave grid.
struct Curves {
    grid_hz: Vec<f64>,
    /// Each chain's coloration, held within the axis.
    coloration_db: Vec<Vec<f64>>,
    /// The coloration axis spans ±this.
    span_db: f64,
    /// The first chain's IEM |Z|, and the model's when there is one.
    impedance_ohms: Vec<f64>,
    model_ohms: Option<Vec<f64>>,
    /// The top of the |Z| axis.
    z_max_ohms: f64,
}

impl Curves {
    /// The curves of `chains`, the |Z| of `first`'s IEM and of `model`, and the axes' spans.
    fn new(chains: &[(&str, &Chain)], first: &Chain, model: Option<&ImpedanceModel>) -> Self {
        let grid_hz = log_grid(PLOT_START_HZ, PLOT_STOP_HZ, 48.0);
        let curves: Vec<Vec<f64>> = chains
            .iter()
            .map(|(_, c)| c.coloration_db(&grid_hz))
            .collect();
        let impedance_ohms: Vec<f64> = grid_hz
            .iter()
            .map(|&f| first.iem.impedance(f).norm())
            .collect();
        // Whole 3 dB steps holding every curve in the 20 Hz–20 kHz band, at least ±3 dB; outside
        // the band a curve that leaves the axis is drawn along its edge, so in-band detail keeps
        // its scale.
        let extreme = curves
            .iter()
            .flat_map(|curve| {
                grid_hz
                    .iter()
                    .zip(curve)
                    .filter(|(hz, _)| (BAND_START_HZ..=BAND_STOP_HZ).contains(*hz))
                    .map(|(_, db)| db.abs())
            })
            .fold(1.0f64, f64::max);
        let span_db = (extreme / 3.0).ceil() * 3.0;
        let coloration_db = curves
            .into_iter()
            .map(|c| {
                c.into_iter()
                    .map(|db| db.clamp(-span_db, span_db))
                    .collect()
            })
            .collect();
        let model_ohms: Option<Vec<f64>> =
            model.map(|m| grid_hz.iter().map(|&f| m.impedance(f).norm()).collect());
        let z_max_ohms = impedance_ohms
            .iter()
            .chain(model_ohms.iter().flatten())
            .fold(1.0f64, |m, v| m.max(*v))
            * 1.15;
        Self {
            grid_hz,
            coloration_db,
            span_db,
            impedance_ohms,
            model_ohms,
            z_max_ohms,
        }
    }

    /// `values` against the grid's frequencies.
    fn line<'c>(&'c self, values: &'c [f64]) -> impl Iterator<Item = (f64, f64)> + Clone + 'c {
        self.grid_hz.iter().copied().zip(values.iter().copied())
    }
}

/// Draw the plot: the band shaded, the grid and both axes, the 0 dB line, the |Z| curves, each
/// chain's coloration, and the legend.
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
    let curves = Curves::new(chains, first, model.map(|(_, m)| m));
    let span_db = curves.span_db;
    let x_axis = || log_hz_axis(PLOT_START_HZ, PLOT_STOP_HZ);
    let mut chart = chart_on(root, title, true)?
        .build_cartesian_2d(x_axis(), -span_db..span_db)
        .map_err(err)?
        .set_secondary_coord(x_axis(), 0.0..curves.z_max_ohms);
    // The band the figures are judged over, under the grid.
    chart
        .draw_series([Rectangle::new(
            [(BAND_START_HZ, -span_db), (BAND_STOP_HZ, span_db)],
            BAND.filled(),
        )])
        .map_err(err)?
        .label("20 Hz–20 kHz band")
        .legend(area_key(BAND));
    draw_grid(
        &mut chart,
        2,
        FREQUENCY_AXIS,
        Axis {
            desc: "coloration re 1 kHz, dB",
            label: &|db: &f64| format!("{db:+.0}"),
        },
    )?;
    draw_secondary_axis(
        &mut chart,
        Axis {
            desc: "IEM impedance |Z|, Ω",
            label: &|ohms: &f64| format!("{ohms:.0}"),
        },
    )?;
    chart
        .draw_series(LineSeries::new(
            [(PLOT_START_HZ, 0.0), (PLOT_STOP_HZ, 0.0)],
            BLACK.mix(0.4),
        ))
        .map_err(err)?;
    draw_impedance(
        &mut chart,
        &curves,
        &first.iem.name,
        model.map(|(label, _)| label),
    )?;
    draw_coloration(&mut chart, &curves, chains)?;
    draw_legend(&mut chart, SeriesLabelPosition::UpperLeft)
}

/// The IEM's |Z| dashed on the Ω axis, and the catalog model's in shorter dashes beside it.
fn draw_impedance<DB: DrawingBackend>(
    chart: &mut FrequencyChart<'_, DB>,
    curves: &Curves,
    iem: &str,
    model: Option<&str>,
) -> Result<(), String> {
    chart
        .draw_secondary_series(DashedLineSeries::new(
            curves.line(&curves.impedance_ohms),
            6,
            4,
            IMPEDANCE.stroke_width(2),
        ))
        .map_err(|e| e.to_string())?
        .label(format!("|Z| of {iem}"))
        .legend(line_key(IMPEDANCE));
    if let (Some(label), Some(model_ohms)) = (model, &curves.model_ohms) {
        chart
            .draw_secondary_series(DashedLineSeries::new(
                curves.line(model_ohms),
                2,
                4,
                MODEL.stroke_width(2),
            ))
            .map_err(|e| e.to_string())?
            .label(format!("|Z| of {label}"))
            .legend(line_key(MODEL));
    }
    Ok(())
}

/// Each chain's coloration, in its own colour, on the dB axis.
fn draw_coloration<DB: DrawingBackend>(
    chart: &mut FrequencyChart<'_, DB>,
    curves: &Curves,
    chains: &[(&str, &Chain)],
) -> Result<(), String> {
    for (i, ((label, _), curve)) in chains.iter().zip(&curves.coloration_db).enumerate() {
        let colour = COLOURS[i % COLOURS.len()];
        chart
            .draw_series(LineSeries::new(curves.line(curve), colour.stroke_width(2)))
            .map_err(|e| e.to_string())?
            .label(*label)
            .legend(line_key(colour));
    }
    Ok(())
}
