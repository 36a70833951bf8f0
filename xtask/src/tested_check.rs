//! Keeps `docs/tested.md` ("What is tested where") true: every test a row
//! names must exist. A reference is a code span `` `path::test name` ``
//! in a table row's last column: the file must exist (from the workspace
//! root) and the name must occur in it. A row that names no test must say
//! **not tested** (and why), rather than be left blank. Cheap: reads files,
//! builds nothing, so `cargo xtask test` runs it first.
use std::{fs, path::Path};

use anyhow::{Context, bail};

use crate::cmd::root;

/// The table, from the workspace root.
pub const TABLE: &str = "docs/tested.md";

/// What a row that names no test says instead.
const NOT_TESTED: &str = "**not tested**";

/// Fewer rows than this: the table has been emptied or cut.
const MIN_ROWS: usize = 30;

pub fn run() -> anyhow::Result<()> {
    let root = root();
    let text = fs::read_to_string(root.join(TABLE)).with_context(|| format!("reading {TABLE}"))?;
    let rows = check(&text, |path| {
        fs::read_to_string(root.join(Path::new(path))).ok()
    })?;
    eprintln!("xtask: {TABLE}: {rows} rows, every test they name exists");
    Ok(())
}

/// One test a row names.
#[derive(Debug, PartialEq)]
struct Reference<'a> {
    path: &'a str,
    name: &'a str,
}

/// Checks every row of every table in `text`, reading the files a row names
/// with `read` (`None`: no such file); returns the number of rows.
fn check(text: &str, read: impl Fn(&str) -> Option<String>) -> anyhow::Result<usize> {
    let mut errors = Vec::new();
    let mut rows = 0;
    for (i, line) in text.lines().enumerate() {
        let line_no = i + 1;
        let Some(cell) = last_cell(line) else {
            continue;
        };
        rows += 1;
        let references = match references(cell) {
            Ok(references) => references,
            Err(e) => {
                errors.push(format!("{TABLE}:{line_no}: {e}"));
                continue;
            }
        };
        if references.is_empty() && !cell.contains(NOT_TESTED) {
            errors.push(format!(
                "{TABLE}:{line_no}: names no test and does not say {NOT_TESTED}"
            ));
        }
        for Reference { path, name } in references {
            match read(path) {
                None => errors.push(format!("{TABLE}:{line_no}: no file {path}")),
                Some(source) if !source.contains(name) => {
                    errors.push(format!("{TABLE}:{line_no}: {path} has no test {name:?}"))
                }
                Some(_) => {}
            }
        }
    }
    if rows < MIN_ROWS {
        errors.push(format!("{TABLE}: {rows} rows, fewer than {MIN_ROWS}: cut?"));
    }
    if !errors.is_empty() {
        bail!("{TABLE} is out of date:\n{}", errors.join("\n"));
    }
    Ok(rows)
}

/// The last cell of a table row that is neither the header (its last
/// column is "tested by") nor the separator; `None` for other lines.
fn last_cell(line: &str) -> Option<&str> {
    let line = line.trim();
    let inner = line.strip_prefix('|')?.strip_suffix('|')?;
    let cell = inner.rsplit('|').next()?.trim();
    let separator = cell.chars().all(|c| matches!(c, '-' | ':'));
    (!separator && cell != "tested by").then_some(cell)
}

/// Every code span in `cell`, each of which must be `path::name`.
fn references(cell: &str) -> Result<Vec<Reference<'_>>, String> {
    let mut spans = cell.split('`');
    let mut found = Vec::new();
    spans.next(); // before the first backquote
    while let Some(span) = spans.next() {
        if spans.next().is_none() {
            return Err(format!("an unclosed code span: `{span}"));
        }
        let (path, name) = span
            .split_once("::")
            .ok_or_else(|| format!("`{span}` is not `path::test name`"))?;
        if path.is_empty() || path.contains(char::is_whitespace) || name.trim().is_empty() {
            return Err(format!("`{span}` is not `path::test name`"));
        }
        found.push(Reference { path, name });
    }
    Ok(found)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(rows: &[&str]) -> String {
        let mut text = String::from("# T\n\n| promise | tested by |\n|---|---|\n");
        for row in rows {
            text.push_str(row);
            text.push('\n');
        }
        // Padding rows, so that the minimum is met.
        for _ in 0..MIN_ROWS {
            text.push_str("| x | `a.rs::t1` |\n");
        }
        text
    }

    fn files(path: &str) -> Option<String> {
        match path {
            "a.rs" => Some("fn t1() {} fn t2() {}".into()),
            "b.mjs" => Some(r#"test("a call, with spaces", ...)"#.into()),
            _ => None,
        }
    }

    #[test]
    fn rows_naming_existing_tests_pass() {
        let text = table(&[
            "| one | `a.rs::t2`; `b.mjs::a call, with spaces` |",
            "| two | **not tested**: needs a phone |",
        ]);
        assert_eq!(check(&text, files).unwrap(), MIN_ROWS + 2);
    }

    #[test]
    fn a_missing_file_test_or_reference_fails() {
        for (row, says) in [
            ("| r | `c.rs::t1` |", "no file c.rs"),
            ("| r | `a.rs::t3` |", "a.rs has no test \"t3\""),
            ("| r | nothing here |", "names no test"),
            ("| r | `a.rs` |", "is not `path::test name`"),
            ("| r | `a.rs::t1 |", "unclosed"),
        ] {
            let e = check(&table(&[row]), files).unwrap_err().to_string();
            assert!(e.contains(says), "{row}: {e}");
            assert!(e.contains(&format!("{TABLE}:5:")), "{row}: {e}");
        }
    }

    /// The table itself, so that `cargo test` catches a renamed test too.
    #[test]
    fn the_table_names_only_tests_that_exist() {
        run().unwrap();
    }

    #[test]
    fn an_emptied_table_fails() {
        let e = check("# T\n", files).unwrap_err().to_string();
        assert!(e.contains("fewer than"), "{e}");
    }
}
