//! `kvmheartbeat.sh` (a symlink to nfsha) with the flag combinations the
//! CloudStack agent's Java uses: write `-i -p -m -h`, check
//! `-i -p -m -h peer -r -t 60`, fence `-i -p -m -c`.

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::Output;
use std::time::{Duration, Instant};

use common::hangfs::{Mode, Mounted};
use common::hb::{bin, write_config};

struct Env {
    tmp: tempfile::TempDir,
    script: PathBuf,
    config: PathBuf,
}

fn env(extra: &str) -> Env {
    let tmp = tempfile::tempdir().unwrap();
    let script = tmp.path().join("kvmheartbeat.sh");
    std::os::unix::fs::symlink(bin(), &script).unwrap();
    let run = tmp.path().join("run");
    let config = write_config(
        tmp.path(),
        "hb.toml",
        &format!(
            "host_id = \"h1\"\ninterval = \"200ms\"\nio_timeout = \"1s\"\nfence_after = \"3s\"\ntakeover_margin = \"1s\"\nrun_dir = \"{}\"\nfence_record_file = \"{}\"\n{extra}\n[cloudstack]\nio_timeout = \"3s\"\ninterval = \"200ms\"\ndead_after = \"2s\"\n",
            run.display(),
            run.join("fence.log").display()
        ),
    );
    Env {
        tmp,
        script,
        config,
    }
}

impl Env {
    fn run(&self, args: &[&str]) -> Output {
        run_script(&self.script, &self.config, args)
    }
    /// The call for one pool, as the agent's Java makes it:
    /// `-i 192.0.2.5 -p <export> -m <mount>`, then the mode's flags.
    fn pool(&self, export: &str, mount: &Path, mode: &[&str]) -> Output {
        run_script(&self.script, &self.config, &pool_args(export, mount, mode))
    }
    fn fence_log(&self) -> String {
        std::fs::read_to_string(self.tmp.path().join("run/fence.log")).unwrap_or_default()
    }
}

fn run_script(script: &Path, config: &Path, args: &[&str]) -> Output {
    std::process::Command::new(script)
        .args(args)
        .env("NFSHA_HEARTBEAT_CONFIG", config)
        .output()
        .unwrap()
}

fn pool_args<'a>(export: &'a str, mount: &'a Path, mode: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "-i",
        "192.0.2.5",
        "-p",
        export,
        "-m",
        mount.to_str().unwrap(),
    ];
    args.extend_from_slice(mode);
    args
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn write(e: &Env, mp: &Path, host: &str) -> Output {
    e.pool("/export/primary", mp, &["-h", host])
}

fn check(e: &Env, mp: &Path, host: &str) -> Output {
    e.pool("/export/primary", mp, &["-h", host, "-r", "-t", "60"])
}

/// `-c`: fence this host. It touches no storage, so the pool need not exist.
fn fence(e: &Env) -> Output {
    e.pool("/export", Path::new("/nonexistent"), &["-c"])
}

#[test]
fn write_mode_keeps_cloudstacks_decimal_file_and_adds_a_record() {
    need_fuse!();
    let e = env("");
    let fs = Mounted::new(&e.tmp.path().join("mnt"));
    let out = write(&e, &fs.path, "10.0.0.21");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(out.stdout.is_empty(), "silent on success, as the script");
    let legacy = std::fs::read_to_string(fs.path.join("KVMHA/hb-10.0.0.21")).unwrap();
    // What CloudStack's unmodified script does with it: $(cat) then expr.
    let digits = legacy.strip_suffix('\n').unwrap();
    assert!(digits.bytes().all(|b| b.is_ascii_digit()), "{legacy:?}");
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    assert!((now - digits.parse::<i64>().unwrap()).abs() <= 2);
    let rec = nfsha::heartbeat::record::Record::decode(
        &std::fs::read(fs.path.join("KVMHA/nfsha-hb-10.0.0.21")).unwrap(),
    )
    .unwrap();
    assert_eq!(rec.host, "10.0.0.21");
    // A host still running CloudStack's unmodified script reads it with this
    // (check_hbLog of kvmheartbeat.sh, current main).
    let hb_file = fs.path.join("KVMHA/hb-10.0.0.21");
    let out = std::process::Command::new("bash")
        .arg("-c")
        .arg(
            r#"now=$(date +%s); hb=$(cat "$1"); diff=`expr $now - $hb`
               if [ $diff -gt 60 ]; then echo "=====> DEAD [$diff] <======"; else echo "=====> ALIVE <====="; fi"#,
        )
        .arg("check_hbLog")
        .arg(&hb_file)
        .output()
        .unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out.stdout),
        "=====> ALIVE <=====\n"
    );
    let out2 = write(&e, &fs.path, "10.0.0.21");
    assert_eq!(out2.status.code(), Some(0));
    let rec2 = nfsha::heartbeat::record::Record::decode(
        &std::fs::read(fs.path.join("KVMHA/nfsha-hb-10.0.0.21")).unwrap(),
    )
    .unwrap();
    assert_eq!(rec2.seq, rec.seq + 1);
}

#[test]
fn unmounted_mount_point_is_reported_not_mounted_or_written() {
    let e = env("");
    let mp = e.tmp.path().join("empty");
    std::fs::create_dir_all(&mp).unwrap();
    for out in [write(&e, &mp, "10.0.0.21"), check(&e, &mp, "10.0.0.22")] {
        assert_eq!(out.status.code(), Some(1), "{}", text(&out));
        assert!(text(&out).contains("is not mounted"), "{}", text(&out));
        assert!(!text(&out).contains("ALIVE") && !text(&out).contains("DEAD"));
    }
    assert!(!mp.join("KVMHA").exists());
}

#[test]
fn hung_storage_answers_within_the_bound_in_every_mode() {
    need_fuse!();
    let e = env("");
    let fs = Mounted::new(&e.tmp.path().join("mnt"));
    write(&e, &fs.path, "10.0.0.22");
    fs.set(Mode::Block);
    let t = Instant::now();
    let out = write(&e, &fs.path, "10.0.0.21");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_eq!(out.status.code(), Some(1));
    assert!(
        text(&out).contains("Failed to write the heartbeat"),
        "{}",
        text(&out)
    );
    let t = Instant::now();
    let out = check(&e, &fs.path, "10.0.0.22");
    assert!(t.elapsed() < Duration::from_secs(5), "{:?}", t.elapsed());
    assert_ne!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        !text(&out).contains("ALIVE") && !text(&out).contains("DEAD"),
        "{}",
        text(&out)
    );
    // -c touches no storage: it answers at once even now.
    let t = Instant::now();
    let out = e.pool("/export/primary", &fs.path, &["-c"]);
    assert!(t.elapsed() < Duration::from_secs(2), "{:?}", t.elapsed());
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(
        e.fence_log()
            .contains(" reboot the CloudStack agent asked to fence"),
        "{}",
        e.fence_log()
    );
}

#[test]
fn check_reads_cloudstack_written_times_by_age_never_wrapped() {
    need_fuse!();
    let e = env("");
    let fs = Mounted::new(&e.tmp.path().join("mnt"));
    std::fs::create_dir_all(fs.path.join("KVMHA")).unwrap();
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let put = |age: i64| {
        std::fs::write(
            fs.path.join("KVMHA/hb-10.0.0.30"),
            format!("{}\n", now - age),
        )
        .unwrap()
    };
    put(5);
    let out = check(&e, &fs.path, "10.0.0.30");
    assert_eq!(
        (out.status.code(), text(&out).trim()),
        (Some(0), "=====> ALIVE <=====")
    );
    for age in [256i64, 300, 512] {
        put(age);
        let out = check(&e, &fs.path, "10.0.0.30");
        let t = text(&out);
        assert_eq!(out.status.code(), Some(0), "{t}");
        assert!(
            t.starts_with("=====> Considering host as DEAD because last write on ["),
            "{t}"
        );
        assert!(
            t.contains(&format!("] was [{age}] seconds ago"))
                || t.contains(&format!("] was [{}] seconds ago", age + 1)),
            "{t}"
        );
        assert!(
            t.trim_end()
                .ends_with("but the max interval is [60] <======"),
            "{t}"
        );
    }
    // Future-dated, missing and garbage are not ALIVE (and not DEAD).
    put(-3600);
    let out = check(&e, &fs.path, "10.0.0.30");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).starts_with("=====> UNKNOWN (neither alive nor dead)"),
        "{}",
        text(&out)
    );
    std::fs::write(fs.path.join("KVMHA/hb-10.0.0.30"), "garbage\n").unwrap();
    assert_eq!(check(&e, &fs.path, "10.0.0.30").status.code(), Some(3));
    let out = check(&e, &fs.path, "10.0.0.99");
    assert_eq!(out.status.code(), Some(3));
    assert!(!text(&out).contains("DEAD"), "{}", text(&out));
}

#[test]
fn check_judges_nfsha_records_by_change_never_by_age() {
    need_fuse!();
    let e = env("");
    let fs = Mounted::new(&e.tmp.path().join("mnt"));
    // The peer writes every 200 ms through the drop-in.
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    // When the writer's last write had finished: no check can see a change
    // before it, so DEAD must come at least dead_after later.
    let last_write = std::sync::Arc::new(std::sync::Mutex::new(Instant::now()));
    let (s, lw, script, config, mp) = (
        stop.clone(),
        last_write.clone(),
        e.script.clone(),
        e.config.clone(),
        fs.path.clone(),
    );
    let writer = std::thread::spawn(move || {
        while !s.load(std::sync::atomic::Ordering::SeqCst) {
            run_script(
                &script,
                &config,
                &pool_args("/x", &mp, &["-h", "10.0.0.40"]),
            );
            *lw.lock().unwrap() = Instant::now();
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    let t = Instant::now();
    while !fs.path.join("KVMHA/nfsha-hb-10.0.0.40").exists() {
        assert!(
            t.elapsed() < Duration::from_secs(10),
            "the writer never wrote"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    let out = check(&e, &fs.path, "10.0.0.40");
    assert_eq!(
        (out.status.code(), text(&out).trim()),
        (Some(0), "=====> ALIVE <=====")
    );
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.join().unwrap();
    let stopped = Instant::now();
    // This look may still see the last write as a change since the previous
    // call (the change is dated to when it is seen: the safe side).
    check(&e, &fs.path, "10.0.0.40");
    // The decimal time is still fresh (< 60 s), but nothing changes any more:
    // past the alive window (2 intervals + io_timeout, 3.4 s) it is not ALIVE,
    // and it is DEAD only once no change was seen for dead_after (12 s here,
    // the larger of ours and the writer's), over as many agent calls as it takes.
    std::thread::sleep(Duration::from_secs(4));
    let out = check(&e, &fs.path, "10.0.0.40");
    assert_eq!(out.status.code(), Some(3), "{}", text(&out));
    assert!(
        text(&out).starts_with("=====> UNKNOWN (neither alive nor dead)"),
        "{}",
        text(&out)
    );
    let dead = loop {
        let out = e.pool("/x", &fs.path, &["-h", "10.0.0.40", "-r", "-t", "3"]);
        let t = text(&out);
        assert!(!t.contains("ALIVE"), "{t}");
        if t.contains("DEAD") {
            assert_eq!(out.status.code(), Some(0));
            break t;
        }
        assert!(
            stopped.elapsed() < Duration::from_secs(30),
            "never DEAD: {t}"
        );
    };
    let since_last_write = last_write.lock().unwrap().elapsed();
    assert!(
        since_last_write >= Duration::from_secs(12),
        "DEAD {since_last_write:?} after the last write, before dead_after (12 s)"
    );
    assert!(dead.contains("KVMHA/nfsha-hb-10.0.0.40] was ["), "{dead}");
    assert!(
        dead.trim_end()
            .ends_with("but the max interval is [12] <======"),
        "{dead}"
    );
}

#[test]
fn fence_runs_the_configured_action_not_sysrq() {
    let e = env("fence_action = \"log-only\"");
    let out = fence(&e);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(text(&out).contains("host NOT fenced"), "{}", text(&out));
    assert_eq!(e.fence_log(), "");

    let marker = e.tmp.path().join("restarted");
    let e2 = env(&format!(
        "fence_action = \"restart-agent\"\nrestart_agent_command = [\"touch\", \"{}\"]",
        marker.display()
    ));
    let out = fence(&e2);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(marker.exists());

    // A staged fence is handed over (it must outlive -c): wait for it.
    let e3 = env("fence_action = \"graceful-reboot\"\nescalate_after = \"1s\"");
    let out = fence(&e3);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    let t = Instant::now();
    while e3.fence_log().lines().count() < 2 && t.elapsed() < Duration::from_secs(60) {
        std::thread::sleep(Duration::from_millis(50));
    }
    let log = e3.fence_log();
    let lines: Vec<_> = log.lines().collect();
    assert_eq!(lines.len(), 2, "{log}");
    assert!(
        lines[0].contains("graceful-reboot systemctl reboot"),
        "{log}"
    );
    assert!(
        lines[1].contains("reboot graceful reboot did not finish within escalate_after"),
        "{log}"
    );
}

#[test]
fn missing_server_address_exits_1_like_the_script() {
    let e = env("");
    let out = e.run(&["-p", "/export", "-m", "/mnt/x", "-h", "10.0.0.1"]);
    assert_eq!(out.status.code(), Some(1));
    let out = e.run(&["-z"]);
    assert_eq!(out.status.code(), Some(1));
    assert!(text(&out).contains("usage: kvmheartbeat.sh"));
}
