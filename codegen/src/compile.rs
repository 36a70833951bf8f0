//! The protos → a `FileDescriptorSet`, with protox (no system `protoc`).
use std::path::PathBuf;

use prost_types::FileDescriptorSet;

use crate::Error;

/// The compiled protos.
pub(crate) struct Compiled {
    /// Every file (imports first), with source info for the comments.
    pub files: FileDescriptorSet,
    /// The names (as imports spell them) of the files asked for.
    pub requested: Vec<String>,
}

pub(crate) fn compile(protos: &[PathBuf], includes: &[PathBuf]) -> Result<Compiled, Error> {
    if protos.is_empty() {
        return Err(Error::new("no .proto file given"));
    }
    for proto in protos {
        if !proto.is_file() && !includes.iter().any(|dir| dir.join(proto).is_file()) {
            return Err(Error::new(format!(
                "{}: file not found (include paths: {})",
                proto.display(),
                list(includes)
            )));
        }
    }
    let mut compiler = protox::Compiler::new(includes).map_err(|e| protox_error(&e, includes))?;
    compiler.include_imports(true).include_source_info(true);
    for proto in protos {
        compiler
            .open_file(proto)
            .map_err(|e| protox_error(&e, includes))?;
    }
    let requested = compiler
        .files()
        .filter(|f| !f.is_import())
        .map(|f| f.name().to_owned())
        .collect();
    Ok(Compiled {
        files: compiler.file_descriptor_set(),
        requested,
    })
}

/// protox's `Debug` is the one-line `file:line:column: message` form.
fn protox_error(error: &protox::Error, includes: &[PathBuf]) -> Error {
    if error.is_file_not_found() && error.file().is_none() {
        // A proto that exists but lies outside every include directory.
        return Error::new(format!("{error} (include paths: {})", list(includes)));
    }
    let text = format!("{error:?}");
    let moved = match error.file() {
        Some(file) if error.is_parse() => at_previous_token(file, &text, includes),
        _ => None,
    };
    Error::new(moved.unwrap_or(text))
}

/// A token missing at the end of a line (`string a = 1` without its `;`) is
/// reported where it is missing, after the line's last token, as rustc does,
/// rather than at the next line's first token where the parser noticed.
fn at_previous_token(file: &str, text: &str, includes: &[PathBuf]) -> Option<String> {
    let rest = text.strip_prefix(file)?.strip_prefix(':')?;
    let (line, rest) = rest.split_once(':')?;
    let (column, message) = rest.split_once(": ")?;
    let (line, column): (usize, usize) = (line.parse().ok()?, column.parse().ok()?);
    if !message.starts_with("expected ") || line < 2 {
        return None;
    }
    let source = includes
        .iter()
        .find_map(|dir| std::fs::read_to_string(dir.join(file)).ok())?;
    let lines: Vec<&str> = source.lines().collect();
    // Only when nothing but blanks precedes the token on its line.
    let found_line = lines.get(line - 1)?;
    if !found_line.chars().take(column - 1).all(char::is_whitespace) {
        return None;
    }
    let (index, code) = lines[..line - 1]
        .iter()
        .enumerate()
        .rev()
        .map(|(i, l)| (i, without_comment(l).trim_end()))
        .find(|(_, code)| !code.is_empty())?;
    if code.ends_with("*/") {
        return None;
    }
    Some(format!(
        "{file}:{}:{}: {message}",
        index + 1,
        code.chars().count() + 1
    ))
}

/// A line without its `//` comment (one outside a string literal).
fn without_comment(line: &str) -> &str {
    let mut quote = None;
    let mut escaped = false;
    for (i, c) in line.char_indices() {
        match quote {
            Some(q) if !escaped && c == q => quote = None,
            Some(_) => {}
            None if c == '"' || c == '\'' => quote = Some(c),
            None if line[i..].starts_with("//") => return &line[..i],
            None => {}
        }
        escaped = !escaped && c == '\\';
    }
    line
}

fn list(dirs: &[PathBuf]) -> String {
    dirs.iter()
        .map(|d| d.display().to_string())
        .collect::<Vec<_>>()
        .join(", ")
}
