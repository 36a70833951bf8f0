//! Proto comments (from `source_code_info`, before it is stripped) as JSDoc.
use std::collections::HashMap;

use prost_types::FileDescriptorProto;

/// One file's comments by their `SourceCodeInfo` path.
pub(crate) struct Comments(HashMap<Vec<i32>, String>);

impl Comments {
    /// The leading comment of each element, else its trailing one
    /// (`int32 n = 1; // ...`).
    pub fn of(file: &FileDescriptorProto) -> Self {
        let mut map = HashMap::new();
        for location in file.source_code_info.iter().flat_map(|s| &s.location) {
            let text = location
                .leading_comments
                .as_deref()
                .and_then(clean)
                .or_else(|| location.trailing_comments.as_deref().and_then(clean));
            if let Some(text) = text {
                map.entry(location.path.clone()).or_insert(text);
            }
        }
        Self(map)
    }

    pub fn get(&self, path: &[i32]) -> Option<String> {
        self.0.get(path).cloned()
    }
}

/// Lines without the one space after `//`, trailing blanks and blank
/// first and last lines; `None` when nothing is left.
fn clean(text: &str) -> Option<String> {
    let lines: Vec<&str> = text
        .lines()
        .map(|l| l.strip_prefix(' ').unwrap_or(l).trim_end())
        .collect();
    let start = lines.iter().position(|l| !l.is_empty())?;
    let end = lines.iter().rposition(|l| !l.is_empty())?;
    Some(lines[start..=end].join("\n"))
}

/// A JSDoc block at `indent` of `text` and then `extra` lines (e.g. an
/// enum's values); `@deprecated` when asked. Empty when there is nothing.
pub(crate) fn jsdoc(
    indent: &str,
    text: Option<&str>,
    extra: &[String],
    deprecated: bool,
) -> String {
    let mut lines: Vec<String> = text
        .map(|t| t.lines().map(str::to_owned).collect())
        .unwrap_or_default();
    if !extra.is_empty() {
        if !lines.is_empty() {
            lines.push(String::new());
        }
        lines.extend(extra.iter().cloned());
    }
    if deprecated {
        lines.push("@deprecated".to_owned());
    }
    // A comment must not end the block early.
    let lines: Vec<String> = lines.iter().map(|l| l.replace("*/", "*\\/")).collect();
    match lines.as_slice() {
        [] => String::new(),
        [one] => format!("{indent}/** {one} */\n"),
        many => {
            let mut out = format!("{indent}/**\n");
            for line in many {
                if line.is_empty() {
                    out.push_str(&format!("{indent} *\n"));
                } else {
                    out.push_str(&format!("{indent} * {line}\n"));
                }
            }
            out.push_str(&format!("{indent} */\n"));
            out
        }
    }
}
