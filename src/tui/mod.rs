//! The TUI's runtime: sets the terminal up (and back, also on panic), merges
//! terminal input, worker updates and ticks into one inbox, runs
//! [`app::update`] on everything queued, and draws only when something
//! changed. Nothing here blocks: commands go to the worker unawaited.

mod clipboard;
mod desktop;
mod drafts;
mod frame_log;
mod input;

use std::io::Write;
use std::sync::Arc;
use std::time::{Duration, Instant};

use base64::Engine;
use crossterm::event::{
    DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture,
};
use crossterm::execute;
use crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use tokio::sync::mpsc;

use crate::app::{self, AppState, Effect, Msg};
use crate::config::Settings;
use crate::error::{Error, ErrorKind};
use crate::matrix::account::{self, Account, AccountError};
use crate::matrix::protocol::Secret;
use crate::matrix::worker::Worker;
use crate::secrets::SecretStore;
use crate::ui::{self, Theme};
use input::{InputThread, frame_wait};

/// How often time moves (spinners); an idle tick draws nothing.
const TICK: Duration = Duration::from_millis(120);
/// How long quitting waits for the last keys to be backed up.
const QUIT_FLUSH: Duration = Duration::from_secs(5);
/// At most one frame per this (about 60 fps).
const FRAME: Duration = Duration::from_millis(16);

/// What reaches the loop: a message for `update`, or the account once it
/// is open (the worker is the runtime's, not the state's).
enum Event2 {
    App(Msg),
    /// Terminal input, with when it reached the program.
    Input(Msg, Instant),
    Account(Result<Account, AccountError>, Option<String>),
}

/// Puts the terminal back as it was. Safe to call twice.
fn restore_terminal() {
    let _ = disable_raw_mode();
    let _ = execute!(
        std::io::stdout(),
        DisableBracketedPaste,
        DisableMouseCapture,
        LeaveAlternateScreen,
        crossterm::cursor::Show
    );
}

/// Restores the terminal before the panic message is printed, so it is
/// readable and the shell is usable.
fn install_panic_hook() {
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        restore_terminal();
        tracing::error!(panic = %info, "the TUI panicked");
        previous(info);
    }));
}

/// The local time's offset from UTC, in seconds.
fn utc_offset() -> i32 {
    // SAFETY: localtime_r writes only into the tm we pass; time(NULL) has
    // no preconditions.
    unsafe {
        let now = libc::time(std::ptr::null_mut());
        let mut tm: libc::tm = std::mem::zeroed();
        if libc::localtime_r(&now, &mut tm).is_null() {
            return 0;
        }
        i32::try_from(tm.tm_gmtoff).unwrap_or(0)
    }
}

/// Writes an OSC 52 "set clipboard" sequence; the secret is only ever in
/// the terminal's hands.
fn copy_to_clipboard(secret: &Secret) {
    let encoded =
        zeroize::Zeroizing::new(base64::engine::general_purpose::STANDARD.encode(secret.expose()));
    let seq = zeroize::Zeroizing::new(format!("\x1b]52;c;{}\x07", encoded.as_str()));
    let mut out = std::io::stdout();
    let _ = out.write_all(seq.as_bytes());
    let _ = out.flush();
}

/// Starts `opener WHAT` detached from the terminal (its output would tear
/// the screen); it is not waited for. `what` is a saved file's path or a
/// link from a message, passed as one argument, never through a shell.
fn open_external(opener: &str, what: &str) -> Result<(), String> {
    let mut parts = opener.split_whitespace();
    let Some(program) = parts.next() else {
        return Err("no opener set ([files] opener)".into());
    };
    if what.starts_with('-') {
        return Err(format!(
            "refusing to pass {what:?} to {program} (it reads as an option)"
        ));
    }
    let mut child = std::process::Command::new(program)
        .args(parts)
        .arg(what)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| format!("{program}: {e}"))?;
    // Reaped in the background so no zombie stays.
    std::thread::spawn(move || child.wait());
    Ok(())
}

/// The image protocol: the configured one, or ("auto") the one the
/// environment names the terminal for (kitty, ghostty: kitty's; iTerm2,
/// WezTerm: iTerm2's), half-blocks otherwise. The terminal is not queried:
/// a query reads standard input, and where the terminal does not answer
/// (tmux, some ssh paths) it would swallow the user's keys.
fn picker(settings: &Settings) -> ratatui_image::picker::Picker {
    use ratatui_image::picker::{Picker, ProtocolType};
    let env = |k: &str| std::env::var(k).unwrap_or_default();
    let guessed = if !env("KITTY_WINDOW_ID").is_empty()
        || env("TERM") == "xterm-kitty"
        || env("TERM_PROGRAM") == "ghostty"
    {
        ProtocolType::Kitty
    } else if ["iTerm.app", "WezTerm"].contains(&env("TERM_PROGRAM").as_str()) {
        ProtocolType::Iterm2
    } else {
        ProtocolType::Halfblocks
    };
    let chosen = match settings.image_protocol.as_str() {
        "halfblocks" => ProtocolType::Halfblocks,
        "kitty" => ProtocolType::Kitty,
        "sixel" => ProtocolType::Sixel,
        "iterm2" => ProtocolType::Iterm2,
        _ if env("TMUX").is_empty() => guessed,
        // Inside tmux, graphics need passthrough the user may not have.
        _ => ProtocolType::Halfblocks,
    };
    let mut picker = Picker::halfblocks();
    picker.set_protocol_type(chosen);
    picker
}

/// The TUI's standard input and output must be a terminal.
pub fn need_terminal() -> Result<(), Error> {
    use std::io::IsTerminal;
    if !std::io::stdin().is_terminal() || !std::io::stdout().is_terminal() {
        return Err(Error::new(
            ErrorKind::Invalid,
            "the TUI needs a terminal; for scripts use a command (see `keepsake --help`)",
        ));
    }
    Ok(())
}

/// Runs the TUI until the user quits. `started` is when the process began,
/// for the cold-start measurement.
pub async fn run(settings: Settings, secrets: SecretStore, started: Instant) -> Result<(), Error> {
    need_terminal()?;
    let secrets = Arc::new(secrets);
    let keys = settings.key_map.clone();
    let theme = settings.theme.clone();
    install_panic_hook();
    enable_raw_mode()
        .map_err(|e| Error::from(format!("cannot put the terminal in raw mode: {e}")))?;
    // What the state starts from; after this it changes only by messages.
    let mut state = AppState {
        online: false,
        backup_algorithm: settings.backup_algorithm.clone(),
        room_sort: settings.room_sort,
        download_dir: settings.download_dir.clone(),
        notify: settings.notify.clone(),
        previews_on: settings.image_previews,
        composing: app::composer::Composing {
            drafts: drafts::load(&drafts::path(&settings.profile_dir)),
            send_typing: settings.send_typing,
            public_receipts: settings.public_read_receipts,
            ..app::composer::Composing::new()
        },
        // The clipboard is asked about after the first frame.
        ..AppState::new(keys.clone()).with_offset(utc_offset(), (0, 0), false)
    };
    let setup = execute!(
        std::io::stdout(),
        EnterAlternateScreen,
        EnableMouseCapture,
        EnableBracketedPaste
    );
    if let Err(e) = setup {
        restore_terminal();
        return Err(format!("cannot set up the terminal: {e}").into());
    }
    let result = run_loop(&settings, secrets, &theme, &mut state, started).await;
    restore_terminal();
    save_drafts(&settings, &state);
    result
}

async fn run_loop(
    settings: &Settings,
    secrets: Arc<SecretStore>,
    theme: &Theme,
    state: &mut AppState,
    started: Instant,
) -> Result<(), Error> {
    let mut terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))
        .map_err(|e| format!("cannot open the terminal: {e}"))?;
    if let Ok(size) = terminal.size() {
        app::update(state, Msg::Resize(size.width, size.height));
    }
    let (tx, mut inbox) = mpsc::unbounded_channel::<Event2>();
    // The account, opened in the background so the first frame is not
    // held up by the store.
    {
        let tx = tx.clone();
        let settings = settings.clone();
        let secrets = secrets.clone();
        tokio::spawn(async move {
            let r = account::restore(&settings, &secrets).await;
            let _ = tx.send(Event2::Account(r, None));
        });
    }
    // The first frame at once; then the terminal is asked whether it
    // takes clipboard writes (an answer may be a round trip away over ssh),
    // before anything else reads its input.
    let mut run = Running {
        worker: None,
        pump: None,
        quit: false,
        frames: frame_log::FrameLog::from_env(started),
        input_waiting: false,
        last_draw: Instant::now(),
    };
    draw(&mut terminal, state, theme, &mut run)?;
    tracing::info!(
        ms = started.elapsed().as_millis() as u64,
        "cold start to first frame"
    );
    let clipboard = tokio::task::spawn_blocking(clipboard::works)
        .await
        .unwrap_or(false);
    app::update(state, Msg::Clipboard(clipboard));
    if let Some(log) = run.frames.as_mut() {
        log.note("clipboard_probed");
    }
    // How images are drawn: as configured, or guessed from the environment.
    let picker = picker(settings);

    // Terminal input, on a thread of its own: a key reaches the inbox
    // even while the runtime's workers are busy (a restore's saves can hold
    // both for tens of milliseconds), and the loop here runs on the main
    // thread, not on a worker.
    let input = InputThread::start(tx.clone());
    // Time.
    let ticks = tx.clone();
    let tick_task = tokio::spawn(async move {
        let mut every = tokio::time::interval(TICK);
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            if ticks.send(Event2::App(Msg::Tick)).is_err() {
                break;
            }
        }
    });

    let handle = |ev: Event2, state: &mut AppState, run: &mut Running| {
        let effects = match ev {
            Event2::App(msg) => app::update(state, msg),
            Event2::Input(msg, at) => {
                if let (Some(log), Msg::Key(_)) = (run.frames.as_mut(), &msg) {
                    log.key(at);
                }
                run.input_waiting = true;
                app::update(state, msg)
            }
            Event2::Account(Ok(acc), user) => {
                if let Some(log) = run.frames.as_mut() {
                    log.note("account_open");
                }
                let (w, mut updates) = Worker::spawn(acc);
                run.worker = Some(w);
                let tx = tx.clone();
                run.pump = Some(tokio::spawn(async move {
                    while let Some(u) = updates.recv().await {
                        if tx.send(Event2::App(Msg::Worker(u))).is_err() {
                            return;
                        }
                    }
                    let _ = tx.send(Event2::App(Msg::WorkerGone));
                }));
                app::update(state, Msg::AccountOpen { user })
            }
            Event2::Account(Err(e), _) => app::update(
                state,
                Msg::LoginNeeded {
                    homeserver: settings.homeserver.as_ref().map(url::Url::to_string),
                    user: settings.user.clone(),
                    // Not logged in yet is no error: the login screen says it.
                    error: (!matches!(e, AccountError::NotLoggedIn(_)))
                        .then(|| app::said(&Error::from(e))),
                },
            ),
        };
        for fx in effects {
            match fx {
                Effect::Worker(cmd) => match &run.worker {
                    Some(w) => {
                        let op = w.send(cmd.clone());
                        app::update(state, Msg::Sent { op, cmd });
                    }
                    None => tracing::debug!("no worker yet for a command"),
                },
                Effect::Login {
                    homeserver,
                    user,
                    password,
                } => spawn_login(settings, &secrets, homeserver, user, password, tx.clone()),
                Effect::Copy(secret) => copy_to_clipboard(&secret),
                Effect::DecodePreview { event_id, bytes } => {
                    let (picker, tx) = (picker.clone(), tx.clone());
                    tokio::task::spawn_blocking(move || {
                        let result = crate::ui::preview::decode(&picker, &bytes);
                        let _ = tx.send(Event2::App(Msg::Preview { event_id, result }));
                    });
                }
                Effect::Bell => {
                    let mut out = std::io::stdout();
                    let _ = out.write_all(b"\x07");
                    let _ = out.flush();
                }
                Effect::Desktop { summary, body } => {
                    tokio::spawn(async move {
                        if let Err(e) = desktop::notify(&summary, &body).await {
                            // Over ssh or without a notification daemon this is
                            // normal: the bell still rang.
                            tracing::debug!(error = %e, "no desktop notification");
                        }
                    });
                }
                Effect::OpenExternal(what) => {
                    if let Err(e) = open_external(&settings.opener, &what) {
                        app::update(state, Msg::OpenFailed(e));
                    }
                }
                Effect::Quit => run.quit = true,
            }
        }
    };

    loop {
        if state.dirty {
            let since = run.last_draw.elapsed();
            if since < FRAME && !run.input_waiting {
                // Worker updates wait for the frame's time; input that
                // comes meanwhile ends the wait.
                let until = tokio::time::Instant::now() + (FRAME - since);
                frame_wait(&mut inbox, until, |ev| {
                    handle(ev, state, &mut run);
                    run.input_waiting || run.quit || state.quit
                })
                .await;
                while let Ok(ev) = inbox.try_recv() {
                    handle(ev, state, &mut run);
                }
            }
            if run.quit {
                break;
            }
            draw(&mut terminal, state, theme, &mut run)?;
        }
        let Some(ev) = inbox.recv().await else { break };
        handle(ev, state, &mut run);
        // Everything already queued before drawing.
        while let Ok(ev) = inbox.try_recv() {
            handle(ev, state, &mut run);
        }
        if state.composing.drafts_changed {
            state.composing.drafts_changed = false;
            save_drafts(settings, state);
        }
        if run.quit || state.quit {
            break;
        }
    }
    // Keys made in this run (a message just sent) go to the backup before
    // we leave, within a short limit; the next start uploads the rest.
    if let Some(w) = &run.worker {
        let op = w.send(crate::matrix::protocol::backup::Flush);
        app::update(state, Msg::Quitting);
        let _ = terminal.draw(|f| ui::render(state, theme, f));
        let _ = tokio::time::timeout(QUIT_FLUSH, async {
            while let Some(ev) = inbox.recv().await {
                if let Event2::App(Msg::Worker(crate::matrix::protocol::Update::Done {
                    op: o, ..
                })) = ev
                    && o == op
                {
                    return;
                }
            }
        })
        .await;
    }
    input.stop();
    tick_task.abort();
    if let Some(p) = run.pump {
        p.abort();
    }
    drop(run.worker);
    Ok(())
}

/// The loop's own state (the worker is the runtime's, not the app's).
struct Running {
    worker: Option<Worker>,
    pump: Option<tokio::task::JoinHandle<()>>,
    quit: bool,
    frames: Option<frame_log::FrameLog>,
    /// Input since the last frame: its frame is drawn at once, not held
    /// back by the frame rate (only updates from the worker are).
    input_waiting: bool,
    last_draw: Instant,
}

fn draw(
    terminal: &mut Terminal<CrosstermBackend<std::io::Stdout>>,
    state: &mut AppState,
    theme: &Theme,
    run: &mut Running,
) -> Result<(), Error> {
    let begun = Instant::now();
    let frame = terminal
        .draw(|f| ui::render(state, theme, f))
        .map_err(|e| format!("cannot draw: {e}"))?;
    // Links as OSC 8 hyperlinks, over the cells just drawn.
    let hyperlinks = ui::links::osc8(frame.buffer, &ui::links::take());
    if !hyperlinks.is_empty() {
        let mut out = std::io::stdout();
        let _ = out.write_all(hyperlinks.as_bytes());
        let _ = out.flush();
    }
    app::update(state, Msg::Drawn);
    run.last_draw = Instant::now();
    run.input_waiting = false;
    if let Some(log) = run.frames.as_mut() {
        log.frame(begun, state.rooms.len());
    }
    Ok(())
}

/// Logs in off the loop (the same code as `keepsake login`), then opens the
/// account; the outcome comes back through the inbox.
fn spawn_login(
    settings: &Settings,
    secrets: &Arc<SecretStore>,
    homeserver: String,
    user: String,
    password: Secret,
    tx: mpsc::UnboundedSender<Event2>,
) {
    let settings = settings.clone();
    let secrets = secrets.clone();
    tokio::spawn(async move {
        let who = account::login(
            &settings,
            &secrets,
            Some(&homeserver),
            Some(&user),
            password.expose(),
            None,
        )
        .await;
        drop(password);
        match who {
            Ok(who) => match account::restore(&settings, &secrets).await {
                Ok(acc) => {
                    let _ = tx.send(Event2::Account(Ok(acc), Some(who.user_id)));
                }
                Err(e) => {
                    let _ = tx.send(Event2::App(Msg::LoggedIn(Err(e.to_string()))));
                }
            },
            Err(e) => {
                let _ = tx.send(Event2::App(Msg::LoggedIn(Err(e.to_string()))));
            }
        }
    });
}

/// Keeps the unsent messages for the next start (a failure is logged: the
/// drafts are still in the composer of this run).
fn save_drafts(settings: &Settings, state: &AppState) {
    if !settings.profile_dir.is_dir() {
        return;
    }
    let all = app::composer::drafts_to_save(state);
    if let Err(e) = drafts::save(&drafts::path(&settings.profile_dir), &all) {
        tracing::warn!(error = %e, "cannot save the drafts");
    }
}
