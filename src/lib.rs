//! Placeholder: the client crate is being written (issue 3).
