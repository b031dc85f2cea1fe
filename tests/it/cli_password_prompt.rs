//! The password prompt as a person meets it: keepsake runs in a real terminal
//! (tmux), asks for the password, does not echo it, and logs in.
use crate::common;

use crate::common::tmux::Tmux;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn login_asks_for_the_password_without_echo() {
    let hs = common::homeserver();
    let user = hs.register("carol").await;
    let dir = tempfile::tempdir().unwrap();
    let bin = env!("CARGO_BIN_EXE_keepsake");
    let cmd = format!(
        "env -u DBUS_SESSION_BUS_ADDRESS {bin} --data-dir {} login --homeserver {} --user {}; echo EXIT=$?; sleep 600",
        dir.path().display(),
        hs.url,
        user.localpart
    );
    let tmux = Tmux::start(120, 20, &cmd);
    tmux.wait_for("Password:");
    tmux.run(&["send-keys", "-t", "t", "-l", &user.password]);
    tmux.run(&["send-keys", "-t", "t", "Enter"]);
    let screen = tmux.wait_for("EXIT=");
    assert!(
        screen.contains(&format!("logged in as {}", user.user_id)),
        "{screen}"
    );
    assert!(screen.contains("EXIT=0"), "{screen}");
    assert!(
        !screen.contains(&user.password),
        "the password was echoed:\n{screen}"
    );
}

#[test]
fn without_a_terminal_it_points_to_password_stdin() {
    let dir = tempfile::tempdir().unwrap();
    let r = common::keepsake(
        dir.path(),
        None,
        &["login", "--homeserver", "http://127.0.0.1:1", "--user", "x"],
        "",
    );
    assert_eq!(r.code, common::exit(keepsake::error::ErrorKind::Invalid));
    assert_eq!(
        r.stderr,
        "keepsake: no terminal to ask for the password on; pass it on standard input with --password-stdin\n"
    );
}
