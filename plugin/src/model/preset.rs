//! User presets: a TOML file holding any of an IEM, a source, an attenuator and a cable, with the
//! same fields as the built-in catalog. Loading validates everything before anything is used;
//! saving writes a new file atomically and never overwrites one unless asked.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;

use super::import::{self, ImportError};
use super::{Attenuator, Cable, Chain, Iem, Source};

/// What a preset file looks like, said with every syntax error.
const PRESET_SHAPE: &str = "a preset is TOML with any of the tables [source], [attenuator], [cable] \
     and [iem], each key given once (docs/chain.md, \"Presets\")";

/// A preset file's contents.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Preset {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source: Option<Source>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub attenuator: Option<Attenuator>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cable: Option<Cable>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub iem: Option<Iem>,
}

#[derive(Debug, Error)]
pub enum PresetError {
    #[error("{path}: cannot read: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{path}:{line}: {reason}")]
    Parse {
        path: PathBuf,
        line: usize,
        reason: String,
    },
    #[error("{path}: {reason}")]
    Invalid { path: PathBuf, reason: String },
}

impl From<&Chain> for Preset {
    fn from(chain: &Chain) -> Self {
        Self {
            source: Some(chain.source.clone()),
            attenuator: Some(chain.attenuator.clone()),
            cable: Some(chain.cable),
            iem: Some(chain.iem.clone()),
        }
    }
}

impl Preset {
    /// Parses and validates preset text; `path` only names the file in errors.
    pub fn from_toml(text: &str, path: &Path) -> Result<Self, PresetError> {
        let preset: Preset = toml::from_str(text).map_err(|e| {
            let line = e.span().map_or(0, |span| {
                text[..span.start.min(text.len())].lines().count().max(1)
            });
            PresetError::Parse {
                path: path.to_path_buf(),
                line,
                reason: format!("{}; {PRESET_SHAPE}", e.message().trim_end()),
            }
        })?;
        let invalid = |reason: String| PresetError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        if let Some(s) = &preset.source {
            s.validate().map_err(|e| invalid(e.to_string()))?;
        }
        if let Some(a) = &preset.attenuator {
            a.validate().map_err(|e| invalid(e.to_string()))?;
        }
        if let Some(i) = &preset.iem {
            i.validate().map_err(|e| invalid(e.to_string()))?;
        }
        if let Some(c) = preset.cable
            && !(c.ohms.is_finite() && (0.0..=1e4).contains(&c.ohms))
        {
            return Err(invalid(format!(
                "cable ohms {}: allowed range is 0 to 10000",
                c.ohms
            )));
        }
        Ok(preset)
    }

    /// Reads and validates a preset file (at most [`import::MAX_FILE_BYTES`], UTF-8).
    pub fn load(path: &Path) -> Result<Self, PresetError> {
        let text = import::read_text(path).map_err(|e| match e {
            ImportError::Io { path, source } => PresetError::Read { path, source },
            ImportError::Line { path, line, reason } => PresetError::Parse { path, line, reason },
            ImportError::File { path, reason } => PresetError::Invalid { path, reason },
        })?;
        Self::from_toml(&text, path)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("presets hold only TOML-representable values")
    }
}
