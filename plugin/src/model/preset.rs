//! User presets: a TOML file holding any of an IEM, a source, an attenuator and a cable, with the
//! same fields as the built-in catalog. Loading validates everything before anything is used;
//! saving writes a new file atomically and never overwrites one unless asked.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use thiserror::Error;
use toml::Spanned;
use toml::de::{DeTable, DeValue};

use super::attenuator::Network;
use super::catalog::{Catalog, DEFAULT_IEM, DEFAULT_SOURCE};
use super::import::{self, ImportError};
use super::{Attenuator, Cable, Chain, Iem, Source};

/// The tables of a preset, in the order of [`Bases`]' texts.
const TABLES: [&str; 4] = ["source", "attenuator", "cable", "iem"];
/// The attenuator's network keys: given one of them with `type`, the table names its own
/// network and takes none of these from its base.
const NETWORK_KEYS: [&str; 5] = ["type", "series_ohms", "shunt_ohms", "ohms", "nanofarads"];

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
    /// Parses and validates preset text; `path` only names the file in errors. A table may give
    /// any of its entry's fields: those it leaves out come from the catalog entry its `name`
    /// names exactly, or from the default entry when it gives no name. A `name`
    /// of the user's own makes an entry of its own, which gives every field.
    pub fn from_toml(text: &str, path: &Path, catalog: &Catalog) -> Result<Self, PresetError> {
        let parse_error = |e: toml::de::Error, hint: &str| {
            // The line the error starts on, counted from 1.
            let line = e.span().map_or(0, |span| {
                text.as_bytes()[..span.start.min(text.len())]
                    .iter()
                    .filter(|&&b| b == b'\n')
                    .count()
                    + 1
            });
            PresetError::Parse {
                path: path.to_path_buf(),
                line,
                reason: format!("{}{hint}; {PRESET_SHAPE}", e.message().trim_end()),
            }
        };
        let first = DeTable::parse(text).map_err(|e| parse_error(e, ""))?;
        // Each given table's base entry as TOML text, or the span of a table of the user's own.
        let mut own = Vec::new();
        let bases: Vec<(&str, String)> = TABLES
            .iter()
            .filter_map(|&key| {
                let table = first.get_ref().get(key)?;
                let DeValue::Table(entries) = table.get_ref() else {
                    return None;
                };
                let base = base_text(key, entries, catalog);
                if base.is_none() {
                    own.push((key, table.span()));
                }
                Some((key, base?))
            })
            .collect();
        // Parsed again to be completed: the completed tables borrow the base texts, which the
        // first parse's tables (needed to find the bases) would outlive.
        let root = DeTable::parse(text).map_err(|e| parse_error(e, ""))?;
        let (span, mut tables) = (root.span(), root.into_inner());
        let from = path.file_name().map_or_else(
            || path.display().to_string(),
            |name| name.to_string_lossy().into_owned(),
        );
        for (key, base) in &bases {
            complete(&mut tables, key, base, &from);
        }
        let preset = Preset::deserialize(toml::de::Deserializer::from(Spanned::new(span, tables)))
            .map_err(|e| {
                let at = e.span().unwrap_or_default();
                let hint = own
                    .iter()
                    .find(|(_, table)| table.start <= at.start && at.end <= table.end)
                    .filter(|_| e.message().starts_with("missing field"))
                    .map(|(key, _)| {
                        format!(
                            " ([{key}] names no catalog entry, so it gives every field; leave \
                             `name` out to change the default entry, or name a catalog entry \
                             exactly: `earstage catalog`)"
                        )
                    });
                parse_error(e, hint.as_deref().unwrap_or_default())
            })?;
        let mut preset = preset;
        // An attenuator completed from "none" that names a network is the preset's own.
        if let Some(a) = &mut preset.attenuator
            && a.name == "none"
            && a.network != Network::None
        {
            a.name = format!("the attenuator of {from}");
        }
        preset.validate(path)?;
        Ok(preset)
    }

    /// Every entry's values in range.
    fn validate(&self, path: &Path) -> Result<(), PresetError> {
        let invalid = |reason: String| PresetError::Invalid {
            path: path.to_path_buf(),
            reason,
        };
        if let Some(s) = &self.source {
            s.validate().map_err(|e| invalid(e.to_string()))?;
        }
        if let Some(a) = &self.attenuator {
            a.validate().map_err(|e| invalid(e.to_string()))?;
        }
        if let Some(i) = &self.iem {
            i.validate().map_err(|e| invalid(e.to_string()))?;
        }
        if let Some(c) = self.cable
            && !(c.ohms.is_finite() && (0.0..=1e4).contains(&c.ohms))
        {
            return Err(invalid(format!(
                "cable ohms {}: allowed range is 0 to 10000",
                c.ohms
            )));
        }
        Ok(())
    }

    /// Reads and validates a preset file (at most [`import::MAX_FILE_BYTES`], UTF-8).
    pub fn load(path: &Path, catalog: &Catalog) -> Result<Self, PresetError> {
        let text = import::read_text(path).map_err(|e| match e {
            ImportError::Io { path, source } => PresetError::Read { path, source },
            ImportError::Line { path, line, reason } => PresetError::Parse { path, line, reason },
            ImportError::File { path, reason } => PresetError::Invalid { path, reason },
        })?;
        Self::from_toml(&text, path, catalog)
    }

    pub fn to_toml(&self) -> String {
        toml::to_string_pretty(self).expect("presets hold only TOML-representable values")
    }
}

/// The entry a preset's table `key` completes from, as TOML text: the catalog entry its `name`
/// names exactly (case aside), the default one when it gives no name; `None` for a name of the
/// user's own.
fn base_text(key: &str, table: &DeTable<'_>, catalog: &Catalog) -> Option<String> {
    fn text<T: Serialize>(entry: &T) -> String {
        toml::to_string(entry).expect("catalog entries are TOML-representable")
    }
    let name = match table.get("name").map(Spanned::get_ref) {
        None => None,
        Some(DeValue::String(name)) => Some(name.as_ref()),
        // Not a string: the deserializer says so, at its line.
        Some(_) => return None,
    };
    let is = |entry: &str, default: &str| entry.eq_ignore_ascii_case(name.unwrap_or(default));
    match key {
        "source" => catalog
            .sources
            .iter()
            .find(|s| is(&s.name, DEFAULT_SOURCE))
            .map(text),
        "iem" => catalog
            .iems
            .iter()
            .find(|i| is(&i.name, DEFAULT_IEM))
            .map(text),
        "attenuator" if is("none", "none") => Some(text(&Attenuator::none())),
        "attenuator" => catalog
            .attenuators
            .iter()
            .find(|a| is(&a.name, "none"))
            .map(text),
        "cable" => Some(text(&Cable::default())),
        _ => None,
    }
}

/// Completes the table `key` of `tables` with the fields of its base entry (TOML text) that it
/// leaves out, and says in the entry's name (when it gives none) and provenance which fields
/// the preset changed. The added fields take the table's own span, so an error in one points
/// at the table.
fn complete<'a>(tables: &mut DeTable<'a>, key: &str, base: &'a str, from: &str) {
    let Some(table) = tables.get_mut(key) else {
        return;
    };
    let span = table.span();
    let DeValue::Table(given) = table.get_mut() else {
        return;
    };
    let Ok(base) = DeTable::parse(base) else {
        return;
    };
    let own_network = given.keys().any(|k| k.get_ref() == "type");
    let changed: Vec<String> = given
        .keys()
        .map(|k| k.get_ref().to_string())
        .filter(|k| k != "name" && k != "provenance")
        .collect();
    let gives_name = given.contains_key("name");
    let gives_provenance = given.contains_key("provenance");
    for (k, v) in base.into_inner() {
        let name = k.get_ref().to_string();
        if given.contains_key(name.as_str())
            || (own_network && NETWORK_KEYS.contains(&name.as_str()))
        {
            continue;
        }
        let value = v.into_inner();
        let value = match (name.as_str(), &value) {
            ("name", DeValue::String(n)) if !gives_name && !changed.is_empty() && n != "none" => {
                DeValue::String(format!("{n}, with the preset's {}", changed.join(", ")).into())
            }
            ("provenance", DeValue::String(p)) if !gives_provenance && !changed.is_empty() => {
                let p = if p.is_empty() { "catalog" } else { p.as_ref() };
                DeValue::String(format!("{p}; {} from {from}", changed.join(", ")).into())
            }
            _ => value,
        };
        given.insert(
            Spanned::new(span.clone(), name.into()),
            Spanned::new(span.clone(), value),
        );
    }
}
