//! Configuration: a TOML file whose fields are all optional, resolved with
//! the command line into [`Settings`] for one profile.
//!
//! Parsing is pure (text in, settings or one precise error out) so every
//! message can be pinned in tests; reading the file is the caller's job.

use crate::error::Invalid;
use std::collections::BTreeMap;
use std::fmt;
use std::ops::Range;
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::crypto::backup::{ALGORITHM, ALGORITHM_UNSTABLE, DEFAULT_ALGORITHM};

mod sections;
pub use sections::IMAGE_PROTOCOLS;
use sections::{FilesSection, ImagesSection, NotificationsSection, PrivacySection, RoomsSection};

pub const DEFAULT_PROFILE: &str = "default";
const LOG_LEVELS: &[&str] = &["error", "warn", "info", "debug", "trace"];

/// Where secrets (access token, store passphrase) are kept.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
pub enum SecretsBackend {
    /// The OS keyring if one is reachable, else a 0600 file with a warning.
    #[default]
    Auto,
    /// The OS keyring only; refuse to run without one.
    Keyring,
    /// A 0600 file under the profile's data directory.
    File,
}

/// Top level of the file. Unknown keys are errors so typos are not ignored.
/// (No `#[serde(flatten)]`: it loses spans and defeats `deny_unknown_fields`.)
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileConfig {
    default_profile: Option<Spanned<String>>,
    log_level: Option<Spanned<String>>,
    secrets: Option<Spanned<String>>,
    homeserver: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
    device_name: Option<Spanned<String>>,
    data_dir: Option<Spanned<String>>,
    backup_algorithm: Option<Spanned<String>>,
    #[serde(default)]
    profiles: BTreeMap<String, Spanned<AccountFields>>,
    /// TUI key bindings: action name -> one key or a list of keys.
    #[serde(default)]
    keys: BTreeMap<Spanned<String>, Spanned<KeySpec>>,
    /// TUI colours: role -> colour name or #rrggbb.
    #[serde(default)]
    colors: BTreeMap<Spanned<String>, Spanned<String>>,
    /// The room list.
    #[serde(default)]
    rooms: RoomsSection,
    /// Files that messages carry.
    #[serde(default)]
    files: FilesSection,
    /// Bell and desktop notifications.
    #[serde(default)]
    notifications: NotificationsSection,
    /// Inline image previews.
    #[serde(default)]
    images: ImagesSection,
    /// What others learn of your reading and typing.
    #[serde(default)]
    privacy: PrivacySection,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
enum KeySpec {
    One(String),
    Many(Vec<String>),
}

/// Keys that may stand at the top level (defaults) or in a profile.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct AccountFields {
    homeserver: Option<Spanned<String>>,
    user: Option<Spanned<String>>,
    device_name: Option<Spanned<String>>,
    data_dir: Option<Spanned<String>>,
    backup_algorithm: Option<Spanned<String>>,
}

impl FileConfig {
    fn top_level_account(&mut self) -> AccountFields {
        AccountFields {
            homeserver: self.homeserver.take(),
            user: self.user.take(),
            device_name: self.device_name.take(),
            data_dir: self.data_dir.take(),
            backup_algorithm: self.backup_algorithm.take(),
        }
    }
}

/// What the command line says about paths and profile.
#[derive(Clone, Debug, Default)]
pub struct Overrides {
    pub profile: Option<String>,
    pub data_dir: Option<PathBuf>,
}

/// Platform directories, from `directories` or from `--data-dir`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct BaseDirs {
    pub config_file: PathBuf,
    pub data: PathBuf,
    pub state: PathBuf,
}

impl BaseDirs {
    /// Everything under one directory (`--data-dir`).
    pub fn under(dir: &Path) -> Self {
        Self {
            config_file: dir.join("config.toml"),
            data: dir.join("data"),
            state: dir.join("state"),
        }
    }

    /// The platform's directories (XDG on Linux).
    pub fn platform() -> Option<Self> {
        let p = directories::ProjectDirs::from("org", "keepsake", "keepsake")?;
        Some(Self {
            config_file: p.config_dir().join("config.toml"),
            data: p.data_dir().to_path_buf(),
            state: p
                .state_dir()
                .unwrap_or_else(|| p.data_local_dir())
                .to_path_buf(),
        })
    }
}

/// The resolved settings of one run.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Settings {
    pub profile: String,
    pub homeserver: Option<url::Url>,
    pub user: Option<String>,
    pub device_name: String,
    pub log_level: String,
    pub secrets: SecretsBackend,
    pub backup_algorithm: String,
    /// The profile's own directory: stores, secrets fallback, trust table.
    pub profile_dir: PathBuf,
    /// Rolling logs.
    pub log_dir: PathBuf,
    /// TUI key bindings from `[keys]`: action -> keys, replacing its defaults.
    pub keys: BTreeMap<String, Vec<String>>,
    /// TUI colours from `[colors]`: role -> colour.
    pub colors: BTreeMap<String, String>,
    /// The key map the TUI uses: the defaults with `[keys]` applied,
    /// parsed once here.
    pub key_map: crate::app::keys::KeyMap,
    /// The room list's order (`[rooms] sort`).
    pub room_sort: crate::matrix::room_order::RoomSort,
    /// Where downloads go: `[files] download_dir`, else the user's download
    /// directory; with `--data-dir`, `downloads` in the data root under it
    /// (tests never write to the user's real directories).
    pub download_dir: PathBuf,
    /// What opens files and links: `[files] opener`, else the desktop's.
    pub opener: String,
    /// `[notifications]`.
    pub notify: crate::app::alerts::Settings,
    /// `[images] preview`: images are previewed in the timeline.
    pub image_previews: bool,
    /// `[images] protocol`: one of [`IMAGE_PROTOCOLS`].
    pub image_protocol: String,
    /// `[privacy] typing`: rooms are told when you type.
    pub send_typing: bool,
    /// `[privacy] read_receipts`: read receipts are public.
    pub public_read_receipts: bool,
    /// The TUI's colours with `[colors]` applied, parsed once here.
    pub theme: crate::ui::theme::Theme,
}

/// One precise configuration error: file, line, column and what is wrong.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ConfigError {
    pub file: PathBuf,
    pub line: usize,
    pub column: usize,
    pub message: String,
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "invalid config {}:{}:{}: {}",
            self.file.display(),
            self.line,
            self.column,
            self.message
        )
    }
}

impl std::error::Error for ConfigError {}

fn line_col(text: &str, offset: usize) -> (usize, usize) {
    let before = &text[..offset.min(text.len())];
    let line = before.matches('\n').count() + 1;
    let column = before.rsplit('\n').next().map_or(0, |l| l.chars().count()) + 1;
    (line, column)
}

struct Ctx<'a> {
    file: &'a Path,
    text: &'a str,
}

impl Ctx<'_> {
    fn err(&self, span: Range<usize>, message: impl Into<String>) -> ConfigError {
        let (line, column) = line_col(self.text, span.start);
        ConfigError {
            file: self.file.to_path_buf(),
            line,
            column,
            message: message.into(),
        }
    }
}

fn valid_profile_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_')
}

/// Parses and resolves a config file's text. `text` is `None` when the file
/// does not exist (all defaults).
pub fn resolve(
    file: &Path,
    text: Option<&str>,
    overrides: &Overrides,
    base: &BaseDirs,
) -> Result<Settings, ConfigError> {
    let text = text.unwrap_or("");
    let ctx = Ctx { file, text };
    let mut cfg: FileConfig = toml::from_str(text).map_err(|e| {
        let span = e.span().unwrap_or(0..0);
        ctx.err(span, e.message().trim().to_owned())
    })?;

    for (name, p) in &cfg.profiles {
        if !valid_profile_name(name) {
            return Err(ctx.err(
                p.span(),
                format!("profile name `{name}` may only use letters, digits, `-` and `_`"),
            ));
        }
    }

    let profile = match (&overrides.profile, &cfg.default_profile) {
        (Some(p), _) => {
            if !valid_profile_name(p) {
                return Err(ConfigError {
                    file: PathBuf::from("--profile"),
                    line: 0,
                    column: 0,
                    message: format!(
                        "profile name `{p}` may only use letters, digits, `-` and `_`"
                    ),
                });
            }
            p.clone()
        }
        (None, Some(p)) => {
            if !valid_profile_name(p.get_ref()) {
                return Err(ctx.err(
                    p.span(),
                    "`default_profile` may only use letters, digits, `-` and `_`",
                ));
            }
            p.get_ref().clone()
        }
        (None, None) => DEFAULT_PROFILE.to_owned(),
    };
    let top = cfg.top_level_account();
    // Every profile is checked, not just the one in use: a broken profile is
    // a broken file.
    check_account(&ctx, &top)?;
    for p in cfg.profiles.values() {
        check_account(&ctx, p.get_ref())?;
    }
    let prof = cfg.profiles.get(&profile).map(Spanned::get_ref);
    let pick = |f: fn(&AccountFields) -> &Option<Spanned<String>>| -> Option<&Spanned<String>> {
        prof.and_then(|a| f(a).as_ref())
            .or_else(|| f(&top).as_ref())
    };

    let homeserver = match pick(|a| &a.homeserver) {
        Some(s) => Some(parse_homeserver(s.get_ref()).map_err(|m| ctx.err(s.span(), m.0))?),
        None => None,
    };
    let user = match pick(|a| &a.user) {
        Some(s) => Some(parse_user(s.get_ref()).map_err(|m| ctx.err(s.span(), m.0))?),
        None => None,
    };
    let device_name = pick(|a| &a.device_name)
        .map(|s| s.get_ref().clone())
        .unwrap_or_else(|| "keepsake".to_owned());
    let backup_algorithm = pick(|a| &a.backup_algorithm)
        .map(|s| s.get_ref().clone())
        .unwrap_or_else(|| DEFAULT_ALGORITHM.to_owned());
    let log_level = match &cfg.log_level {
        Some(s) if LOG_LEVELS.contains(&s.get_ref().as_str()) => s.get_ref().clone(),
        Some(s) => {
            return Err(ctx.err(
                s.span(),
                format!(
                    "`log_level` must be one of {}, not \"{}\"",
                    LOG_LEVELS.join(", "),
                    s.get_ref()
                ),
            ));
        }
        None => "info".to_owned(),
    };
    let secrets = match cfg
        .secrets
        .as_ref()
        .map(|s| (s.get_ref().as_str(), s.span()))
    {
        None | Some(("auto", _)) => SecretsBackend::Auto,
        Some(("keyring", _)) => SecretsBackend::Keyring,
        Some(("file", _)) => SecretsBackend::File,
        Some((other, span)) => {
            return Err(ctx.err(
                span,
                format!("`secrets` must be \"auto\", \"keyring\" or \"file\", not \"{other}\""),
            ));
        }
    };

    let room_sort = match &cfg.rooms.sort {
        None => Default::default(),
        Some(s) => {
            use crate::matrix::room_order::RoomSort;
            RoomSort::parse(s.get_ref()).ok_or_else(|| {
                ctx.err(
                    s.span(),
                    format!(
                        "[rooms] `sort` must be one of {}, not \"{}\"",
                        RoomSort::NAMES.join(", "),
                        s.get_ref()
                    ),
                )
            })?
        }
    };
    let mut keys = BTreeMap::new();
    for (action, spec) in &cfg.keys {
        let list = match spec.get_ref() {
            KeySpec::One(k) => vec![k.clone()],
            KeySpec::Many(ks) => ks.clone(),
        };
        crate::app::keys::validate(action.get_ref(), &list).map_err(|m| {
            let span = if crate::app::keys::action_named(action.get_ref()).is_none() {
                action.span()
            } else {
                spec.span()
            };
            ctx.err(span, format!("[keys] {m}"))
        })?;
        keys.insert(action.get_ref().clone(), list);
    }
    let mut colors = BTreeMap::new();
    for (role, value) in &cfg.colors {
        let span = if crate::ui::theme::ROLES.contains(&role.get_ref().as_str()) {
            value.span()
        } else {
            role.span()
        };
        crate::ui::theme::validate(role.get_ref(), value.get_ref())
            .map_err(|m| ctx.err(span, format!("[colors] {m}")))?;
        colors.insert(role.get_ref().clone(), value.get_ref().clone());
    }

    // --data-dir wins over the config so that a test run never touches the
    // user's real data.
    let data_root = match (&overrides.data_dir, pick(|a| &a.data_dir)) {
        (Some(_), _) | (None, None) => base.data.clone(),
        (None, Some(s)) => PathBuf::from(s.get_ref()),
    };

    let download_dir = match (&overrides.data_dir, &cfg.files.download_dir) {
        (_, Some(s)) => {
            let p = PathBuf::from(s.get_ref());
            if !p.is_absolute() {
                return Err(ctx.err(
                    s.span(),
                    format!(
                        "[files] `download_dir` must be an absolute path, not \"{}\"",
                        s.get_ref()
                    ),
                ));
            }
            p
        }
        (Some(_), None) => data_root.join("downloads"),
        (None, None) => directories::UserDirs::new()
            .and_then(|u| u.download_dir().map(PathBuf::from))
            .unwrap_or_else(|| data_root.join("downloads")),
    };
    let opener = cfg
        .files
        .opener
        .as_ref()
        .map(|s| s.get_ref().clone())
        .unwrap_or_else(|| {
            if cfg!(target_os = "macos") {
                "open".to_owned()
            } else {
                "xdg-open".to_owned()
            }
        });

    let notify = sections::notify(&ctx, &cfg.notifications)?;
    let image_protocol = sections::image_protocol(&ctx, &cfg.images)?;

    Ok(Settings {
        image_previews: cfg.images.preview.unwrap_or(true),
        send_typing: cfg.privacy.typing.unwrap_or(true),
        public_read_receipts: cfg.privacy.read_receipts.unwrap_or(true),
        image_protocol,
        notify,
        download_dir,
        opener,
        profile_dir: data_root.join("profiles").join(&profile),
        log_dir: base.state.join("logs"),
        profile,
        homeserver,
        user,
        device_name,
        log_level,
        secrets,
        backup_algorithm,
        room_sort,
        key_map: crate::app::keys::KeyMap::with(&keys),
        theme: crate::ui::theme::Theme::with(&colors),
        keys,
        colors,
    })
}

fn check_account(ctx: &Ctx<'_>, a: &AccountFields) -> Result<(), ConfigError> {
    if let Some(s) = &a.homeserver {
        parse_homeserver(s.get_ref()).map_err(|m| ctx.err(s.span(), m.0))?;
    }
    if let Some(s) = &a.user {
        parse_user(s.get_ref()).map_err(|m| ctx.err(s.span(), m.0))?;
    }
    if let Some(s) = &a.backup_algorithm
        && s.get_ref() != ALGORITHM
        && s.get_ref() != ALGORITHM_UNSTABLE
    {
        return Err(ctx.err(
            s.span(),
            format!(
                "`backup_algorithm` must be \"{ALGORITHM}\" or \"{ALGORITHM_UNSTABLE}\", not \"{}\"",
                s.get_ref()
            ),
        ));
    }
    if let Some(s) = &a.data_dir
        && !Path::new(s.get_ref()).is_absolute()
    {
        return Err(ctx.err(s.span(), "`data_dir` must be an absolute path"));
    }
    if let Some(s) = &a.device_name
        && (s.get_ref().trim().is_empty() || s.get_ref().len() > 100)
    {
        return Err(ctx.err(s.span(), "`device_name` must be 1 to 100 characters"));
    }
    Ok(())
}

/// Accepts `https://host[:port][/path]` and `http://` (for loopback and
/// tests); a bare host name gets `https://`.
pub fn parse_homeserver(s: &str) -> Result<url::Url, Invalid> {
    let with_scheme = if s.contains("://") {
        s.to_owned()
    } else {
        format!("https://{s}")
    };
    let url = url::Url::parse(&with_scheme)
        .map_err(|e| format!("`homeserver` \"{s}\" is not a valid URL: {e}"))?;
    if url.scheme() != "https" && url.scheme() != "http" {
        return Err(format!(
            "`homeserver` \"{s}\" must use https:// (or http:// for a local server)"
        )
        .into());
    }
    if url.host_str().is_none_or(str::is_empty) {
        return Err(format!("`homeserver` \"{s}\" has no host").into());
    }
    Ok(url)
}

/// Accepts `@user:server` or a bare localpart.
pub fn parse_user(s: &str) -> Result<String, Invalid> {
    let s = s.trim();
    let ok_local = |l: &str| {
        !l.is_empty()
            && l.chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || "._=-/+".contains(c))
    };
    let valid = match s.strip_prefix('@') {
        Some(rest) => {
            matches!(rest.split_once(':'), Some((l, server)) if ok_local(l) && !server.is_empty())
        }
        None => ok_local(s),
    };
    if valid {
        Ok(s.to_owned())
    } else {
        Err(format!(
            "`user` \"{s}\" is not a Matrix user id (@name:server) or a lowercase user name"
        )
        .into())
    }
}

/// The resolved settings for `keepsake config`, as text or JSON. Holds no
/// secrets: those never live in the config.
pub fn describe(s: &Settings, json: bool) -> String {
    let secrets = match s.secrets {
        SecretsBackend::Auto => "auto",
        SecretsBackend::Keyring => "keyring",
        SecretsBackend::File => "file",
    };
    let v = serde_json::json!({
        "profile": s.profile,
        "homeserver": s.homeserver.as_ref().map(url::Url::as_str),
        "user": s.user,
        "device_name": s.device_name,
        "log_level": s.log_level,
        "secrets": secrets,
        "secrets_location": crate::secrets::location(&s.profile_dir),
        "backup_algorithm": s.backup_algorithm,
        "profile_dir": s.profile_dir,
        "log_dir": s.log_dir,
    });
    if json {
        return format!("{v:#}\n");
    }
    let mut out = String::new();
    if let Some(map) = v.as_object() {
        for (k, val) in map {
            let shown = match val {
                serde_json::Value::String(s) => s.clone(),
                serde_json::Value::Null => "(not set)".to_owned(),
                other => other.to_string(),
            };
            out.push_str(&format!("{k:<17} {shown}\n"));
        }
    }
    out
}
