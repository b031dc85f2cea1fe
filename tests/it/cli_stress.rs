//! Every headless command, run many times over: none ever prints a panic
//! (a worker cut off mid-write by the runtime's shutdown did, about one run
//! in ten) and each exits 0.
use crate::common;

fn no_panic(r: &common::Run, what: &str) {
    assert_eq!(r.code, 0, "{what}: {}", r.stderr);
    for text in [&r.stderr, &r.stdout] {
        assert!(
            !text.contains("panicked") && !text.contains("Cancelled"),
            "{what}: {text}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_headless_command_fifty_times_without_a_panic() {
    const RUNS: usize = 50;
    let hs = common::homeserver();
    let alice = hs.register("stress").await;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().to_owned();
    common::use_file_secrets(&data);
    // Two profiles, one per thread (a profile is open in one process at a
    // time), each running half the runs.
    for p in ["s1", "s2"] {
        common::login(&data, p, &hs, &alice);
    }
    common::setup_backup(&data, "s1");
    let room = common::ok_json(&data, "s1", &["create-room", "Stress", "--json"], "")["room_id"]
        .as_str()
        .unwrap()
        .to_owned();
    let threads: Vec<_> = ["s1", "s2"]
        .into_iter()
        .map(|p| {
            let (data, room, hs_url) = (data.clone(), room.clone(), hs.url.clone());
            let user = alice.user_id.clone();
            let password = alice.password.clone();
            std::thread::spawn(move || {
                let run = |args: &[&str], stdin: &str| {
                    let r = common::keepsake(&data, Some(p), args, stdin);
                    no_panic(&r, &format!("{p} {args:?}"));
                };
                for n in 0..RUNS / 2 {
                    run(&["whoami"], "");
                    run(&["rooms"], "");
                    run(&["backup", "status"], "");
                    run(&["sync", "--once"], "");
                    run(&["send", &room, &format!("{p} message {n}")], "");
                    run(&["history", &room, "--limit", "3"], "");
                    // A profile of its own logs in and out.
                    let lp = format!("{p}-login");
                    let r = common::keepsake(
                        &data,
                        Some(&lp),
                        &[
                            "login",
                            "--homeserver",
                            &hs_url,
                            "--user",
                            &user,
                            "--password-stdin",
                        ],
                        &password,
                    );
                    no_panic(&r, &format!("{lp} login"));
                    let r = common::keepsake(&data, Some(&lp), &["logout"], "");
                    no_panic(&r, &format!("{lp} logout"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().expect("a stress thread");
    }
}
