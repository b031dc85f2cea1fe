//! Benchmark parts in their own processes, so each side's peak memory is its
//! own: the benchmark runs itself again with `KEEPSAKE_BENCH_PART` set, the
//! part prepares (not measured), resets the kernel's peak-RSS mark, does the
//! measured work, and prints its time and peak RSS on one line.

use std::io::Write;
use std::time::Duration;

use serde_json::{Value, json};

const VAR: &str = "KEEPSAKE_BENCH_PART";
const PREFIX: &str = "bench-part ";

/// The part this process is to run, if it is one.
pub fn part() -> Option<String> {
    std::env::var(VAR).ok()
}

/// What a part measured.
#[derive(Debug, Clone, Copy)]
pub struct Measured {
    pub took: Duration,
    pub peak_rss_mib: f64,
}

/// Runs `name` as a child process (this benchmark again), with `input` on
/// its stdin; returns its measurement and the extra fields it reported.
pub fn run_part(name: &str, input: &Value) -> (Measured, Value) {
    let exe = std::env::current_exe().unwrap();
    let mut child = std::process::Command::new(exe)
        .args(std::env::args().skip(1))
        .env(VAR, name)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(input.to_string().as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "part {name} failed: {stdout}");
    let line = stdout
        .lines()
        .rev()
        .find_map(|l| l.strip_prefix(PREFIX))
        .unwrap_or_else(|| panic!("part {name} reported nothing: {stdout}"));
    let v: Value = serde_json::from_str(line).unwrap();
    let m = Measured {
        took: Duration::from_secs_f64(v["seconds"].as_f64().unwrap()),
        peak_rss_mib: v["peak_rss_mib"].as_f64().unwrap(),
    };
    (m, v)
}

/// The input a part was given.
pub fn input() -> Value {
    let mut text = String::new();
    std::io::Read::read_to_string(&mut std::io::stdin(), &mut text).unwrap();
    serde_json::from_str(&text).unwrap()
}

/// The CPU time process `pid` used so far (user + system), in clock ticks.
pub fn cpu_ticks(pid: u32) -> u64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap();
    // The fields after the command name (which may hold spaces).
    let rest = &stat[stat.rfind(')').unwrap() + 2..];
    let f: Vec<&str> = rest.split_whitespace().collect();
    f[11].parse::<u64>().unwrap() + f[12].parse::<u64>().unwrap()
}

/// Waits until the background work of the setup is over (this process used
/// under 2% of a core for 500 ms), at most 30 s. A key import makes
/// matrix-sdk's event cache retry decryption for every imported session in
/// a task of its own, which would otherwise run inside the timed part.
pub async fn settle() {
    let give_up = std::time::Instant::now() + Duration::from_secs(30);
    let me = std::process::id();
    let mut last = cpu_ticks(me);
    while std::time::Instant::now() < give_up {
        tokio::time::sleep(Duration::from_millis(500)).await;
        let now = cpu_ticks(me);
        // 100 ticks a second: 1 tick in 500 ms is 2% of a core.
        if now - last <= 1 {
            return;
        }
        last = now;
    }
    eprintln!("bench: the setup's background work did not settle in 30 s");
}

/// The machine's busy and total CPU time so far, in ticks (`/proc/stat`).
fn machine_ticks() -> (u64, u64) {
    let stat = std::fs::read_to_string("/proc/stat").unwrap();
    let cpu: Vec<u64> = stat
        .lines()
        .next()
        .unwrap()
        .split_whitespace()
        .skip(1)
        .map(|v| v.parse().unwrap())
        .collect();
    let total: u64 = cpu.iter().sum();
    // idle and iowait are not work.
    (total - cpu[3] - cpu.get(4).copied().unwrap_or(0), total)
}

/// Waits until the whole machine is quiet (under 10% of its CPU busy over
/// a second), at most 60 s, before a timed part: Synapse and its database
/// can work on after answering a seeding, and a timed part should not share
/// the two cores with that. It does not wait for what has not started yet
/// (PostgreSQL's autovacuum comes up to a minute after the rows). Under
/// `cargo test` (no `--bench`), where nothing is timed, it does not wait.
pub async fn quiet() {
    if !std::env::args().any(|a| a == "--bench") {
        return;
    }
    let give_up = std::time::Instant::now() + Duration::from_secs(60);
    let mut last = machine_ticks();
    while std::time::Instant::now() < give_up {
        tokio::time::sleep(Duration::from_secs(1)).await;
        let now = machine_ticks();
        let (busy, total) = (now.0 - last.0, now.1 - last.1);
        if total > 0 && busy * 10 < total {
            return;
        }
        last = now;
    }
    eprintln!("bench: the machine did not quieten in 60 s");
}

/// Forgets the peak RSS so far (Linux: `clear_refs` 5), so the peak read
/// by [`report`] is that of what follows.
pub fn reset_peak() {
    std::fs::write("/proc/self/clear_refs", "5").unwrap();
}

/// The peak RSS since the last reset, MiB.
pub fn peak_rss_mib() -> f64 {
    let status = std::fs::read_to_string("/proc/self/status").unwrap();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    kib / 1024.0
}

/// Prints what this part measured, for [`run_part`].
pub fn report(took: Duration, extra: Value) {
    let mut v = json!({"seconds": took.as_secs_f64(), "peak_rss_mib": peak_rss_mib()});
    if let (Some(o), Value::Object(e)) = (v.as_object_mut(), extra) {
        o.extend(e);
    }
    println!("{PREFIX}{v}");
}

/// The line `scripts/bench-chart` reads: one benchmark's figures.
pub fn result_line(
    bench: &str,
    sessions: usize,
    keepsake: Measured,
    sdk: Measured,
    limit: (&str, Duration),
) -> String {
    let db = std::env::var("KEEPSAKE_TEST_SYNAPSE_DB").unwrap_or_else(|_| "sqlite".to_owned());
    let date = std::process::Command::new("date")
        .arg("+%F")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_default();
    let round = |x: f64| (x * 1000.0).round() / 1000.0;
    let v = json!({
        "bench": bench,
        "sessions": sessions,
        "db": db,
        "date": date,
        "keepsake": {"seconds": round(keepsake.took.as_secs_f64()), "peak_rss_mib": keepsake.peak_rss_mib.round()},
        "matrix_sdk": {"seconds": round(sdk.took.as_secs_f64()), "peak_rss_mib": sdk.peak_rss_mib.round()},
        "limit": {"name": limit.0, "seconds": round(limit.1.as_secs_f64())},
    });
    format!("bench-result {v}")
}

/// `KEEPSAKE_BENCH_PERF=FILE`: the measured work of a part is profiled by
/// `perf record` attached to this process (stopped when this is dropped),
/// for work that runs in the benchmark's own process.
pub struct Profiler(std::process::Child);

pub fn profile() -> Option<Profiler> {
    let file = std::env::var("KEEPSAKE_BENCH_PERF").ok()?;
    let child = std::process::Command::new("perf")
        .args([
            "record",
            "-F",
            "999",
            "--call-graph",
            "dwarf,16384",
            "-o",
            &file,
            "-p",
        ])
        .arg(std::process::id().to_string())
        .stdout(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // perf needs a moment to attach before the work starts.
    std::thread::sleep(Duration::from_millis(500));
    Some(Profiler(child))
}

impl Drop for Profiler {
    fn drop(&mut self) {
        let _ = std::process::Command::new("kill")
            .args(["-INT", &self.0.id().to_string()])
            .status();
        let _ = self.0.wait();
    }
}

/// Waits for `child` (its stdout and stderr read to the end) and returns
/// its output with its own peak RSS in KiB, read from its
/// `/proc/PID/status` (`VmHWM`, which only grows) every 10 ms while it
/// runs. Not `wait4`'s `ru_maxrss`: a child spawned (vfork, exec) from this
/// process inherits this process's peak there, and the benchmark holds the
/// seeded sessions (that read 360 MiB for a restore whose own peak,
/// measured by `/usr/bin/time`, was 156 MiB).
pub fn wait_with_peak_rss(mut child: std::process::Child) -> (std::process::Output, i64) {
    use std::io::Read;
    let drain = |r: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut r) = r {
                let _ = r.read_to_end(&mut buf);
            }
            buf
        })
    };
    let out = drain(
        child
            .stdout
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let err = drain(
        child
            .stderr
            .take()
            .map(|s| Box::new(s) as Box<dyn Read + Send>),
    );
    let status_file = format!("/proc/{}/status", child.id());
    let hwm = || -> Option<i64> {
        let text = std::fs::read_to_string(&status_file).ok()?;
        text.lines()
            .find_map(|l| l.strip_prefix("VmHWM:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
    };
    let mut peak = 0;
    let status = loop {
        if let Some(kib) = hwm() {
            peak = peak.max(kib);
        }
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        std::thread::sleep(Duration::from_millis(10));
    };
    let output = std::process::Output {
        status,
        stdout: out.join().unwrap(),
        stderr: err.join().unwrap(),
    };
    (output, peak)
}
