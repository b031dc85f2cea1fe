//! keepsake: a terminal Matrix client that never loses encrypted history.
//!
//! The library holds everything the binary and the tests share. Layers point
//! down only: `crypto` depends on nothing of ours and does no I/O.
//!
//! Where things are:
//! - a megolm session encrypted for the backup: [`backup::encode::entry`];
//!   one entry checked and opened again: [`backup::entry::open_entry`];
//! - a message's trust mark decided: [`matrix::history::mark`] (one pure
//!   function with a table test), its inputs gathered in
//!   `matrix::history::convert`;
//! - what the front ends may ask of the worker and what they get back:
//!   [`matrix::protocol`]; what the worker does for each command:
//!   `matrix::handlers`, one module per domain;
//! - error kinds and exit codes: [`error`]; each domain's own error next to
//!   it (`backup::error`, `matrix::rooms::RoomError`, ...);
//! - the TUI: `app` (state and `update`, one module per screen), `ui`
//!   (drawing), `tui` (the runtime).

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
