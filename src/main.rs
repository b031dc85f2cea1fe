//! The `keepsake` binary: parse the command line, load the config, set up
//! logging, run the command. Kept thin; every job lives in the library.

use std::process::ExitCode;

use clap::Parser;
use keepsake::cli::{Cli, Command};
use keepsake::config::{self, BaseDirs, Overrides, Settings};
use keepsake::error::{Error, ErrorKind};
use keepsake::matrix::account::{self, WhoAmI};
use keepsake::secrets::SecretStore;

fn runtime() -> Result<tokio::runtime::Runtime, Error> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}").into())
}

/// Runs one job on a fresh runtime, then shuts down in order: every worker
/// stops (sync loop, uploader, timelines, client) before the runtime goes,
/// so no store write is cut off half way.
fn block_on<T>(job: impl std::future::Future<Output = T>) -> Result<T, Error> {
    let rt = runtime()?;
    let out = rt.block_on(async {
        let out = job.await;
        keepsake::matrix::worker::stopped(std::time::Duration::from_secs(20)).await;
        out
    });
    rt.shutdown_timeout(std::time::Duration::from_secs(5));
    Ok(out)
}

fn open_secrets(settings: &Settings) -> Result<SecretStore, Error> {
    let (store, warning) =
        SecretStore::open(&settings.profile_dir, settings.secrets).map_err(|e| e.to_string())?;
    if let Some(w) = warning {
        keepsake::errln!("keepsake: {w}");
    }
    Ok(store)
}

fn print_who(who: &WhoAmI, json: bool, lead: &str) {
    if json {
        keepsake::outln!("{}", serde_json::to_string(who).unwrap_or_default());
    } else {
        let device = who.device_id.as_deref().unwrap_or("?");
        let lead = if lead.is_empty() {
            String::new()
        } else {
            format!("{lead} ")
        };
        keepsake::outln!(
            "{lead}{} (device {device}) on {}",
            who.user_id,
            who.homeserver
        );
    }
    if let Some(kept) = &who.store_moved_to {
        keepsake::errln!(
            "keepsake: the profile's earlier store could not be opened (its passphrase was gone from the secret store); it was kept, not deleted, in {}",
            kept.display()
        );
    }
}

fn main() -> ExitCode {
    // Files we create (stores, logs, the secrets fallback) are ours alone.
    // SAFETY: umask only changes this process's file-creation mask.
    unsafe {
        libc::umask(0o077);
    }
    // Before any thread exists (the log writer spawns one): a session
    // keyring of our own lets the kernel-keyring backend work over ssh and in CI.
    keepsake::secrets::join_session_keyring();
    let started = std::time::Instant::now();
    let cli = Cli::parse();
    match run(cli, started) {
        Ok(code) => code,
        Err(e) => {
            let said = e.phrase(keepsake::headless::step_name);
            keepsake::errln!("keepsake: {said}");
            // Scripts asking for JSON get the error as JSON too, with a kind
            // that does not change when the words do.
            if std::env::args().any(|a| a == "--json") {
                let advice = e.advice.map(|a| a.phrase(keepsake::headless::step_name));
                keepsake::outln!(
                    "{}",
                    serde_json::json!({ "error": e.kind.name(), "message": e.message, "advice": advice })
                );
            }
            ExitCode::from(e.kind.exit_code())
        }
    }
}

fn load_settings(cli: &Cli) -> Result<Settings, Error> {
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
        Err(e) => {
            return Err(Error::new(
                ErrorKind::Invalid,
                format!("cannot read config {}: {e}", file.display()),
            ));
        }
    };
    let overrides = Overrides {
        profile: cli.profile.clone(),
        data_dir: cli.data_dir.clone(),
    };
    config::resolve(&file, text.as_deref(), &overrides, &base)
        .map_err(|e| Error::new(ErrorKind::Invalid, e.to_string()))
}

fn run(cli: Cli, started: std::time::Instant) -> Result<ExitCode, Error> {
    let settings = load_settings(&cli)?;
    let _log = keepsake::logging::init(&settings.log_dir, &settings.log_level)
        .map_err(|e| format!("cannot open the log in {}: {e}", settings.log_dir.display()))?;
    tracing::info!(profile = %settings.profile, "keepsake starting");
    match cli.command {
        Some(Command::Config { json }) => {
            print!("{}", keepsake::config::describe(&settings, json));
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Login {
            homeserver,
            user,
            password_stdin,
            device_name,
            json,
        }) => {
            let password = if password_stdin {
                keepsake::headless::stdin_secret("password")?
            } else {
                keepsake::prompt::secret("Password: ", "password", "--password-stdin")?
            };
            let secrets = open_secrets(&settings)?;
            let who = block_on(account::login(
                &settings,
                &secrets,
                homeserver.as_deref(),
                user.as_deref(),
                &password,
                device_name.as_deref(),
            ))??;
            print_who(&who, json, "logged in as");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Logout) => {
            let secrets = open_secrets(&settings)?;
            block_on(account::logout(&settings, &secrets))??;
            keepsake::outln!("logged out of profile {}", settings.profile);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Whoami { json }) => {
            let secrets = open_secrets(&settings)?;
            let who = block_on(async {
                let acc = account::restore(&settings, &secrets).await?;
                account::whoami(&acc).await
            })??;
            print_who(&who, json, "");
            Ok(ExitCode::SUCCESS)
        }
        Some(
            cmd @ (Command::Rooms { .. }
            | Command::CreateRoom { .. }
            | Command::Invite { .. }
            | Command::Join { .. }
            | Command::Leave { .. }
            | Command::Send { .. }
            | Command::Dm { .. }
            | Command::Members { .. }
            | Command::History { .. }
            | Command::Download { .. }
            | Command::Search { .. }
            | Command::Sync { .. }),
        ) => {
            let secrets = open_secrets(&settings)?;
            block_on(keepsake::headless::rooms::run(&settings, &secrets, cmd))?
        }
        Some(Command::Recovery { action }) => {
            let secrets = open_secrets(&settings)?;
            block_on(keepsake::headless::recovery::run(
                &settings, &secrets, action,
            ))?
        }
        Some(Command::Backup { action }) => {
            let secrets = open_secrets(&settings)?;
            block_on(keepsake::headless::backup::run(&settings, &secrets, action))?
        }
        Some(Command::Keys { action }) => {
            let secrets = open_secrets(&settings)?;
            block_on(keepsake::headless::keys::run(&settings, &secrets, action))?
        }
        Some(Command::Devices { user, json }) => {
            let secrets = open_secrets(&settings)?;
            block_on(keepsake::headless::recovery::devices(
                &settings, &secrets, user, json,
            ))?
        }
        Some(Command::Verify {
            user,
            device,
            accept,
            yes,
            timeout,
            json,
        }) => {
            let secrets = open_secrets(&settings)?;
            let args = keepsake::headless::verify::VerifyArgs {
                user,
                device,
                accept,
                yes,
                timeout,
                json,
            };
            block_on(keepsake::headless::verify::run(&settings, &secrets, args))?
        }
        None => {
            // Said before anything else (such as where secrets are kept).
            keepsake::tui::need_terminal()?;
            let secrets = open_secrets(&settings)?;
            block_on(keepsake::tui::run(settings, secrets, started))??;
            Ok(ExitCode::SUCCESS)
        }
    }
}
