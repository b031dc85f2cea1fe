//! The `keepsake` binary: parse the command line, load the config, set up
//! logging, run the command. Kept thin; every job lives in the library.

use std::process::ExitCode;

use clap::Parser;
use keepsake::cli::{Cli, Command};
use keepsake::config::{self, BaseDirs, Overrides, Settings};
use keepsake::matrix::account::{self, WhoAmI};
use keepsake::matrix::worker::{Command as W, Reply, SyncState, Update, Worker};
use keepsake::secrets::SecretStore;
use zeroize::Zeroizing;

fn runtime() -> Result<tokio::runtime::Runtime, String> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| format!("cannot start the async runtime: {e}"))
}

fn open_secrets(settings: &Settings) -> Result<SecretStore, String> {
    let (store, warning) =
        SecretStore::open(&settings.profile_dir, settings.secrets).map_err(|e| e.to_string())?;
    if let Some(w) = warning {
        eprintln!("keepsake: {w}");
    }
    Ok(store)
}

fn read_password_line() -> Result<Zeroizing<String>, String> {
    let mut line = Zeroizing::new(String::new());
    std::io::stdin()
        .read_line(&mut line)
        .map_err(|e| format!("cannot read the password from standard input: {e}"))?;
    let trimmed = Zeroizing::new(line.trim_end_matches(['\n', '\r']).to_owned());
    if trimmed.is_empty() {
        return Err("no password on standard input".into());
    }
    Ok(trimmed)
}

/// Room commands: restore the session, start the worker, sync once so the
/// store is current, then send the one command and print its reply. One line
/// on stdout (or one JSON value) on success.
async fn room_command(
    settings: &Settings,
    secrets: &SecretStore,
    cmd: Command,
) -> Result<ExitCode, String> {
    let acc = account::restore(settings, secrets)
        .await
        .map_err(|e| e.to_string())?;
    let (worker, mut updates) = Worker::spawn(acc);
    let mut call = async |c: W| worker.call(&mut updates, c, |_| {}).await;
    call(W::SyncOnce).await?;
    let out = |json: bool, v: serde_json::Value, text: String| {
        if json {
            println!("{v}");
        } else {
            println!("{text}");
        }
    };
    match cmd {
        Command::Rooms { json } => {
            let Reply::Rooms(list) = call(W::Rooms).await? else {
                return Err(unexpected());
            };
            if json {
                print_json(&list)?;
            } else {
                for r in list {
                    let flags = format!(
                        "{}{}{}",
                        if r.encrypted { "E" } else { "-" },
                        if r.is_dm { "D" } else { "-" },
                        if r.membership == "invited" { "I" } else { "-" },
                    );
                    println!("{flags} {:>4} {} {}", r.unread, r.room_id, r.name);
                }
            }
        }
        Command::CreateRoom {
            name,
            invites,
            alias,
            unencrypted,
            json,
        } => {
            let Reply::RoomId(id) = call(W::CreateRoom {
                name,
                invites,
                alias,
                encrypted: !unencrypted,
            })
            .await?
            else {
                return Err(unexpected());
            };
            out(json, serde_json::json!({ "room_id": id }), id);
        }
        Command::Invite { room, user, json } => {
            call(W::Invite {
                room: room.clone(),
                user: user.clone(),
            })
            .await?;
            out(
                json,
                serde_json::json!({ "invited": user, "room": room }),
                format!("invited {user} to {room}"),
            );
        }
        Command::Join { room, json } => {
            let Reply::RoomId(id) = call(W::Join { room }).await? else {
                return Err(unexpected());
            };
            out(
                json,
                serde_json::json!({ "room_id": id }),
                format!("joined {id}"),
            );
        }
        Command::Leave { room, json } => {
            call(W::Leave { room: room.clone() }).await?;
            out(
                json,
                serde_json::json!({ "left": room }),
                format!("left {room}"),
            );
        }
        Command::Send { room, text, json } => {
            let Reply::EventId(id) = call(W::SendText { room, text }).await? else {
                return Err(unexpected());
            };
            out(json, serde_json::json!({ "event_id": id }), id);
        }
        Command::History { room, limit, json } => {
            let Reply::History(items) = call(W::History { room, limit }).await? else {
                return Err(unexpected());
            };
            if json {
                print_json(&items)?;
            } else {
                for i in items {
                    let lock = match (i.encrypted, i.decrypted) {
                        (false, _) => " ",
                        (true, true) => "🔒",
                        (true, false) => "⚠",
                    };
                    let body = match (&i.body, &i.utd_reason) {
                        (Some(b), _) => b.clone(),
                        (None, Some(r)) => format!("(unable to decrypt: {r})"),
                        (None, None) => String::new(),
                    };
                    println!("{lock} {} {}: {body}", i.ts, i.sender);
                }
            }
        }
        Command::Sync { once } => {
            if once {
                println!("synced");
            } else {
                eprintln!("keepsake: syncing; press Ctrl-C to stop");
                worker.send(W::StartSync);
                let follow = async {
                    while let Some(u) = updates.recv().await {
                        if let Update::Sync(SyncState::Failing(e)) = u {
                            eprintln!("keepsake: sync failed, retrying: {e}");
                        }
                    }
                };
                tokio::select! {
                    _ = follow => return Err("the worker stopped".into()),
                    _ = tokio::signal::ctrl_c() => {}
                }
            }
        }
        _ => return Err("not a room command".into()),
    }
    Ok(ExitCode::SUCCESS)
}

fn unexpected() -> String {
    "internal error: the worker answered with an unexpected reply".into()
}

/// One JSON value on one line of stdout.
fn print_json(v: &impl serde::Serialize) -> Result<(), String> {
    println!("{}", serde_json::to_string(v).map_err(|e| e.to_string())?);
    Ok(())
}

fn print_who(who: &WhoAmI, json: bool, lead: &str) {
    if json {
        println!("{}", serde_json::to_string(who).unwrap_or_default());
    } else {
        let device = who.device_id.as_deref().unwrap_or("?");
        let lead = if lead.is_empty() {
            String::new()
        } else {
            format!("{lead} ")
        };
        println!(
            "{lead}{} (device {device}) on {}",
            who.user_id, who.homeserver
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
        Some(Command::Login {
            homeserver,
            user,
            password_stdin,
            device_name,
            json,
        }) => {
            let password = if password_stdin {
                read_password_line()?
            } else {
                keepsake::prompt::secret("Password: ")?
            };
            let secrets = open_secrets(&settings)?;
            let who = runtime()?
                .block_on(account::login(
                    &settings,
                    &secrets,
                    homeserver.as_deref(),
                    user.as_deref(),
                    &password,
                    device_name.as_deref(),
                ))
                .map_err(|e| e.to_string())?;
            print_who(&who, json, "logged in as");
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Logout) => {
            let secrets = open_secrets(&settings)?;
            runtime()?
                .block_on(account::logout(&settings, &secrets))
                .map_err(|e| e.to_string())?;
            println!("logged out of profile {}", settings.profile);
            Ok(ExitCode::SUCCESS)
        }
        Some(Command::Whoami { json }) => {
            let secrets = open_secrets(&settings)?;
            let who = runtime()?
                .block_on(async {
                    let acc = account::restore(&settings, &secrets).await?;
                    account::whoami(&acc).await
                })
                .map_err(|e| e.to_string())?;
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
            | Command::History { .. }
            | Command::Sync { .. }),
        ) => {
            let secrets = open_secrets(&settings)?;
            runtime()?.block_on(room_command(&settings, &secrets, cmd))
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
