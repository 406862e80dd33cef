//! `earstage analyze … --history/--plot/--target`: where each file's loudness history goes. One
//! file writes to the paths given; several (album mode) write one `NAME.history.csv` (and
//! `NAME.history.png`) per input into the folders given. The writing is
//! `earstage::offline::history`.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};
use earstage::model::delivery::DeliveryTarget;
use earstage::offline::analysis::FileAnalysis;
use earstage::offline::figure::PlotFormat;
use earstage::offline::history::{GraphOptions, write_csv, write_plot};
use earstage::offline::output::check_new_file;

/// The history options of `analyze`.
#[derive(Debug, Clone, Default)]
pub struct HistoryOutputs {
    pub csv: Option<PathBuf>,
    pub plot: Option<PathBuf>,
    pub target: Option<DeliveryTarget>,
    pub over_threshold_dbtp: f64,
    pub force: bool,
}

/// The files one input's history goes to.
#[derive(Debug, Clone, PartialEq, Default)]
struct Destinations {
    csv: Option<PathBuf>,
    plot: Option<PathBuf>,
}

impl HistoryOutputs {
    fn destinations(&self, input: &Path, album: bool) -> Destinations {
        if !album {
            return Destinations {
                csv: self.csv.clone(),
                plot: self.plot.clone(),
            };
        }
        let stem = input
            .file_stem()
            .map_or_else(|| "audio".into(), |s| s.to_string_lossy().into_owned());
        Destinations {
            csv: self
                .csv
                .as_ref()
                .map(|dir| dir.join(format!("{stem}.history.csv"))),
            plot: self
                .plot
                .as_ref()
                .map(|dir| dir.join(format!("{stem}.history.png"))),
        }
    }

    /// Refuses, before any work, what would fail or lose a file: an existing file without
    /// `--force`, a missing folder, a plot that is neither .png nor .svg, and in album mode a
    /// destination that is not a folder or two inputs of the same name.
    pub fn check(&self, inputs: &[PathBuf], album: bool) -> Result<()> {
        if album {
            for dir in [&self.csv, &self.plot].into_iter().flatten() {
                // A name that ends like the file it would hold (x.csv, x.png) is a file meant,
                // not a folder to make.
                let file_like = dir.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                    ["csv", "png", "svg"].contains(&e.to_ascii_lowercase().as_str())
                });
                if (dir.exists() && !dir.is_dir()) || (!dir.exists() && file_like) {
                    bail!(
                        "{}: with several files the history goes to a folder, one file per input \
                         (NAME.history.csv, NAME.history.png); name a folder",
                        dir.display()
                    );
                }
            }
            for dir in [&self.csv, &self.plot].into_iter().flatten() {
                std::fs::create_dir_all(dir)
                    .with_context(|| format!("cannot create the folder {}", dir.display()))?;
            }
        } else if let Some(plot) = &self.plot {
            PlotFormat::of(plot)?;
        }
        let mut seen: HashMap<PathBuf, &Path> = HashMap::new();
        for input in inputs {
            let d = self.destinations(input, album);
            for path in [d.csv, d.plot].into_iter().flatten() {
                check_new_file(&path, self.force, &[], "the loudness history")?;
                if let Some(other) = seen.insert(path.clone(), input) {
                    bail!(
                        "{} and {} would both write {}; analyse them apart",
                        other.display(),
                        input.display(),
                        path.display()
                    );
                }
            }
        }
        Ok(())
    }

    /// Write one analysed file's history where it goes.
    pub fn write(&self, file: &FileAnalysis, album: bool) -> Result<()> {
        let d = self.destinations(&file.path, album);
        if let Some(csv) = &d.csv {
            write_csv(csv, &file.history, self.force)?;
        }
        if let Some(plot) = &d.plot {
            let name = file
                .path
                .file_name()
                .map_or_else(String::new, |n| n.to_string_lossy().into_owned());
            let title = format!("{name}: loudness history");
            let options = GraphOptions {
                title: &title,
                target: self.target,
                over_threshold_dbtp: self.over_threshold_dbtp,
            };
            write_plot(plot, &file.history, &options, self.force)?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn one_file_writes_where_told_an_album_into_folders() {
        let outputs = HistoryOutputs {
            csv: Some("out".into()),
            plot: Some("plots".into()),
            ..HistoryOutputs::default()
        };
        let one = outputs.destinations(Path::new("a/song.flac"), false);
        assert_eq!(one.csv, Some(PathBuf::from("out")));
        let album = outputs.destinations(Path::new("a/song.flac"), true);
        assert_eq!(album.csv, Some(PathBuf::from("out/song.history.csv")));
        assert_eq!(album.plot, Some(PathBuf::from("plots/song.history.png")));
    }
}
