//! The length gate of `cargo xtask test`: no function in the editor, the CLI or `offline/` runs
//! over [`MAX_LINES`] lines, so each can be read at once (a panel is split into widgets, a report
//! into its sections). The DSP kernels and the physics are exempt: a standard's formula or an
//! unrolled kernel reads best whole.

use std::path::Path;

use anyhow::{Context, Result, bail};

use crate::layers::{matching_brace, strip_comments_and_strings};

/// The longest function allowed, lines from `fn` to its closing brace.
pub const MAX_LINES: usize = 60;
/// The folders under `plugin/src` the gate reads.
const FOLDERS: [&str; 3] = ["editor", "bin", "offline"];

/// Checks every `.rs` file under the gated folders of `src` and names each function too long.
pub fn check(src: &Path) -> Result<()> {
    let mut findings = Vec::new();
    let mut functions = 0;
    for folder in FOLDERS {
        let mut stack = vec![src.join(folder)];
        while let Some(dir) = stack.pop() {
            for entry in
                std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
            {
                let path = entry?.path();
                if path.is_dir() {
                    stack.push(path);
                } else if path.extension().is_some_and(|e| e == "rs") {
                    let text = std::fs::read_to_string(&path)
                        .with_context(|| format!("reading {}", path.display()))?;
                    let found = function_lengths(&strip_comments_and_strings(&text));
                    functions += found.len();
                    let shown = path
                        .strip_prefix(src)
                        .unwrap_or(&path)
                        .display()
                        .to_string();
                    findings.extend(found.into_iter().filter(|f| f.lines > MAX_LINES).map(|f| {
                        format!(
                            "src/{shown}:{}: `{}` runs {} lines (at most {MAX_LINES}): split it",
                            f.line, f.name, f.lines
                        )
                    }));
                }
            }
        }
    }
    if findings.is_empty() {
        println!("lengths: {functions} functions in {FOLDERS:?}, none over {MAX_LINES} lines");
        return Ok(());
    }
    findings.sort();
    for finding in &findings {
        println!("{finding}");
    }
    bail!("{} function(s) over {MAX_LINES} lines", findings.len())
}

/// A function with a body, where it starts and how many lines it spans.
#[derive(Debug, PartialEq)]
struct Function {
    name: String,
    line: usize,
    lines: usize,
}

/// Every function with a body in `code` (comments and strings already blanked): `fn NAME`, its
/// body from the first `{` outside parentheses and brackets to the brace that closes it.
fn function_lengths(code: &str) -> Vec<Function> {
    let bytes = code.as_bytes();
    let line_of = |offset: usize| code[..offset].matches('\n').count() + 1;
    let mut found = Vec::new();
    let mut from = 0;
    while let Some(pos) = code[from..].find("fn") {
        let at = from + pos;
        from = at + 2;
        let word_start =
            at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        if !word_start || !bytes.get(at + 2).is_some_and(u8::is_ascii_whitespace) {
            continue;
        }
        let rest = code[at + 2..].trim_start();
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        if name_len == 0 {
            continue;
        }
        let Some(open) = body_start(bytes, at + 2) else {
            continue;
        };
        let Some(close) = matching_brace(bytes, open) else {
            continue;
        };
        found.push(Function {
            name: rest[..name_len].to_owned(),
            line: line_of(at),
            lines: line_of(close) - line_of(at) + 1,
        });
    }
    found
}

/// The `{` that opens a function's body: the first outside parentheses and brackets, unless a
/// `;` there ends a declaration without one.
fn body_start(bytes: &[u8], from: usize) -> Option<usize> {
    let mut depth = 0i32;
    for (i, &b) in bytes.iter().enumerate().skip(from) {
        match b {
            b'(' | b'[' => depth += 1,
            b')' | b']' => depth -= 1,
            b'{' if depth == 0 => return Some(i),
            b';' if depth == 0 => return None,
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Bodies are measured from `fn` to their closing brace; declarations, `fn` pointer types
    /// and array types in signatures are not taken for bodies.
    #[test]
    fn functions_are_measured_to_their_closing_brace() {
        let code = "trait T { fn decl(&self) -> [u8; 4]; }\n\
                    fn short(f: fn(u8) -> u8, a: [u8; 2]) -> u8 {\n    f(a[0])\n}\n\
                    impl X {\n    pub fn long(&self) {\n        if x {\n            y();\n        }\n    }\n}\n";
        let found = function_lengths(code);
        assert_eq!(
            found,
            vec![
                Function {
                    name: "short".into(),
                    line: 2,
                    lines: 3
                },
                Function {
                    name: "long".into(),
                    line: 6,
                    lines: 5
                },
            ]
        );
    }

    /// Braces in a string or a comment do not end a body early.
    #[test]
    fn strings_and_comments_are_not_code() {
        let code = "fn a() {\n    let s = \"}}}\"; // }\n    b();\n}\n";
        let found = function_lengths(&strip_comments_and_strings(code));
        assert_eq!(found[0].lines, 4);
    }
}
