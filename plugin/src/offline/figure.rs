//! Figures drawn with `plotters`, PNG or SVG by the file's extension, in the one font the project
//! embeds: the CLI's plots and the editor's exports draw through [`write_figure`], and style their
//! charts with [`super::chart_style`].

use std::path::Path;
use std::sync::Once;

use anyhow::{Result, anyhow, bail};
use plotters::coord::Shift;
use plotters::prelude::*;
use plotters::style::FontStyle;

use super::output::{check_new_file, write_bytes_atomically};

/// Size of every figure, pixels.
const SIZE: (u32, u32) = (1000, 560);
/// The one font the figures use (egui's default, already in the binary), registered under this
/// family name.
pub const FAMILY: &str = "sans-serif";

/// Plot files by extension.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlotFormat {
    Png,
    Svg,
}

impl PlotFormat {
    /// The format a path's extension names; anything else is an error naming the path.
    pub fn of(path: &Path) -> Result<Self> {
        match path
            .extension()
            .and_then(|e| e.to_str())
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            Some("png") => Ok(Self::Png),
            Some("svg") => Ok(Self::Svg),
            _ => bail!(
                "{}: a plot is written as .png or .svg (the extension chooses)",
                path.display()
            ),
        }
    }
}

/// Register the embedded font with `plotters`, once.
fn register_font() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        // The font is egui's and known good; failing here would be a build defect.
        plotters::style::register_font(
            FAMILY,
            FontStyle::Normal,
            epaint_default_fonts::UBUNTU_LIGHT,
        )
        .map_err(|_| ())
        .expect("the embedded font parses");
    });
}

/// A picture drawn the same way on any `plotters` backend (PNG or SVG).
pub trait Figure {
    fn draw<DB: DrawingBackend>(&self, root: &DrawingArea<DB, Shift>) -> Result<(), String>;
}

/// Write `figure` to `path`, PNG or SVG by its extension. Refused before anything is drawn: an
/// existing file without `force`, a folder that does not exist. Drawn in memory, then written
/// through [`write_bytes_atomically`], so a failed plot leaves nothing.
pub fn write_figure(path: &Path, figure: &impl Figure, force: bool) -> Result<()> {
    let format = PlotFormat::of(path)?;
    check_new_file(path, force, &["png", "svg"], "a plot (PNG or SVG)")?;
    let bytes = match format {
        PlotFormat::Png => png_bytes(figure),
        PlotFormat::Svg => svg_bytes(figure),
    }
    .map_err(|e| anyhow!("cannot draw the plot into {}: {e}", path.display()))?;
    Ok(write_bytes_atomically(path, &bytes)?)
}

/// The figure as a PNG file's bytes (8-bit RGB).
fn png_bytes(figure: &impl Figure) -> Result<Vec<u8>, String> {
    register_font();
    let (width, height) = SIZE;
    let mut pixels = vec![0u8; width as usize * height as usize * 3];
    {
        let root = BitMapBackend::with_buffer(&mut pixels, SIZE).into_drawing_area();
        figure.draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    let mut file = Vec::new();
    let mut encoder = png::Encoder::new(&mut file, width, height);
    encoder.set_color(png::ColorType::Rgb);
    encoder.set_depth(png::BitDepth::Eight);
    let mut writer = encoder.write_header().map_err(|e| e.to_string())?;
    writer
        .write_image_data(&pixels)
        .map_err(|e| e.to_string())?;
    writer.finish().map_err(|e| e.to_string())?;
    Ok(file)
}

/// The figure as an SVG file's bytes.
fn svg_bytes(figure: &impl Figure) -> Result<Vec<u8>, String> {
    register_font();
    let mut text = String::new();
    {
        let root = SVGBackend::with_string(&mut text, SIZE).into_drawing_area();
        figure.draw(&root)?;
        root.present().map_err(|e| e.to_string())?;
    }
    Ok(text.into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_extension_chooses_the_format() {
        assert_eq!(PlotFormat::of(Path::new("a.PNG")).unwrap(), PlotFormat::Png);
        assert_eq!(PlotFormat::of(Path::new("a.svg")).unwrap(), PlotFormat::Svg);
        let err = PlotFormat::of(Path::new("plot.pdf"))
            .unwrap_err()
            .to_string();
        assert!(
            err.contains("plot.pdf") && err.contains(".png or .svg"),
            "{err}"
        );
    }
}
