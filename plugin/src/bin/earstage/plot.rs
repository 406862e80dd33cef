//! A coloration plot as SVG: 20·log10|H(f)/H(1 kHz)| over 20 Hz–20 kHz on a log axis, one curve
//! per chain, with the IEM's impedance on a second axis. Plain SVG text, no dependencies.

use std::fmt::Write as _;

use earstage::model::Chain;
use earstage::model::chain::{BAND_START_HZ, BAND_STOP_HZ, REFERENCE_HZ, log_grid};

const WIDTH: f64 = 900.0;
const HEIGHT: f64 = 480.0;
const LEFT: f64 = 70.0;
const RIGHT: f64 = 70.0;
const TOP: f64 = 50.0;
const BOTTOM: f64 = 60.0;

fn x_of(hz: f64) -> f64 {
    LEFT + (WIDTH - LEFT - RIGHT) * (hz / BAND_START_HZ).log10()
        / (BAND_STOP_HZ / BAND_START_HZ).log10()
}

fn polyline(points: &[(f64, f64)], colour: &str, dashed: bool) -> String {
    let d: Vec<String> = points
        .iter()
        .map(|(x, y)| format!("{x:.1},{y:.1}"))
        .collect();
    format!(
        "<polyline fill=\"none\" stroke=\"{colour}\" stroke-width=\"2\"{} points=\"{}\"/>\n",
        if dashed {
            " stroke-dasharray=\"6,4\""
        } else {
            ""
        },
        d.join(" ")
    )
}

/// The plot of `chains` (label, chain); the first chain's IEM impedance is drawn dashed.
pub fn coloration_svg(title: &str, chains: &[(&str, &Chain)]) -> String {
    let grid = log_grid(BAND_START_HZ, BAND_STOP_HZ, 48.0);
    let curves: Vec<Vec<f64>> = chains
        .iter()
        .map(|(_, c)| {
            let h_ref = c.transfer(REFERENCE_HZ).norm();
            grid.iter()
                .map(|&f| 20.0 * (c.transfer(f).norm() / h_ref).log10())
                .collect()
        })
        .collect();
    let extreme = curves.iter().flatten().fold(1.0f64, |m, v| m.max(v.abs()));
    let span_db = (extreme / 3.0).ceil() * 3.0;
    let plot_h = HEIGHT - TOP - BOTTOM;
    let y_of = |db: f64| TOP + plot_h * (0.5 - db / (2.0 * span_db));
    let z: Vec<f64> = grid
        .iter()
        .map(|&f| chains[0].1.iem.impedance(f).norm())
        .collect();
    let z_max = z.iter().fold(1.0f64, |m, v| m.max(*v)) * 1.1;
    let yz_of = |ohms: f64| TOP + plot_h * (1.0 - ohms / z_max);

    let mut s = String::new();
    let _ = writeln!(
        s,
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{WIDTH}\" height=\"{HEIGHT}\" font-family=\"sans-serif\" font-size=\"12\">"
    );
    let _ = writeln!(s, "<rect width=\"100%\" height=\"100%\" fill=\"white\"/>");
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"28\" font-size=\"16\" text-anchor=\"middle\">{}</text>",
        WIDTH / 2.0,
        escape(title)
    );
    for hz in [
        20.0, 50.0, 100.0, 200.0, 500.0, 1000.0, 2000.0, 5000.0, 10_000.0, 20_000.0,
    ] {
        let x = x_of(hz);
        let label = if hz >= 1000.0 {
            format!("{}k", hz / 1000.0)
        } else {
            format!("{hz}")
        };
        let _ = writeln!(
            s,
            "<line x1=\"{x:.1}\" y1=\"{TOP}\" x2=\"{x:.1}\" y2=\"{}\" stroke=\"#ddd\"/>",
            HEIGHT - BOTTOM
        );
        let _ = writeln!(
            s,
            "<text x=\"{x:.1}\" y=\"{}\" text-anchor=\"middle\">{label}</text>",
            HEIGHT - BOTTOM + 18.0
        );
    }
    let step = if span_db > 9.0 { 3.0 } else { 1.0 };
    let mut db = -span_db;
    while db <= span_db + 1e-9 {
        let y = y_of(db);
        let _ = writeln!(
            s,
            "<line x1=\"{LEFT}\" y1=\"{y:.1}\" x2=\"{}\" y2=\"{y:.1}\" stroke=\"{}\"/>",
            WIDTH - RIGHT,
            if db == 0.0 { "#999" } else { "#eee" }
        );
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{:.1}\" text-anchor=\"end\">{db:+.0} dB</text>",
            LEFT - 6.0,
            y + 4.0
        );
        db += step;
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"middle\">frequency, Hz</text>",
        WIDTH / 2.0,
        HEIGHT - 14.0
    );
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#888\">|Z| {z_max:.0} Ω</text>",
        WIDTH - 6.0,
        TOP + 4.0
    );
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" text-anchor=\"end\" fill=\"#888\">0 Ω</text>",
        WIDTH - 6.0,
        HEIGHT - BOTTOM
    );
    let impedance: Vec<(f64, f64)> = grid
        .iter()
        .zip(&z)
        .map(|(&f, &o)| (x_of(f), yz_of(o)))
        .collect();
    s.push_str(&polyline(&impedance, "#888", true));
    let colours = ["#d62728", "#1f77b4", "#2ca02c", "#9467bd"];
    for (i, ((label, _), curve)) in chains.iter().zip(&curves).enumerate() {
        let colour = colours[i % colours.len()];
        let points: Vec<(f64, f64)> = grid
            .iter()
            .zip(curve)
            .map(|(&f, &v)| (x_of(f), y_of(v)))
            .collect();
        s.push_str(&polyline(&points, colour, false));
        let _ = writeln!(
            s,
            "<text x=\"{}\" y=\"{}\" fill=\"{colour}\">{}</text>",
            LEFT + 10.0,
            TOP + 16.0 + 16.0 * i as f64,
            escape(label)
        );
    }
    let _ = writeln!(
        s,
        "<text x=\"{}\" y=\"{}\" fill=\"#888\">dashed: IEM impedance {}</text>",
        LEFT + 10.0,
        TOP + 16.0 + 16.0 * chains.len() as f64,
        escape(&chains[0].1.iem.name)
    );
    s.push_str("</svg>\n");
    s
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

#[cfg(test)]
mod tests {
    use super::*;
    use earstage::model::{Attenuator, Cable, Iem, Sensitivity, Source};

    #[test]
    fn well_formed_and_flat_for_an_ideal_chain() {
        let chain = Chain {
            source: Source::ideal(1.0),
            attenuator: Attenuator::none(),
            cable: Cable::default(),
            iem: Iem::resistive(16.0, Sensitivity::DbPerV(120.0)),
        };
        let svg = coloration_svg("a <test> & more", &[("ideal", &chain)]);
        assert!(svg.starts_with("<svg") && svg.trim_end().ends_with("</svg>"));
        assert!(svg.contains("a &lt;test&gt; &amp; more"));
        assert_eq!(svg.matches("<polyline").count(), 2);
    }
}
