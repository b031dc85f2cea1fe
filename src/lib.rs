//! keepsake: a terminal Matrix client that never loses encrypted history.
//!
//! The library holds everything the binary and the tests share. Layers point
//! down only: `crypto` depends on nothing of ours and does no I/O.

// matrix-sdk-ui futures are deep; the default limit overflows computing
// the layout of history().
#![recursion_limit = "256"]

pub mod app;
pub mod backup;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod error;
#[doc(hidden)]
pub mod fuzzing;
pub mod headless;
pub mod logging;
pub mod matrix;
pub mod prompt;
pub mod secrets;
pub mod terminal_text;
pub mod tui;
pub mod ui;
