//! `cargo xtask`: bundle (nice-plug-xtask), demo, and the one command that runs every test.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result, bail};

mod gates;
mod layers;
mod lengths;
mod patch;
mod test;

const USAGE: &str = "Usage:
  cargo xtask bundle earstage [--release]   build target/bundled/Earstage.{clap,vst3}
  cargo xtask demo [-- ARGS]                bundle, then run `earstage demo` on the embedded demo
  cargo xtask test                          every test suite: the gates (layers, lengths, fmt,
                                            clippy, doc, rust-version), unit, CLAP host, VST3 host, validators
  cargo xtask patch                         make the patched nice-plug the workspace builds against
                                            (every command above does it first; a plain `cargo
                                            build` on a fresh clone needs it once)
  cargo xtask layers                        the layer check alone (every import points down)
  cargo xtask lengths                       the length check alone (no function in editor/, bin/
                                            or offline/ over 60 lines)";

fn main() -> Result<()> {
    let mut args = std::env::args().skip(1);
    let command = args.next().unwrap_or_default();
    let rest: Vec<String> = args.collect();
    if matches!(command.as_str(), "bundle" | "demo" | "test" | "patch") {
        patch::ensure()?;
    }
    match command.as_str() {
        "patch" => Ok(()),
        "bundle" => {
            nice_plug_xtask::main_with_args("cargo xtask", std::iter::once(command).chain(rest))
        }
        "demo" => demo(&rest),
        "test" => test::run(),
        "layers" => gates::layers(),
        "lengths" => gates::lengths(),
        "" | "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => bail!("unknown command '{other}'\n\n{USAGE}"),
    }
}

/// The workspace root (the parent of this crate's manifest directory).
pub fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .expect("xtask lives one level below the workspace root")
        .to_path_buf()
}

pub fn bundle_dir() -> PathBuf {
    workspace_root().join("target").join("bundled")
}

/// Build the release bundles into target/bundled/.
pub fn bundle_release() -> Result<()> {
    nice_plug_xtask::main_with_args(
        "cargo xtask",
        ["bundle", "earstage", "--release"].map(String::from),
    )
}

/// Run a command in the workspace root; fail with its description if it fails.
pub fn run_checked(what: &str, command: &mut Command) -> Result<()> {
    let status = command
        .current_dir(workspace_root())
        .status()
        .with_context(|| format!("could not start {what}"))?;
    if !status.success() {
        bail!("{what} failed ({status})");
    }
    Ok(())
}

fn cargo() -> Command {
    Command::new(std::env::var("CARGO").unwrap_or_else(|_| "cargo".into()))
}

fn demo(args: &[String]) -> Result<()> {
    bundle_release()?;
    let bundles = bundle_dir();
    run_checked(
        "earstage demo",
        cargo()
            .args([
                "run",
                "--quiet",
                "--release",
                "--package",
                "earstage",
                "--bin",
                "earstage",
                "--",
            ])
            .arg("demo")
            .arg("--bundles")
            .arg(&bundles)
            .arg("--out")
            .arg(Path::new("target").join("demo"))
            .args(args),
    )
}
