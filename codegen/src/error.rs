//! The one error type: a single line that names the file (and the line and
//! column, where there is one), e.g. `shop.proto:12:3: expected ';' ...`.
use std::fmt;

/// Why nothing was generated. Its `Display` (and `Debug`) is one line.
pub struct Error {
    message: String,
}

impl Error {
    pub(crate) fn new(message: impl Into<String>) -> Self {
        let message: String = message.into();
        // One line, whatever the underlying error printed.
        let message = message.split_whitespace().collect::<Vec<_>>().join(" ");
        Self { message }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

// `Debug` as `Display`, so that a build script's `?` in `main` prints the line.
impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Error {}
