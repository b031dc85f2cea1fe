//! Secrets of a profile (the Matrix session with its access token, and the
//! store passphrase) in the OS keyring, with a 0600 file as the announced
//! fallback.
//!
//! Backends, in the order `secrets = "auto"` tries them:
//! 1. the Secret Service (GNOME Keyring, KWallet) on the D-Bus session bus;
//! 2. the kernel keyring (keyutils), which needs a session keyring: call
//!    [`join_session_keyring`] at start, before any thread is spawned;
//! 3. a 0600 JSON file in the profile directory, with one warning line.
//!
//! The backend that first stored a profile's secrets is recorded in the
//! profile directory (the name only, nothing secret), so a later run looks in
//! the same place and says so clearly when that place is not reachable,
//! instead of silently starting a fresh login.

use std::collections::BTreeMap;
use std::fmt;
use std::io::Write;
use std::path::{Path, PathBuf};

use zeroize::Zeroizing;

use crate::config::SecretsBackend;

const SERVICE: &str = "keepsake";
const BACKEND_MARKER: &str = "secrets-backend";
const SECRETS_FILE: &str = "secrets.json";

/// The secrets a profile keeps.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum SecretName {
    /// The serialized Matrix session (user, device, access token).
    Session,
    /// The passphrase of the local sqlite stores.
    StorePassphrase,
}

impl SecretName {
    fn key(self) -> &'static str {
        match self {
            Self::Session => "session",
            Self::StorePassphrase => "store-passphrase",
        }
    }
}

/// Where a profile's secrets are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    SecretService,
    KernelKeyring,
    File,
}

impl Backend {
    fn marker(self) -> &'static str {
        match self {
            Self::SecretService => "secret-service",
            Self::KernelKeyring => "kernel-keyring",
            Self::File => "file",
        }
    }

    fn from_marker(s: &str) -> Option<Self> {
        match s.trim() {
            "secret-service" => Some(Self::SecretService),
            "kernel-keyring" => Some(Self::KernelKeyring),
            "file" => Some(Self::File),
            _ => None,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            Self::SecretService => "the Secret Service (desktop keyring)",
            Self::KernelKeyring => "the kernel keyring",
            Self::File => "a private file",
        }
    }

    /// Whether the backend forgets on its own (the kernel keyring drops
    /// keys at reboot and after days unused).
    pub fn volatile(self) -> bool {
        self == Self::KernelKeyring
    }
}

/// Where the secrets of the profile in `profile_dir` live, in words, for
/// `keepsake config`: the backend recorded when they were first stored.
pub fn location(profile_dir: &Path) -> String {
    let recorded = std::fs::read_to_string(profile_dir.join(BACKEND_MARKER))
        .ok()
        .and_then(|s| Backend::from_marker(&s));
    match recorded {
        Some(Backend::File) => format!("{} (mode 0600)", profile_dir.join(SECRETS_FILE).display()),
        Some(Backend::KernelKeyring) => {
            "the kernel keyring (forgotten at reboot and after days unused)".to_owned()
        }
        Some(Backend::SecretService) => Backend::SecretService.describe().to_owned(),
        None => "nothing stored yet".to_owned(),
    }
}

/// Errors never carry secret values: the keyring's own errors are reduced to
/// their kind before they get here.
#[derive(Debug, thiserror::Error)]
pub enum SecretsError {
    #[error(
        "no OS keyring is reachable (Secret Service or kernel keyring) and the config asks for `secrets = \"keyring\"`"
    )]
    NoKeyring,
    #[error("this profile's secrets are in {0}, which is not reachable now: {1}")]
    Unreachable(&'static str, String),
    #[error("cannot {0} a secret in {1}: {2}")]
    Backend(&'static str, &'static str, String),
    #[error("secrets file {0}: {1}")]
    File(PathBuf, String),
}

/// A profile's secret store.
pub struct SecretStore {
    backend: Backend,
    /// Keyring account prefix: unique per profile directory, so profiles and
    /// `--data-dir` runs never see each other's secrets.
    account: String,
    profile_dir: PathBuf,
}

impl fmt::Debug for SecretStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SecretStore")
            .field("backend", &self.backend)
            .field("profile_dir", &self.profile_dir)
            .finish()
    }
}

/// Gives this process its own session keyring so the kernel-keyring backend
/// works where no login session made one (ssh, containers, CI). Must run
/// before threads are spawned: session keyrings belong to a thread's
/// credentials. Harmless when the backend is not used.
pub fn join_session_keyring() {
    // KEYCTL_JOIN_SESSION_KEYRING = 1; a NULL name makes an anonymous keyring.
    // SAFETY: plain syscall with a null name pointer, as keyctl(2) allows.
    unsafe {
        libc::syscall(libc::SYS_keyctl, 1, std::ptr::null::<libc::c_char>());
    }
}

/// What a keyring call said, reduced to words that hold no secret.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{0}")]
struct KeyringFault(String);

impl From<&str> for KeyringFault {
    fn from(s: &str) -> Self {
        KeyringFault(s.to_owned())
    }
}

fn keyring_err(e: &keyring::Error) -> KeyringFault {
    KeyringFault(keyring_words(e))
}

fn keyring_words(e: &keyring::Error) -> String {
    // Never format BadEncoding's bytes or Ambiguous's credentials.
    match e {
        keyring::Error::PlatformFailure(inner) | keyring::Error::NoStorageAccess(inner) => {
            inner.to_string()
        }
        keyring::Error::NoEntry => "no entry".to_owned(),
        keyring::Error::BadEncoding(_) => "stored value is not UTF-8".to_owned(),
        keyring::Error::TooLong(name, _) => format!("{name} too long"),
        keyring::Error::Invalid(name, why) => format!("{name} invalid: {why}"),
        keyring::Error::Ambiguous(_) => "several entries match".to_owned(),
        _ => "unknown keyring error".to_owned(),
    }
}

impl SecretStore {
    /// Opens the store of the profile in `profile_dir`. The second value is
    /// a warning to show the user once (the file fallback), if any.
    pub fn open(
        profile_dir: &Path,
        wanted: SecretsBackend,
    ) -> Result<(Self, Option<String>), SecretsError> {
        let account = profile_dir.display().to_string();
        let make = |backend| Self {
            backend,
            account: account.clone(),
            profile_dir: profile_dir.to_path_buf(),
        };
        let recorded = std::fs::read_to_string(profile_dir.join(BACKEND_MARKER))
            .ok()
            .and_then(|s| Backend::from_marker(&s));

        if let Some(backend) = recorded {
            let store = make(backend);
            store
                .probe()
                .map_err(|why| SecretsError::Unreachable(backend.describe(), why.0))?;
            return Ok((store, None));
        }
        // `auto` never picks the kernel keyring: it forgets its keys at
        // reboot and after days unused, and a store without its passphrase
        // is lost. Only an explicit `secrets = "keyring"` uses it.
        let candidates: &[Backend] = match wanted {
            SecretsBackend::Keyring => &[Backend::SecretService, Backend::KernelKeyring],
            _ => &[Backend::SecretService],
        };
        let chosen = match wanted {
            SecretsBackend::File => Backend::File,
            SecretsBackend::Keyring | SecretsBackend::Auto => {
                let found = candidates
                    .iter()
                    .copied()
                    .find(|b| make(*b).probe().is_ok());
                match (found, wanted) {
                    (Some(b), _) => b,
                    (None, SecretsBackend::Keyring) => return Err(SecretsError::NoKeyring),
                    (None, _) => Backend::File,
                }
            }
        };
        let warning = (chosen == Backend::File && wanted == SecretsBackend::Auto).then(|| {
            format!(
                "warning: no desktop keyring (Secret Service) is reachable; secrets are kept in {} (mode 0600)",
                profile_dir.join(SECRETS_FILE).display()
            )
        });
        Ok((make(chosen), warning))
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    fn entry(&self, name: &str) -> Result<keyring::Entry, KeyringFault> {
        let user = format!("{name}@{}", self.account);
        let cred: Box<keyring::Credential> = match self.backend {
            Backend::SecretService => Box::new(
                keyring::secret_service::SsCredential::new_with_target(None, SERVICE, &user)
                    .map_err(|e| keyring_err(&e))?,
            ),
            Backend::KernelKeyring => Box::new(
                keyring::keyutils::KeyutilsCredential::new_with_target(None, SERVICE, &user)
                    .map_err(|e| keyring_err(&e))?,
            ),
            Backend::File => return Err("not a keyring backend".into()),
        };
        Ok(keyring::Entry::new_with_credential(cred))
    }

    /// Checks the backend answers. For the kernel keyring a round trip is
    /// needed: creating a key can fail where reading does not.
    fn probe(&self) -> Result<(), KeyringFault> {
        match self.backend {
            Backend::File => Ok(()),
            Backend::SecretService => {
                if std::env::var_os("DBUS_SESSION_BUS_ADDRESS").is_none() {
                    return Err("no D-Bus session (DBUS_SESSION_BUS_ADDRESS is not set)".into());
                }
                match self.entry("probe")?.get_password() {
                    Ok(_) | Err(keyring::Error::NoEntry) => Ok(()),
                    Err(e) => Err(keyring_err(&e)),
                }
            }
            Backend::KernelKeyring => {
                let e = self.entry("probe")?;
                e.set_password("probe").map_err(|e| keyring_err(&e))?;
                let back = e.get_password().map_err(|e| keyring_err(&e))?;
                let _ = e.delete_credential();
                (back == "probe")
                    .then_some(())
                    .ok_or_else(|| "read back a different value".into())
            }
        }
    }

    fn record_backend(&self) -> Result<(), SecretsError> {
        std::fs::create_dir_all(&self.profile_dir)
            .map_err(|e| SecretsError::File(self.profile_dir.clone(), e.to_string()))?;
        let path = self.profile_dir.join(BACKEND_MARKER);
        std::fs::write(&path, self.backend.marker())
            .map_err(|e| SecretsError::File(path, e.to_string()))
    }

    pub fn get(&self, name: SecretName) -> Result<Option<Zeroizing<String>>, SecretsError> {
        match self.backend {
            Backend::File => Ok(self.read_file()?.remove(name.key())),
            b => match self.entry(name.key()).and_then(|e| match e.get_password() {
                Ok(v) => Ok(Some(Zeroizing::new(v))),
                Err(keyring::Error::NoEntry) => Ok(None),
                Err(e) => Err(keyring_err(&e)),
            }) {
                Ok(v) => Ok(v),
                Err(why) => Err(SecretsError::Backend("read", b.describe(), why.0)),
            },
        }
    }

    pub fn set(&self, name: SecretName, value: &str) -> Result<(), SecretsError> {
        self.record_backend()?;
        match self.backend {
            Backend::File => {
                let mut all = self.read_file()?;
                all.insert(name.key().to_owned(), Zeroizing::new(value.to_owned()));
                self.write_file(&all)
            }
            b => self
                .entry(name.key())
                .and_then(|e| e.set_password(value).map_err(|e| keyring_err(&e)))
                .map_err(|why| SecretsError::Backend("store", b.describe(), why.0)),
        }
    }

    /// Removes a secret; removing one that is not there is not an error.
    pub fn delete(&self, name: SecretName) -> Result<(), SecretsError> {
        match self.backend {
            Backend::File => {
                let mut all = self.read_file()?;
                if all.remove(name.key()).is_some() {
                    self.write_file(&all)?;
                }
                Ok(())
            }
            b => match self
                .entry(name.key())
                .and_then(|e| match e.delete_credential() {
                    Ok(()) | Err(keyring::Error::NoEntry) => Ok(()),
                    Err(e) => Err(keyring_err(&e)),
                }) {
                Ok(()) => Ok(()),
                Err(why) => Err(SecretsError::Backend("delete", b.describe(), why.0)),
            },
        }
    }

    fn file_path(&self) -> PathBuf {
        self.profile_dir.join(SECRETS_FILE)
    }

    fn read_file(&self) -> Result<BTreeMap<String, Zeroizing<String>>, SecretsError> {
        let path = self.file_path();
        let text = match std::fs::read(&path) {
            Ok(t) => Zeroizing::new(t),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(BTreeMap::new()),
            Err(e) => return Err(SecretsError::File(path, e.to_string())),
        };
        let map: BTreeMap<String, String> = serde_json::from_slice(&text)
            .map_err(|_| SecretsError::File(path, "not a keepsake secrets file".into()))?;
        Ok(map
            .into_iter()
            .map(|(k, v)| (k, Zeroizing::new(v)))
            .collect())
    }

    /// Writes atomically: a 0600 temporary file in the same directory, then
    /// a rename, so a crash leaves either the old or the new secrets.
    fn write_file(&self, all: &BTreeMap<String, Zeroizing<String>>) -> Result<(), SecretsError> {
        use std::os::unix::fs::OpenOptionsExt;
        let path = self.file_path();
        let err = |e: std::io::Error| SecretsError::File(path.clone(), e.to_string());
        std::fs::create_dir_all(&self.profile_dir).map_err(err)?;
        let plain: BTreeMap<&str, &str> =
            all.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let json = Zeroizing::new(
            serde_json::to_vec(&plain)
                .map_err(|e| SecretsError::File(path.clone(), e.to_string()))?,
        );
        let tmp = path.with_extension("json.tmp");
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .open(&tmp)
            .map_err(err)?;
        f.write_all(&json).map_err(err)?;
        f.sync_all().map_err(err)?;
        std::fs::rename(&tmp, &path).map_err(err)?;
        Ok(())
    }
}
