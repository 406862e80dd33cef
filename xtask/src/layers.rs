//! The layer check of `cargo xtask test`: every import in the product crate points down the layers
//! (model ← design ← dsp ← offline ← front ends), and no module imports one that imports it back.
//!
//! It reads the sources as text: every path that starts at `crate::`, `super::`, `self::` or at
//! one of the module's own child modules (in a `use` tree, braces expanded, or inline in code) is
//! resolved to the module file it names, the deepest one that exists. Comments and string
//! literals are left out. A file's layer is its top folder under `plugin/src`; everything outside
//! the four core folders is a front end, the crate root (`lib.rs`) too: importing from it counts
//! like any other import, so a module the root declares cannot import the root back.
//!
//! Inside a core layer, a folder is a room (`dsp/meter/`, `dsp/spl/`): its modules import their
//! own room, the layer's top-level modules and the layers below, never another room of the same
//! layer — rooms meet only through the top level (the engine).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use anyhow::{Context, Result, bail};

/// The layers from the bottom up; a file may import its own layer and those below it.
const LAYERS: [&str; 4] = ["model", "design", "dsp", "offline"];

/// A module of the crate as its path from the root, e.g. `["dsp", "bank"]` (the root is `[]`).
type Module = Vec<String>;

/// One import of a module by another, where it was seen.
#[derive(Debug, Clone)]
struct Import {
    from: Module,
    to: Module,
    line: usize,
}

/// Checks the crate under `src` and says what is wrong, one line a finding.
pub fn check(src: &Path) -> Result<()> {
    let modules = modules(src)?;
    let mut imports: Vec<Import> = Vec::new();
    let mut seen = BTreeSet::new();
    for (module, file) in &modules {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let children = children(module, &modules);
        for (line, path) in paths(&strip_comments_and_strings(&text), &children) {
            if let Some(to) = resolve(module, &path, &modules)
                && to != *module
                && (to.is_empty() || !is_ancestor(&to, module))
                && seen.insert((module.clone(), to.clone()))
            {
                imports.push(Import {
                    from: module.clone(),
                    to,
                    line,
                });
            }
        }
    }
    let mut findings = Vec::new();
    for import in &imports {
        let (from, to) = (rank(&import.from), rank(&import.to));
        if to > from {
            findings.push(format!(
                "{}:{}: imports `{}` from the layer `{}`, above its own layer `{}`",
                display(src, &modules[&import.from]),
                import.line,
                name(&import.to),
                layer_name(to),
                layer_name(from),
            ));
        }
        if let (Some(own), Some(other)) = (room(&import.from, &modules), room(&import.to, &modules))
            && from == to
            && own != other
        {
            findings.push(format!(
                "{}:{}: imports `{}` from the room `{}` beside its own room `{}`; rooms of a layer \
                 meet only through the layer's top-level modules",
                display(src, &modules[&import.from]),
                import.line,
                name(&import.to),
                other,
                own,
            ));
        }
    }
    findings.extend(cycles(src, &modules, &imports));
    if findings.is_empty() {
        println!(
            "layers: {} modules, {} imports, every one pointing down, no circle",
            modules.len(),
            imports.len()
        );
        return Ok(());
    }
    for finding in &findings {
        println!("{finding}");
    }
    bail!("{} layer finding(s) in {}", findings.len(), src.display())
}

fn display(src: &Path, file: &Path) -> String {
    file.strip_prefix(src.parent().unwrap_or(src))
        .unwrap_or(file)
        .display()
        .to_string()
}

/// The layer of a module: 0–3 for the core folders, 4 for a front end (the root, `lib.rs`, is
/// glue and counts as a front end).
fn rank(module: &Module) -> usize {
    module
        .first()
        .and_then(|top| LAYERS.iter().position(|l| l == top))
        .unwrap_or(LAYERS.len())
}

/// A module's path for a finding; the root by its file.
fn name(module: &Module) -> String {
    if module.is_empty() {
        "the crate root (lib.rs)".to_owned()
    } else {
        module.join("::")
    }
}

fn layer_name(rank: usize) -> &'static str {
    LAYERS.get(rank).copied().unwrap_or("front ends")
}

/// The room of a module: the folder it lies in one level inside a core layer (`meter` for
/// `dsp::meter::loudness` and for `dsp::meter` itself); none for a layer's top-level files and
/// for front ends.
fn room<'a>(module: &'a Module, modules: &BTreeMap<Module, PathBuf>) -> Option<&'a str> {
    if module.len() < 2 || rank(module) == LAYERS.len() {
        return None;
    }
    let folder = modules.get(&module[..2])?;
    (folder.file_name()? == "mod.rs").then(|| module[1].as_str())
}

/// The names of the modules declared directly inside `module` (a path may start at one of them).
fn children(module: &Module, modules: &BTreeMap<Module, PathBuf>) -> Vec<String> {
    modules
        .keys()
        .filter(|m| m.len() == module.len() + 1 && m.starts_with(module))
        .map(|m| m[module.len()].clone())
        .collect()
}

fn is_ancestor(a: &Module, b: &Module) -> bool {
    a.len() < b.len() && b.starts_with(a)
}

/// Every module file of the library under `src` (the binaries under `src/bin` are front ends that
/// reach the library as `earstage::`, so their imports always point down).
fn modules(src: &Path) -> Result<BTreeMap<Module, PathBuf>> {
    let mut found = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in
            std::fs::read_dir(&dir).with_context(|| format!("listing {}", dir.display()))?
        {
            let path = entry?.path();
            let relative = path.strip_prefix(src).unwrap_or(&path).to_path_buf();
            if relative.starts_with("bin") {
                continue;
            }
            if path.is_dir() {
                stack.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let mut module: Module = relative
                    .with_extension("")
                    .iter()
                    .map(|s| s.to_string_lossy().into_owned())
                    .collect();
                if matches!(module.last().map(String::as_str), Some("mod" | "lib")) {
                    module.pop();
                }
                found.insert(module, path);
            }
        }
    }
    Ok(found)
}

/// The source with comments and the contents of string and char literals blanked (line breaks
/// kept, so line numbers stay).
pub(crate) fn strip_comments_and_strings(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if chars[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c == 'r' && (next == Some('"') || next == Some('#')) && !ident_before(&chars, i) {
            // A raw string: r"…" or r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while chars.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if chars.get(j) != Some(&'"') {
                out.push(c);
                i += 1;
                continue;
            }
            j += 1;
            loop {
                match chars.get(j) {
                    None => break,
                    Some('"') if (0..hashes).all(|h| chars.get(j + 1 + h) == Some(&'#')) => {
                        j += 1 + hashes;
                        break;
                    }
                    Some('\n') => out.push('\n'),
                    _ => {}
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j;
        } else if c == '"' {
            i += 1;
            while i < chars.len() && chars[i] != '"' {
                if chars[i] == '\\' {
                    i += 1;
                }
                if chars.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            out.push_str("\"\"");
            i += 1;
        } else if c == '\'' && is_char_literal(&chars, i) {
            let close = (i + 2..chars.len().min(i + 12)).find(|&j| chars[j] == '\'');
            out.push_str("' '");
            i = close.map_or(i + 1, |j| j + 1);
        } else {
            out.push(c);
            i += 1;
        }
    }
    out
}

fn ident_before(chars: &[char], i: usize) -> bool {
    i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_')
}

/// A `'` that opens a char literal (`'a'`, `'\n'`), not a lifetime (`'a`).
fn is_char_literal(chars: &[char], i: usize) -> bool {
    match chars.get(i + 1) {
        Some('\\') => true,
        Some(_) => chars.get(i + 2) == Some(&'\''),
        None => false,
    }
}

/// Every crate-relative path in the code, with its line: `use` trees expanded, and paths in
/// expressions and types. A path that starts at one of `children` (the module's own child
/// modules, reachable without `self::`) is taken as `self::…`.
fn paths(code: &str, children: &[String]) -> Vec<(usize, Vec<String>)> {
    let mut found = Vec::new();
    let line_of = |offset: usize| code[..offset].matches('\n').count() + 1;
    let inline = inline_modules(code);
    // Inside `mod tests { … }` a leading `super` names the file's module, not its parent.
    let mut push = |offset: usize, mut path: Vec<String>| {
        let depth = inline.iter().filter(|r| r.contains(&offset)).count();
        let supers = path.iter().take_while(|s| *s == "super").count();
        if depth > 0 && supers > 0 {
            path.drain(..supers.min(depth));
            if supers <= depth {
                path.insert(0, "self".to_owned());
            }
        }
        found.push((line_of(offset), path));
    };
    // `use` statements, braces expanded.
    let mut rest = code;
    let mut base = 0;
    while let Some(at) = find_keyword(rest, "use") {
        let start = at + 3;
        let Some(end) = rest[start..].find(';') else {
            break;
        };
        let tree = without_renames(&rest[start..start + end]);
        for mut path in expand(&tree) {
            if path.first().is_some_and(|first| children.contains(first)) {
                path.insert(0, "self".to_owned());
            }
            if matches!(
                path.first().map(String::as_str),
                Some("crate" | "super" | "self")
            ) {
                push(base + at, path);
            }
        }
        base += start + end;
        rest = &rest[start + end..];
    }
    // Inline paths: `crate::a::b`, `super::a`, `self::a`, `child::a` anywhere.
    let bytes = code.as_bytes();
    let relative: Vec<String> = children.iter().map(|c| format!("{c}::")).collect();
    let roots = ["crate::", "super::", "self::"]
        .into_iter()
        .chain(relative.iter().map(String::as_str));
    for root in roots {
        let mut from = 0;
        while let Some(pos) = code[from..].find(root) {
            let at = from + pos;
            from = at + root.len();
            if at > 0 && (bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_') {
                continue;
            }
            if at > 0 && bytes[at - 1] == b':' {
                continue; // inside a longer path, such as `super::super::x`, seen from its start
            }
            let mut end = at;
            while end < bytes.len()
                && (bytes[end].is_ascii_alphanumeric() || bytes[end] == b'_' || bytes[end] == b':')
            {
                end += 1;
            }
            let mut path: Vec<String> = code[at..end]
                .split("::")
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect();
            if !matches!(root, "crate::" | "super::" | "self::") {
                path.insert(0, "self".to_owned());
            }
            push(at, path);
        }
    }
    found
}

/// The byte ranges of the inline modules (`mod name { … }`) in the code.
fn inline_modules(code: &str) -> Vec<std::ops::Range<usize>> {
    let bytes = code.as_bytes();
    let mut ranges = Vec::new();
    let mut from = 0;
    while let Some(at) = find_keyword(&code[from..], "mod").map(|p| from + p) {
        from = at + 3;
        let rest = code[from..].trim_start();
        let name_len = rest
            .find(|c: char| !(c.is_alphanumeric() || c == '_'))
            .unwrap_or(rest.len());
        let after = rest[name_len..].trim_start();
        if name_len == 0 || !after.starts_with('{') {
            continue; // `mod name;`: a module in its own file
        }
        let open = code.len() - after.len();
        let end = matching_brace(bytes, open).map_or(code.len(), |close| close + 1);
        ranges.push(open..end);
    }
    ranges
}

/// The `}` that closes the `{` at `open` (comments and strings already blanked).
pub(crate) fn matching_brace(bytes: &[u8], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, &b) in bytes.iter().enumerate().skip(open) {
        match b {
            b'{' => depth += 1,
            b'}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

/// A `use` tree with its renames (`x as y`) left out and no white space.
fn without_renames(tree: &str) -> String {
    let words: Vec<&str> = tree.split_whitespace().collect();
    let mut kept = String::new();
    let mut i = 0;
    while i < words.len() {
        if words[i] == "as" {
            // Skip the new name, keeping any punctuation glued to its end.
            let name = words.get(i + 1).copied().unwrap_or("");
            let tail = name.trim_start_matches(|c: char| c.is_alphanumeric() || c == '_');
            kept.push_str(tail);
            i += 2;
        } else {
            kept.push_str(words[i]);
            i += 1;
        }
    }
    kept
}

/// The first `keyword` in `text` that stands alone as a word.
fn find_keyword(text: &str, keyword: &str) -> Option<usize> {
    let bytes = text.as_bytes();
    let mut from = 0;
    while let Some(pos) = text[from..].find(keyword) {
        let at = from + pos;
        let before = at == 0 || !(bytes[at - 1].is_ascii_alphanumeric() || bytes[at - 1] == b'_');
        let after = bytes
            .get(at + keyword.len())
            .is_some_and(|b| b.is_ascii_whitespace());
        if before && after {
            return Some(at);
        }
        from = at + keyword.len();
    }
    None
}

/// The paths of a `use` tree written without white space: `a::{b,c::{d,e}}` → a::b, a::c::d, a::c::e.
fn expand(tree: &str) -> Vec<Vec<String>> {
    let tree = tree.trim_start_matches("::");
    let Some(open) = tree.find('{') else {
        return vec![
            tree.split("::")
                .filter(|s| !s.is_empty() && *s != "*")
                .map(str::to_owned)
                .collect(),
        ];
    };
    let prefix: Vec<String> = tree[..open]
        .split("::")
        .filter(|s| !s.is_empty())
        .map(str::to_owned)
        .collect();
    let inner = &tree[open + 1..tree.rfind('}').unwrap_or(tree.len())];
    let mut parts = Vec::new();
    let (mut depth, mut start) = (0, 0);
    for (i, c) in inner.char_indices() {
        match c {
            '{' => depth += 1,
            '}' => depth -= 1,
            ',' if depth == 0 => {
                parts.push(&inner[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&inner[start..]);
    let mut out = Vec::new();
    for part in parts.into_iter().filter(|p| !p.is_empty()) {
        for mut tail in expand(part) {
            if tail.first().is_some_and(|s| s == "self") {
                tail.remove(0);
            }
            let mut path = prefix.clone();
            path.append(&mut tail);
            out.push(path);
        }
    }
    if out.is_empty() {
        out.push(prefix);
    }
    out
}

/// The module a path names, as the deepest module file along it.
fn resolve(
    module: &Module,
    path: &[String],
    modules: &BTreeMap<Module, PathBuf>,
) -> Option<Module> {
    let mut at: Module = match path.first()?.as_str() {
        "crate" => Vec::new(),
        "self" | "super" => module.clone(),
        _ => return None,
    };
    let mut segments = path.iter().peekable();
    if path[0] == "crate" || path[0] == "self" {
        segments.next();
    }
    while segments.peek().is_some_and(|s| *s == "super") {
        segments.next();
        at.pop()?;
    }
    let mut deepest = at.clone();
    for segment in segments {
        at.push(segment.clone());
        if modules.contains_key(&at) {
            deepest = at.clone();
        } else {
            break;
        }
    }
    modules.contains_key(&deepest).then_some(deepest)
}

/// The import circles between modules, each as one finding (strongly connected components of the
/// import graph with more than one module).
fn cycles(src: &Path, modules: &BTreeMap<Module, PathBuf>, imports: &[Import]) -> Vec<String> {
    let names: Vec<&Module> = modules.keys().collect();
    let index: BTreeMap<&Module, usize> = names.iter().enumerate().map(|(i, m)| (*m, i)).collect();
    let mut edges: Vec<BTreeSet<usize>> = vec![BTreeSet::new(); names.len()];
    let mut seen_at: BTreeMap<(usize, usize), usize> = BTreeMap::new();
    for import in imports {
        let (a, b) = (index[&import.from], index[&import.to]);
        edges[a].insert(b);
        seen_at.entry((a, b)).or_insert(import.line);
    }
    let components = strongly_connected(&edges);
    let mut findings = Vec::new();
    for component in components.into_iter().filter(|c| c.len() > 1) {
        let members: BTreeSet<usize> = component.iter().copied().collect();
        let mut lines = Vec::new();
        for &a in &component {
            for &b in edges[a].iter().filter(|b| members.contains(b)) {
                lines.push(format!(
                    "  {}:{} imports {}",
                    display(src, &modules[names[a]]),
                    seen_at[&(a, b)],
                    name(names[b])
                ));
            }
        }
        let circle: Vec<String> = component.iter().map(|&i| name(names[i])).collect();
        findings.push(format!(
            "an import circle between {}:\n{}",
            circle.join(", "),
            lines.join("\n")
        ));
    }
    findings
}

/// Tarjan's algorithm, iterative.
fn strongly_connected(edges: &[BTreeSet<usize>]) -> Vec<Vec<usize>> {
    let n = edges.len();
    let mut index = vec![usize::MAX; n];
    let mut low = vec![0; n];
    let mut on_stack = vec![false; n];
    let mut stack = Vec::new();
    let mut next = 0;
    let mut out = Vec::new();
    for root in 0..n {
        if index[root] != usize::MAX {
            continue;
        }
        let mut work: Vec<(usize, Vec<usize>)> =
            vec![(root, edges[root].iter().copied().collect())];
        index[root] = next;
        low[root] = next;
        next += 1;
        stack.push(root);
        on_stack[root] = true;
        while let Some((v, pending)) = work.last_mut() {
            let v = *v;
            if let Some(w) = pending.pop() {
                if index[w] == usize::MAX {
                    index[w] = next;
                    low[w] = next;
                    next += 1;
                    stack.push(w);
                    on_stack[w] = true;
                    work.push((w, edges[w].iter().copied().collect()));
                } else if on_stack[w] {
                    low[v] = low[v].min(index[w]);
                }
            } else {
                work.pop();
                if let Some((parent, _)) = work.last() {
                    low[*parent] = low[*parent].min(low[v]);
                }
                if low[v] == index[v] {
                    let mut component = Vec::new();
                    while let Some(w) = stack.pop() {
                        on_stack[w] = false;
                        component.push(w);
                        if w == v {
                            break;
                        }
                    }
                    component.sort_unstable();
                    out.push(component);
                }
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn module(path: &str) -> Module {
        path.split("::")
            .filter(|s| !s.is_empty())
            .map(str::to_owned)
            .collect()
    }

    #[test]
    fn use_trees_expand() {
        let got = expand("crate::a::{b,c::{d,e},self}");
        let want: Vec<Module> = vec![
            module("crate::a::b"),
            module("crate::a::c::d"),
            module("crate::a::c::e"),
            module("crate::a"),
        ];
        assert_eq!(got, want);
        assert_eq!(
            expand(&without_renames("super::x::{Y as Z, Class}")),
            vec![module("super::x::Y"), module("super::x::Class")]
        );
    }

    #[test]
    fn comments_and_strings_hide_paths() {
        let code = "// crate::dsp::x\nlet s = \"crate::dsp\"; /* crate::dsp */ let c = '\"';\nuse crate::model::a;";
        let found = paths(&strip_comments_and_strings(code), &[]);
        assert_eq!(
            found,
            vec![
                (3, module("crate::model::a")),
                (3, module("crate::model::a"))
            ]
        );
    }

    #[test]
    fn cycles_are_found() {
        let edges = vec![
            BTreeSet::from([1]),
            BTreeSet::from([2]),
            BTreeSet::from([0]),
            BTreeSet::new(),
        ];
        let components = strongly_connected(&edges);
        assert!(components.contains(&vec![0, 1, 2]));
        assert!(components.contains(&vec![3]));
    }

    /// A crate laid out on disk with one upward import and one circle: both are reported.
    #[test]
    fn a_bad_crate_fails() {
        let dir = std::env::temp_dir().join(format!("earstage-layers-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(dir.join("model")).unwrap();
        std::fs::create_dir_all(dir.join("dsp")).unwrap();
        std::fs::write(dir.join("lib.rs"), "pub mod model;\npub mod dsp;\n").unwrap();
        std::fs::write(dir.join("model/mod.rs"), "pub mod a;\npub mod b;\n").unwrap();
        std::fs::write(
            dir.join("model/a.rs"),
            "use crate::dsp::x::Thing;\nuse super::b::B;\n",
        )
        .unwrap();
        std::fs::write(dir.join("model/b.rs"), "use super::a::A;\n").unwrap();
        std::fs::write(dir.join("dsp/mod.rs"), "pub mod x;\n").unwrap();
        std::fs::write(dir.join("dsp/x.rs"), "use crate::model::a::A;\n").unwrap();
        let err = check(&dir).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        // The upward import, and one circle through model::a, model::b and dsp::x.
        assert!(err.starts_with("2 layer finding(s)"), "{err}");
    }

    /// Two rooms of one layer that import each other's modules, and a front end that imports the
    /// crate root that declares it (`use crate::Info` back, the root reaching it as `ui::…`):
    /// the cross import and the circle through the root are both reported.
    #[test]
    fn rooms_and_the_root_are_checked() {
        let dir = std::env::temp_dir().join(format!("earstage-rooms-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        for folder in ["dsp/meter", "dsp/spl", "ui"] {
            std::fs::create_dir_all(dir.join(folder)).unwrap();
        }
        let files = [
            (
                "lib.rs",
                "pub mod dsp;\nmod ui;\npub struct Info;\nfn f() { ui::show(); }\n",
            ),
            ("ui/mod.rs", "use crate::Info;\npub fn show() {}\n"),
            (
                "dsp/mod.rs",
                "pub mod engine;\npub mod meter;\npub mod spl;\n",
            ),
            (
                "dsp/engine.rs",
                "use super::meter::Meter;\nuse super::spl::level::Spl;\n",
            ),
            (
                "dsp/meter/mod.rs",
                "pub mod peak;\nuse crate::dsp::spl::level::Spl;\n",
            ),
            ("dsp/meter/peak.rs", "use crate::dsp::engine::Engine;\n"),
            ("dsp/spl/mod.rs", "pub mod level;\n"),
            ("dsp/spl/level.rs", "use super::super::meter::peak::Peak;\n"),
        ];
        for (name, text) in files {
            std::fs::write(dir.join(name), text).unwrap();
        }
        let err = check(&dir).unwrap_err().to_string();
        std::fs::remove_dir_all(&dir).unwrap();
        // meter → spl and spl → meter across rooms; the circle root ⇄ ui; and the circle that
        // the cross imports close between the two rooms and the engine.
        assert!(err.starts_with("4 layer finding(s)"), "{err}");
    }
}
