//! The command line: global flags shared by every command, and the commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// keepsake: a terminal Matrix client that never loses encrypted history.
///
/// It backs up every megolm session with MSC3270 symmetric key backup
/// (`m.megolm_backup.v1.aes-hmac-sha2`) as soon as it exists, restores all of
/// it on a new device, and marks every message with whether the key that
/// decrypted it is trusted.
#[derive(Debug, Parser)]
#[command(name = "keepsake", version, about, long_about)]
pub struct Cli {
    /// Config file (default: the platform config dir, or DIR/config.toml with --data-dir).
    #[arg(long, global = true, value_name = "PATH")]
    pub config: Option<PathBuf>,
    /// Profile: each profile is its own account, store and secrets.
    #[arg(long, global = true, value_name = "NAME", env = "KEEPSAKE_PROFILE")]
    pub profile: Option<String>,
    /// Keep everything of this run (config, data, logs) under DIR.
    #[arg(long, global = true, value_name = "DIR", env = "KEEPSAKE_DATA_DIR")]
    pub data_dir: Option<PathBuf>,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Check the configuration and show the settings this run would use.
    Config {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
}
