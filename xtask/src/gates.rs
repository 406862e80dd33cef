//! The gates of `cargo xtask test` that read the code rather than run it: formatting, clippy with
//! warnings denied, the API docs with warnings denied, the declared `rust-version`, the layer
//! check and the length check.

use std::process::Command;

use anyhow::{Context, Result, bail};

use crate::{cargo, run_checked, workspace_root};

/// The xtask's own manifest: a workspace of its own, checked beside the product's.
pub const XTASK_MANIFEST: &str = "xtask/Cargo.toml";
/// Where the xtask workspace builds (the alias in .cargo/config.toml says the same).
pub const XTASK_TARGET: &str = "target/xtask";

pub fn fmt() -> Result<()> {
    run_checked(
        "cargo fmt --check",
        cargo().args(["fmt", "--all", "--check"]),
    )?;
    run_checked(
        "cargo fmt --check (xtask)",
        cargo().args(["fmt", "--all", "--check", "--manifest-path", XTASK_MANIFEST]),
    )
}

pub fn clippy() -> Result<()> {
    let lint = ["--all-targets", "--", "-D", "warnings"];
    run_checked(
        "cargo clippy",
        cargo().args(["clippy", "--workspace"]).args(lint),
    )?;
    run_checked(
        "cargo clippy (xtask)",
        cargo()
            .args(["clippy", "--manifest-path", XTASK_MANIFEST])
            .args(["--target-dir", XTASK_TARGET])
            .args(lint),
    )
}

pub fn doc() -> Result<()> {
    run_checked(
        "cargo doc",
        cargo()
            .args(["doc", "--workspace", "--no-deps"])
            .env("RUSTDOCFLAGS", "-D warnings"),
    )
}

pub fn layers() -> Result<()> {
    crate::layers::check(&workspace_root().join("plugin").join("src"))
}

pub fn lengths() -> Result<()> {
    crate::lengths::check(&workspace_root().join("plugin").join("src"))
}

/// A `major.minor[.patch]` version as numbers.
fn version(text: &str) -> Option<(u64, u64, u64)> {
    let mut parts = text.trim().split('.').map(|p| p.parse::<u64>().ok());
    let major = parts.next()??;
    let minor = parts.next().flatten().unwrap_or(0);
    let patch = parts.next().flatten().unwrap_or(0);
    Some((major, minor, patch))
}

/// The workspace's `rust-version` is true: no dependency in the build needs a newer compiler, and
/// the compiler building it now is not older than it. (Clippy's `incompatible_msrv` lint, in the
/// clippy gate, checks the standard library calls against the same figure.)
pub fn rust_version() -> Result<()> {
    let output = cargo()
        .args(["metadata", "--format-version", "1"])
        .current_dir(workspace_root())
        .output()
        .context("running cargo metadata")?;
    if !output.status.success() {
        bail!(
            "cargo metadata failed: {}",
            String::from_utf8_lossy(&output.stderr)
        );
    }
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).context("reading cargo metadata's JSON")?;
    let packages = metadata["packages"].as_array().context("no packages")?;
    let resolved: std::collections::BTreeSet<&str> = metadata["resolve"]["nodes"]
        .as_array()
        .context("no resolve graph")?
        .iter()
        .filter_map(|n| n["id"].as_str())
        .collect();
    let members: Vec<&str> = metadata["workspace_members"]
        .as_array()
        .context("no workspace members")?
        .iter()
        .filter_map(|m| m.as_str())
        .collect();
    let declared_text = packages
        .iter()
        .find(|p| p["id"].as_str() == members.first().copied())
        .and_then(|p| p["rust_version"].as_str())
        .context("the workspace declares no rust-version")?;
    let declared = version(declared_text).context("an unreadable rust-version")?;
    let mut needs = Vec::new();
    for package in packages {
        let id = package["id"].as_str().unwrap_or_default();
        if !resolved.contains(id) || members.contains(&id) {
            continue;
        }
        if let Some(wanted) = package["rust_version"].as_str().and_then(version)
            && wanted > declared
        {
            needs.push(format!(
                "{} {} needs Rust {}",
                package["name"].as_str().unwrap_or("?"),
                package["version"].as_str().unwrap_or("?"),
                package["rust_version"].as_str().unwrap_or("?"),
            ));
        }
    }
    if !needs.is_empty() {
        bail!(
            "Cargo.toml declares rust-version {declared_text}, but {}",
            needs.join("; ")
        );
    }
    let rustc = Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
        .arg("--version")
        .output()
        .context("running rustc --version")?;
    let rustc_text = String::from_utf8_lossy(&rustc.stdout).into_owned();
    let running = rustc_text
        .split_whitespace()
        .nth(1)
        .and_then(|v| version(v.split('-').next().unwrap_or(v)))
        .context("an unreadable rustc --version")?;
    if running < declared {
        bail!("rust-version {declared_text} is newer than the compiler here ({rustc_text})");
    }
    println!(
        "rust-version {declared_text}: no dependency needs newer; built here with {}",
        rustc_text.trim()
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::version;

    #[test]
    fn versions_compare_as_numbers() {
        assert_eq!(version("1.95"), Some((1, 95, 0)));
        assert!(version("1.100.0") > version("1.95.1"));
        assert_eq!(version("x"), None);
    }
}
