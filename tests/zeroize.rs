//! Every copy of a secret is wiped before its memory is given back.
//!
//! An allocator that looks into each block as it is freed: while the test
//! runs, no freed block may hold a piece of the recovery key (spaced or
//! compact), the backup key (raw or base64) or the passphrase. It finds
//! what `Zeroizing` misses, above all a `String` or `Vec` that grew by
//! reallocating and freed its old buffer unwiped.

// Test and benchmark code may stop at the first surprise.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::OnceLock;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};
use keepsake::app::{self, Msg, fixtures};
use keepsake::crypto::backup::BackupKey;
use keepsake::crypto::{SecretKey, passphrase, recovery_key};
use zeroize::Zeroizing;

struct Watching;

static ARMED: AtomicBool = AtomicBool::new(false);
static FOUND: AtomicUsize = AtomicUsize::new(0);
/// Which pattern was found first (its index + 1).
static FIRST: AtomicUsize = AtomicUsize::new(0);
/// Set before arming and never freed.
static PATTERNS: OnceLock<Vec<Vec<u8>>> = OnceLock::new();

unsafe impl GlobalAlloc for Watching {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if ARMED.load(Ordering::SeqCst)
            && let Some(patterns) = PATTERNS.get()
        {
            // SAFETY: the block is still ours until `System.dealloc`.
            let block = unsafe { std::slice::from_raw_parts(ptr, layout.size()) };
            for (i, p) in patterns.iter().enumerate() {
                if block.windows(p.len()).any(|w| w == p.as_slice()) {
                    FOUND.fetch_add(1, Ordering::SeqCst);
                    let _ = FIRST.compare_exchange(0, i + 1, Ordering::SeqCst, Ordering::SeqCst);
                }
            }
        }
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOC: Watching = Watching;

const PASSPHRASE: &str = "zebra-oboe-quantum-77";

/// A string built without reallocation, wiped on drop: the test's own
/// copies must not be what is found.
fn owned(parts: &[&str]) -> Zeroizing<String> {
    let mut s = Zeroizing::new(String::with_capacity(512));
    for p in parts {
        s.push_str(p);
    }
    s
}

fn key(code: KeyCode) -> Msg {
    Msg::Key(KeyEvent::new(code, KeyModifiers::NONE))
}

#[test]
fn no_secret_is_left_in_freed_memory() {
    let raw: [u8; 32] = std::array::from_fn(|i| (i as u8).wrapping_mul(37).wrapping_add(11));
    let spaced = recovery_key::encode(&SecretKey::from_bytes(raw));
    let compact = owned(&[&spaced.split_whitespace().collect::<Vec<_>>().concat()]);
    let b64 = BackupKey::new(SecretKey::from_bytes(raw)).to_base64();
    let patterns = vec![
        compact.as_bytes()[8..16].to_vec(),
        spaced.as_bytes()[10..19].to_vec(),
        b64.as_bytes()[8..16].to_vec(),
        raw[8..16].to_vec(),
        PASSPHRASE.as_bytes()[..10].to_vec(),
    ];
    let names = [
        "recovery key (compact)",
        "recovery key (spaced)",
        "backup key (base64)",
        "backup key (raw)",
        "passphrase",
    ];
    PATTERNS.set(patterns).unwrap();
    let mut leaks: Vec<(&str, usize, usize)> = Vec::new();
    let mut step = |name: &'static str, f: &mut dyn FnMut()| {
        let before = FOUND.load(Ordering::SeqCst);
        FIRST.store(0, Ordering::SeqCst);
        ARMED.store(true, Ordering::SeqCst);
        f();
        ARMED.store(false, Ordering::SeqCst);
        let n = FOUND.load(Ordering::SeqCst) - before;
        if n > 0 {
            leaks.push((name, n, FIRST.load(Ordering::SeqCst)));
        }
    };

    step("decoding a spaced recovery key", &mut || {
        drop(recovery_key::decode(&spaced).unwrap())
    });
    step("decoding a compact recovery key", &mut || {
        drop(recovery_key::decode(&compact).unwrap())
    });
    step("the backup key in base64, both ways", &mut || {
        let k = BackupKey::from_base64(&b64).unwrap();
        drop(k.to_base64());
    });
    step("a passphrase turned into a key", &mut || {
        let info = passphrase::PassphraseInfo {
            algorithm: "m.pbkdf2".into(),
            salt: "saltsaltsalt".into(),
            iterations: 10,
            bits: None,
        };
        drop(passphrase::derive(PASSPHRASE, &info).unwrap());
    });
    let line = owned(&["my key is ", &spaced, " and ", PASSPHRASE]);
    step("the composer's guard finding a recovery key", &mut || {
        assert!(app::guard::holds_recovery_key(&line))
    });
    step(
        "the composer's guard finding a typed passphrase",
        &mut || {
            let mut typed = app::guard::TypedSecrets::default();
            typed.remember(PASSPHRASE);
            assert!(typed.found_in(&line));
        },
    );
    let mut st = fixtures::in_room();
    step("a recovery key typed into the unlock prompt", &mut || {
        st.prompt = Some(app::state::Prompt {
            purpose: app::state::PromptFor::RecoveryUnlock,
            input: app::input::TextInput::masked(),
        });
        for c in spaced.chars() {
            app::update(&mut st, key(KeyCode::Char(c)));
        }
        drop(app::update(&mut st, key(KeyCode::Enter)));
        st.prompt = None;
    });
    let paste = owned(&["my key ", &spaced]);
    step("a recovery key pasted into the composer", &mut || {
        st.focus = app::state::Focus::Composer;
        drop(app::update(&mut st, Msg::Paste(paste.as_str().to_owned())));
        drop(app::update(&mut st, key(KeyCode::Enter)));
        st.prompt = None;
    });
    drop(st);

    let said: Vec<String> = leaks
        .iter()
        .map(|(step, n, first)| {
            format!(
                "{step}: {n} blocks (first: {})",
                names[first.saturating_sub(1)]
            )
        })
        .collect();
    assert!(
        said.is_empty(),
        "secrets left in freed memory:\n{}",
        said.join("\n")
    );
}
