//! Logs go to a daily rolling file in the state directory, never to the
//! terminal (the TUI owns it; headless commands print only their results).

use std::path::Path;

use tracing_appender::non_blocking::WorkerGuard;
use tracing_subscriber::EnvFilter;

/// Starts file logging at `level` (overridable with `KEEPSAKE_LOG`). Keep the
/// guard alive for the whole run: dropping it flushes the log.
pub fn init(dir: &Path, level: &str) -> std::io::Result<WorkerGuard> {
    std::fs::create_dir_all(dir)?;
    let appender = tracing_appender::rolling::Builder::new()
        .rotation(tracing_appender::rolling::Rotation::DAILY)
        .filename_prefix("keepsake")
        .filename_suffix("log")
        .max_log_files(7)
        .build(dir)
        .map_err(std::io::Error::other)?;
    let (writer, guard) = tracing_appender::non_blocking(appender);
    let filter = EnvFilter::try_from_env("KEEPSAKE_LOG").unwrap_or_else(|_| {
        // Our own crate at the chosen level; the SDK one step quieter so a
        // debug log stays readable.
        EnvFilter::new(format!("warn,keepsake={level}"))
    });
    // A second init (tests calling in-process) is harmless: keep the first.
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer)
        .with_ansi(false)
        .try_init();
    Ok(guard)
}
