//! The `keepsake` binary: parse the command line, load the config, set up
//! logging, run the command. Kept thin; every job lives in the library.

use std::process::ExitCode;

use clap::Parser;
use keepsake::cli::{Cli, Command};
use keepsake::config::{self, BaseDirs, Overrides, Settings};

fn main() -> ExitCode {
    // Files we create (stores, logs, the secrets fallback) are ours alone.
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    // Before any thread exists (the log writer spawns one): a session
    // keyring of our own lets the kernel-keyring backend work over ssh and in CI.
    keepsake::secrets::join_session_keyring();
    let cli = Cli::parse();
    match run(cli) {
        Ok(code) => code,
        Err(message) => {
            eprintln!("keepsake: {message}");
            ExitCode::FAILURE
        }
    }
}

fn load_settings(cli: &Cli) -> Result<Settings, String> {
    let base = match &cli.data_dir {
        Some(dir) => BaseDirs::under(dir),
        None => BaseDirs::platform().ok_or("cannot find a home directory; pass --data-dir DIR")?,
    };
    let file = cli
        .config
        .clone()
        .unwrap_or_else(|| base.config_file.clone());
    let text = match std::fs::read_to_string(&file) {
        Ok(t) => Some(t),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound && cli.config.is_none() => None,
        Err(e) => return Err(format!("cannot read config {}: {e}", file.display())),
    };
    let overrides = Overrides {
        profile: cli.profile.clone(),
        data_dir: cli.data_dir.clone(),
    };
    config::resolve(&file, text.as_deref(), &overrides, &base).map_err(|e| e.to_string())
}

fn run(cli: Cli) -> Result<ExitCode, String> {
    let settings = load_settings(&cli)?;
    let _log = keepsake::logging::init(&settings.log_dir, &settings.log_level)
        .map_err(|e| format!("cannot open the log in {}: {e}", settings.log_dir.display()))?;
    tracing::info!(profile = %settings.profile, "keepsake starting");
    match cli.command {
        Some(Command::Config { json }) => {
            print!("{}", keepsake::config::describe(&settings, json));
            Ok(ExitCode::SUCCESS)
        }
        None => {
            // The TUI arrives with its own issue; until then, say what exists.
            let mut cmd = <Cli as clap::CommandFactory>::command();
            cmd.print_long_help()
                .map_err(|e| format!("cannot print help: {e}"))?;
            Ok(ExitCode::SUCCESS)
        }
    }
}
