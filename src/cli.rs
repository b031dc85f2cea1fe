//! The command line: global flags shared by every command, and the commands.

use std::path::PathBuf;

use clap::{Parser, Subcommand};

/// keepsake: a terminal Matrix client that never loses encrypted history.
///
/// It backs up every megolm session with MSC3270 symmetric key backup
/// (`m.megolm_backup.v1.aes-hmac-sha2`) as soon as it exists, restores all of
/// it on a new device, and marks every message with whether the key that
/// decrypted it is trusted.
///
/// Without a command it opens the terminal client; `?` there lists every key.
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
    /// Log in with a password; later commands reuse the saved session.
    Login {
        /// Homeserver URL (default: `homeserver` from the config).
        #[arg(long, value_name = "URL")]
        homeserver: Option<String>,
        /// User name or @user:server (default: `user` from the config).
        #[arg(long, value_name = "USER")]
        user: Option<String>,
        /// Read the password from standard input (first line) instead of
        /// asking for it on the terminal.
        #[arg(long)]
        password_stdin: bool,
        /// Name of this device as other clients show it.
        #[arg(long, value_name = "NAME")]
        device_name: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Log out: invalidate the token and remove this profile's secrets and store.
    Logout,
    /// List joined rooms and invitations.
    Rooms {
        #[arg(long)]
        json: bool,
    },
    /// Create a room (end-to-end encrypted unless --unencrypted).
    CreateRoom {
        name: String,
        /// Invite this user (repeatable).
        #[arg(long = "invite", value_name = "USER")]
        invites: Vec<String>,
        /// Publish the room under #ALIAS:server (local part only).
        #[arg(long, value_name = "ALIAS")]
        alias: Option<String>,
        #[arg(long)]
        unencrypted: bool,
        #[arg(long)]
        json: bool,
    },
    /// Invite USER to ROOM (room id or alias).
    Invite {
        room: String,
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// Join ROOM (room id or alias), e.g. after an invitation.
    Join {
        room: String,
        #[arg(long)]
        json: bool,
    },
    /// Leave ROOM (room id or alias), or decline its invitation.
    Leave {
        room: String,
        #[arg(long)]
        json: bool,
    },
    /// Send a text message (markdown) or a file to ROOM.
    Send {
        room: String,
        /// The message (markdown unless --plain); not with --file.
        #[arg(required_unless_present = "file", conflicts_with = "file")]
        text: Option<String>,
        /// Send this file (image, video, audio or any file; encrypted in an
        /// encrypted room) instead of text.
        #[arg(long, value_name = "PATH")]
        file: Option<std::path::PathBuf>,
        /// Reply in the thread this event starts.
        #[arg(long, value_name = "EVENT")]
        thread: Option<String>,
        /// An action ("* you waves"), like /me.
        #[arg(long, conflicts_with_all = ["plain", "file"])]
        emote: bool,
        /// Send the text as typed, without markdown.
        #[arg(long, conflicts_with = "file")]
        plain: bool,
        #[arg(long)]
        json: bool,
    },
    /// Open the direct-message room with USER: the one you share, or a new
    /// encrypted one marked direct (USER invited).
    Dm {
        user: String,
        #[arg(long)]
        json: bool,
    },
    /// List ROOM's members with their power level and verification.
    Members {
        room: String,
        #[arg(long)]
        json: bool,
    },
    /// Show a room's last messages with their encryption state (replies in
    /// threads are counted on their root; `--thread` shows one thread).
    History {
        room: String,
        /// How many events at most.
        #[arg(long, default_value_t = 50)]
        limit: usize,
        /// The thread this event starts, instead of the room.
        #[arg(long, value_name = "ROOT_EVENT")]
        thread: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Ask the server to find TEXT in ROOM (unencrypted rooms only: the
    /// server cannot read encrypted ones).
    Search {
        room: String,
        text: String,
        /// How many results at most.
        #[arg(long, default_value_t = 20)]
        limit: usize,
        #[arg(long)]
        json: bool,
    },
    /// Save the file a message carries (decrypted in encrypted rooms, 0600,
    /// never overwriting): into the download dir, or to FILE with -o.
    Download {
        room: String,
        event: String,
        /// Save exactly here (must not exist).
        #[arg(short = 'o', long = "output", value_name = "FILE")]
        output: Option<std::path::PathBuf>,
        #[arg(long)]
        json: bool,
    },
    /// Synchronise with the homeserver.
    Sync {
        /// One incremental sync, then exit.
        #[arg(long)]
        once: bool,
    },
    /// Show the account and device of the saved session, as the server sees them.
    Whoami {
        #[arg(long)]
        json: bool,
    },
    /// Secret storage and cross-signing: set up, unlock on a new device, replace the key.
    Recovery {
        #[command(subcommand)]
        action: RecoveryAction,
    },
    /// The symmetric key backup of your encrypted history.
    Backup {
        #[command(subcommand)]
        action: BackupAction,
    },
    /// Key files in the standard encrypted format (Element's "Export E2E room keys").
    Keys {
        #[command(subcommand)]
        action: KeysAction,
    },
    /// A user's devices (default: yours) and whether each is verified.
    Devices {
        /// @user:server (default: yourself).
        user: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Verify by emoji: your other devices (no USER), a user, or one device of theirs.
    Verify {
        /// @user:server (default: yourself, i.e. your other devices).
        user: Option<String>,
        /// One device of USER (to-device); without it a user is asked in a direct room.
        device: Option<String>,
        /// Wait for an incoming request instead of sending one.
        #[arg(long)]
        accept: bool,
        /// Confirm without asking once the emoji are shown (for scripts and tests).
        #[arg(long)]
        yes: bool,
        /// Give up after this many seconds.
        #[arg(long, default_value_t = 300, value_name = "SECONDS")]
        timeout: u64,
        /// One JSON object per step on stdout.
        #[arg(long)]
        json: bool,
    },
    /// Check the configuration and show the settings this run would use.
    Config {
        /// Print them as JSON.
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum RecoveryAction {
    /// First device: cross-signing plus secret storage; prints the recovery key once.
    Setup {
        /// Read the account password from the first line of standard input.
        #[arg(long)]
        password_stdin: bool,
        /// Also let a passphrase open secret storage (asked on the terminal).
        #[arg(long)]
        passphrase: bool,
        /// Read that passphrase from standard input (after the password, if any).
        #[arg(long)]
        passphrase_stdin: bool,
        /// Do not create the key backup in the same step.
        #[arg(long)]
        no_backup: bool,
        #[arg(long)]
        json: bool,
    },
    /// New device: open secret storage with the recovery key or passphrase and verify this device.
    Unlock {
        /// Read the recovery key or passphrase from standard input.
        #[arg(long)]
        stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// A new recovery key; every secret this device holds is stored again under it.
    Reset {
        /// Also let a passphrase open the new secret storage (asked on the terminal).
        #[arg(long)]
        passphrase: bool,
        /// Read that passphrase from standard input.
        #[arg(long)]
        passphrase_stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// Cross-signing, device verification, secret storage and backup key at a glance.
    Status {
        #[arg(long)]
        json: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum BackupAction {
    /// Create the backup: a new key, kept in secret storage (asks for the recovery key or passphrase).
    Create {
        /// Read the recovery key or passphrase from standard input.
        #[arg(long)]
        stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// Version, key, local / backed up / pending / server counts, last upload and error.
    Status {
        #[arg(long)]
        json: bool,
    },
    /// Per room: keys held here, in the backup, restored (trusted or not), unreadable messages the backup can fix; and the server's versions.
    Inspect {
        #[arg(long)]
        json: bool,
    },
    /// Restore every key of the backup onto this device (asks for the recovery key or passphrase if needed).
    Restore {
        /// Read the recovery key or passphrase from standard input.
        #[arg(long)]
        stdin: bool,
        /// Restore this older version instead of the current one (a reset
        /// keeps the key of the version it replaced in secret storage).
        #[arg(long, value_name = "N")]
        version: Option<String>,
        #[arg(long)]
        json: bool,
    },
    /// Upload every pending session now.
    Upload {
        /// Return only when nothing is pending (or uploading cannot go on).
        #[arg(long)]
        wait: bool,
        /// With --wait, give up after this many seconds.
        #[arg(long, default_value_t = 600, value_name = "SECONDS")]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Adopt the server's current backup version if this device's key is its key.
    UseCurrent {
        #[arg(long)]
        json: bool,
    },
    /// Replace the backup: a new key and version, and everything uploaded again.
    Reset {
        /// Read the recovery key or passphrase from standard input.
        #[arg(long)]
        stdin: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        #[arg(long)]
        json: bool,
    },
    /// Move a curve25519 backup (Element's, matrix-sdk's) into a new symmetric one: restore it, then upload every key, the old ones flagged untrusted.
    Migrate {
        /// Read the recovery key or passphrase from standard input.
        #[arg(long)]
        stdin: bool,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
        /// Seconds to wait for the upload before leaving the rest to the next run.
        #[arg(long, default_value_t = 600)]
        timeout: u64,
        #[arg(long)]
        json: bool,
    },
    /// Delete backup VERSION from the server, with every key in it.
    Delete {
        version: String,
        /// Do not ask for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

#[derive(Debug, Subcommand)]
pub enum KeysAction {
    /// Write every key this device holds to FILE, encrypted with a passphrase (asked twice).
    Export {
        file: std::path::PathBuf,
        /// Read the passphrase from standard input (once).
        #[arg(long)]
        passphrase_stdin: bool,
        #[arg(long)]
        json: bool,
    },
    /// Import the keys of FILE; they are shown as untrusted unless --trust.
    Import {
        file: std::path::PathBuf,
        /// Read the passphrase from standard input.
        #[arg(long)]
        passphrase_stdin: bool,
        /// You vouch for this file (you made it yourself): its keys count as trusted.
        #[arg(long)]
        trust: bool,
        #[arg(long)]
        json: bool,
    },
}
