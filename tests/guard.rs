//! `nfsha guard`: deadlines for NAS jobs (the whole process group killed,
//! SIGKILL after the grace for a job that ignores SIGTERM, cleanup run, a
//! child stuck in D state on a hung mount abandoned) and the limits that keep
//! a backup from starving production VMs (CloudStack PR #12846): a real `dd`
//! with O_DIRECT on a loop device, throttled by the cgroup io controller
//! wherever this host keeps it (this machine: cgroup v1 blkio; the lab
//! guests: v2 io.max), and the idle I/O class as ionice(1) reads it.
//!
//! Time bounds: the throughput assertions are the behaviour (within 15 % of
//! the limit, measured by dd itself); a watchdog of 60 s only stops a guard
//! that would otherwise hang the suite, and fails the test when it fires.

#[macro_use]
mod common;

use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::time::Duration;

use common::hangfs::{Mode, Mounted};
use common::hb::{bin, nfsha};

fn procs_with_arg(arg: &str) -> usize {
    std::fs::read_dir("/proc")
        .unwrap()
        .filter_map(|e| std::fs::read(e.ok()?.path().join("cmdline")).ok())
        .filter(|c| c.split(|&b| b == 0).any(|a| a == arg.as_bytes()))
        .count()
}

fn err(o: &Output) -> String {
    String::from_utf8_lossy(&o.stderr).into_owned()
}

/// `nfsha guard ARGS`, stopped (and the test failed) if it has not ended
/// after 60 s: a guard that waits for a stuck child would hang forever.
fn guard(args: &[&str]) -> Output {
    let child = Command::new(bin())
        .arg("guard")
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id() as i32;
    let done = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let d = done.clone();
    let watchdog = std::thread::spawn(move || {
        for _ in 0..600 {
            if d.load(std::sync::atomic::Ordering::SeqCst) {
                return false;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        unsafe { libc::kill(pid, libc::SIGKILL) };
        true
    });
    let out = child.wait_with_output().unwrap();
    done.store(true, std::sync::atomic::Ordering::SeqCst);
    assert!(
        !watchdog.join().unwrap(),
        "guard did not end by itself: {}",
        err(&out)
    );
    out
}

/// A loop device over a sparse file, detached on drop.
struct Loop {
    dev: String,
    _tmp: tempfile::TempDir,
}

impl Loop {
    fn new(mib: u64) -> Loop {
        common::require_root();
        common::require("losetup", "util-linux");
        let tmp = tempfile::tempdir().unwrap();
        let img = tmp.path().join("disk.img");
        std::fs::File::create(&img)
            .unwrap()
            .set_len(mib << 20)
            .unwrap();
        let dev = common::run_ok("losetup", &["--find", "--show", img.to_str().unwrap()])
            .trim()
            .to_string();
        Loop { dev, _tmp: tmp }
    }
}

impl Drop for Loop {
    fn drop(&mut self) {
        let _ = common::run("losetup", &["-d", &self.dev]);
    }
}

/// dd's own measurement: bytes and seconds from its last stderr line
/// ("25165824 bytes (25 MB, 24 MiB) copied, 3.00123 s, 8.4 MB/s").
fn dd_rate(stderr: &str) -> f64 {
    let line = stderr
        .lines()
        .rev()
        .find(|l| l.contains(" bytes ") && l.contains(" copied, "))
        .unwrap_or_else(|| panic!("no dd summary in {stderr:?}"));
    let bytes: f64 = line.split_whitespace().next().unwrap().parse().unwrap();
    let secs: f64 = line
        .split(" copied, ")
        .nth(1)
        .and_then(|r| r.split(" s,").next())
        .and_then(|s| s.trim().replace(',', ".").parse().ok())
        .unwrap_or_else(|| panic!("no seconds in {line:?}"));
    bytes / secs
}

/// The throughput tests run one at a time: they measure, and a second dd
/// competing for the two CPUs of a loaded machine only slows the first.
static MEASURING: std::sync::Mutex<()> = std::sync::Mutex::new(());

fn within_15_percent(rate: f64, limit: f64, what: &str) {
    let ratio = rate / limit;
    assert!(
        (0.85..=1.15).contains(&ratio),
        "{what}: {:.2} MiB/s against a limit of {:.2} MiB/s ({:.0} %)",
        rate / 1048576.0,
        limit / 1048576.0,
        ratio * 100.0
    );
}

#[test]
fn exit_codes_pass_through() {
    assert_eq!(
        guard(&["--timeout", "10s", "--", "true"]).status.code(),
        Some(0)
    );
    assert_eq!(
        guard(&["--timeout", "10s", "--", "false"]).status.code(),
        Some(1)
    );
    let out = guard(&["--timeout", "10s", "--", "/nonexistent/prog"]);
    assert_eq!(out.status.code(), Some(125));
    assert!(err(&out).contains("cannot run `/nonexistent/prog`"));
    let out = nfsha(&["guard", "--timeout=-5s", "--", "true"]);
    assert_eq!(out.status.code(), Some(2));
    assert!(err(&out).contains("negative"));
}

#[test]
fn the_whole_group_is_killed_at_the_deadline_and_cleanup_runs() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("cleaned up");
    let cleanup = format!("touch '{}'", marker.display());
    let out = guard(&[
        "--timeout",
        "1s",
        "--kill-grace",
        "500ms",
        "--on-timeout",
        &cleanup,
        "--",
        "sh",
        "-c",
        "sleep 61.25 & sleep 61.25; wait",
    ]);
    let e = err(&out);
    assert_eq!(out.status.code(), Some(124), "{e}");
    assert!(e.contains("did not finish within 1s"), "{e}");
    assert!(e.contains("killed after"), "{e}");
    assert!(!e.contains("SIGKILL"), "SIGTERM was enough: {e}");
    assert!(marker.exists(), "cleanup ran: {e}");
    assert_eq!(
        procs_with_arg("61.25"),
        0,
        "background child of the job killed too"
    );
}

#[test]
fn a_job_that_ignores_sigterm_gets_sigkill_after_the_grace() {
    let out = guard(&[
        "--timeout",
        "500ms",
        "--kill-grace",
        "300ms",
        "--",
        "sh",
        "-c",
        "trap '' TERM; sleep 62.5 & wait; wait",
    ]);
    let e = err(&out);
    assert_eq!(out.status.code(), Some(124), "{e}");
    assert!(e.contains("sending SIGTERM to its process group"), "{e}");
    assert!(e.contains("still running after 300ms: SIGKILL"), "{e}");
    assert_eq!(procs_with_arg("62.5"), 0, "the group is gone: {e}");
}

#[test]
fn a_child_stuck_on_a_hung_mount_is_abandoned_not_waited_for() {
    need_fuse!();
    let tmp = tempfile::tempdir().unwrap();
    let fs = Mounted::new(&tmp.path().join("mnt"));
    std::fs::write(fs.path.join("backup.img"), b"data").unwrap();
    fs.set(Mode::Block);
    let out = guard(&[
        "--timeout",
        "1s",
        "--kill-grace",
        "300ms",
        "--",
        "cat",
        fs.path.join("backup.img").to_str().unwrap(),
    ]);
    let e = err(&out);
    assert_eq!(out.status.code(), Some(124), "{e}");
    assert!(e.contains("stuck in the kernel"), "{e}");
    fs.set(Mode::Normal);
}

#[test]
fn the_idle_io_class_reaches_the_whole_job() {
    common::require("ionice", "util-linux");
    // ionice(1) with no argument prints its own class (ioprio_get); one
    // in the job, one in a grandchild.
    let out = guard(&[
        "--timeout",
        "30s",
        "--io-class",
        "idle",
        "--",
        "sh",
        "-c",
        "ionice; sh -c ionice",
    ]);
    assert_eq!(out.status.code(), Some(0), "{}", err(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout), "idle\nidle\n");
    assert!(
        err(&out).contains("limits: I/O class idle"),
        "{}",
        err(&out)
    );
    // guard itself is not left idle, nor the commands run after it.
    let out = guard(&["--timeout", "30s", "--", "ionice"]);
    assert_ne!(String::from_utf8_lossy(&out.stdout), "idle\n");
    let out = nfsha(&[
        "guard",
        "--timeout",
        "1s",
        "--io-class",
        "realtime",
        "--",
        "true",
    ]);
    assert_eq!(out.status.code(), Some(2), "{}", err(&out));
}

/// Where this host keeps the io controller, for the messages.
fn io_hierarchy() -> String {
    let h = nfsha::guard::cgroup::detect(
        &std::fs::read_to_string("/proc/self/mountinfo").unwrap(),
        |p: &Path| std::fs::read_to_string(p.join("cgroup.controllers")).ok(),
    );
    h.io().map(|p| p.describe()).unwrap_or_else(|e| e)
}

#[test]
fn write_bandwidth_is_capped_on_a_real_block_device() {
    let _one = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let lo = Loop::new(64);
    let limit = 8u64 << 20;
    let out = guard(&[
        "--timeout",
        "60s",
        "--write-bps",
        &format!("{}=8M", lo.dev),
        "--",
        "dd",
        "if=/dev/zero",
        &format!("of={}", lo.dev),
        "bs=256k",
        "count=96",
        "oflag=direct",
    ]);
    let e = err(&out);
    assert_eq!(out.status.code(), Some(0), "{e}");
    assert!(
        e.contains("limits: ") && e.contains("=8M ≤ 8388608 B/s in cgroup"),
        "{e}"
    );
    within_15_percent(
        dd_rate(&e),
        limit as f64,
        &format!("write through {}", io_hierarchy()),
    );
    // Unthrottled, the same dd is far faster: the limit is what held it.
    let free = Command::new("dd")
        .args([
            "if=/dev/zero",
            &format!("of={}", lo.dev),
            "bs=256k",
            "count=96",
            "oflag=direct",
        ])
        .output()
        .unwrap();
    assert!(dd_rate(&err(&free)) > 2.0 * limit as f64, "{}", err(&free));
}

/// Shell for the job: print `FILE=VALUE` for the CPU setting of each
/// cgroup it is in (v2's cpu.weight, v1's cpu.shares, wherever mounted).
const READ_CPU_SETTING: &str = r#"for p in $(cut -d: -f3 /proc/self/cgroup | sort -u); do for f in /sys/fs/cgroup$p/cpu.weight /sys/fs/cgroup/unified$p/cpu.weight /sys/fs/cgroup/cpu$p/cpu.shares /sys/fs/cgroup/cpu,cpuacct$p/cpu.shares; do [ "$p" != / ] && [ -f "$f" ] && echo "$f=$(cat "$f")"; done; done; true"#;

#[test]
fn read_bandwidth_is_capped_and_the_job_is_in_its_own_cgroup() {
    let _one = MEASURING.lock().unwrap_or_else(|e| e.into_inner());
    let lo = Loop::new(64);
    let limit = 6u64 << 20;
    let out = guard(&[
        "--timeout",
        "60s",
        "--read-bps",
        &format!("{}=6M", lo.dev),
        "--cpu-weight",
        "50",
        "--",
        "sh",
        "-c",
        &format!(
            "cat /proc/self/cgroup; dd if={} of=/dev/null bs=256k count=72 iflag=direct; {READ_CPU_SETTING}",
            lo.dev
        ),
    ]);
    let e = err(&out);
    assert_eq!(out.status.code(), Some(0), "{e}");
    within_15_percent(
        dd_rate(&e),
        limit as f64,
        &format!("read through {}", io_hierarchy()),
    );
    let cg = String::from_utf8_lossy(&out.stdout);
    assert!(cg.contains("/nfsha-guard/job-"), "{cg}");
    assert!(e.contains("CPU weight 50 in cgroup"), "{e}");
    // The weight is in the job's own cgroup, read by the job itself: 50 as
    // cgroup v2's cpu.weight, or v1's cpu.shares scaled as systemd does
    // (50 × 1024 / 100 = 512).
    let setting: Vec<&str> = cg
        .lines()
        .filter(|l| l.contains("/nfsha-guard/job-") && l.contains("/cpu."))
        .collect();
    assert!(
        !setting.is_empty(),
        "no CPU setting in the job's cgroup: {cg}"
    );
    for l in setting {
        assert!(
            l.ends_with("/cpu.shares=512") || l.ends_with("/cpu.weight=50"),
            "{l}"
        );
    }
    // The job's cgroups are removed afterwards.
    let job = cg
        .lines()
        .find_map(|l| l.split_once("/nfsha-guard/").map(|(_, j)| j.to_string()))
        .unwrap();
    for root in [
        "/sys/fs/cgroup",
        "/sys/fs/cgroup/blkio",
        "/sys/fs/cgroup/unified",
        "/sys/fs/cgroup/cpu",
    ] {
        assert!(
            !PathBuf::from(root).join("nfsha-guard").join(&job).exists(),
            "{root}: {job} left behind"
        );
    }
}

#[test]
fn a_limit_that_cannot_be_applied_stops_the_job_before_it_starts() {
    let tmp = tempfile::tempdir().unwrap();
    let marker = tmp.path().join("ran");
    let touch = ["--", "touch", marker.to_str().unwrap()];
    for (args, why) in [
        (vec!["--write-bps", "/dev/null=1M"], "character device"),
        (
            vec!["--write-bps", "/proc/self=1M"],
            "without a block device",
        ),
        (
            vec!["--read-bps", "/dev/nonexistent=1M"],
            "/dev/nonexistent",
        ),
        (vec!["--read-bps", "8:0"], "DEV=RATE"),
        (vec!["--write-bps", "/dev/null=fast"], "bytes per second"),
        (vec!["--cpu-weight", "0"], "1 to 10000"),
    ] {
        let mut a = vec!["guard", "--timeout", "10s"];
        a.extend(args.iter());
        a.extend(touch.iter());
        let out = nfsha(&a);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", err(&out));
        assert!(err(&out).contains(why), "{args:?}: {}", err(&out));
        assert!(!marker.exists(), "{args:?}: the job ran");
    }
}

#[test]
fn sigterm_to_guard_ends_the_job_the_same_way() {
    let tmp = tempfile::tempdir().unwrap();
    let started = tmp.path().join("started");
    let marker = tmp.path().join("cleaned up");
    let cleanup = format!("touch '{}'", marker.display());
    let child = Command::new(bin())
        .args([
            "guard",
            "--timeout",
            "1h",
            "--kill-grace",
            "300ms",
            "--on-timeout",
            &cleanup,
            "--",
            "sh",
            "-c",
        ])
        .arg(format!("touch '{}'; sleep 63.5", started.display()))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    for _ in 0..600 {
        if started.exists() {
            break;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(started.exists(), "the job never started");
    unsafe { libc::kill(child.id() as i32, libc::SIGTERM) };
    let out = child.wait_with_output().unwrap();
    let e = err(&out);
    assert_eq!(out.status.code(), Some(124), "{e}");
    assert!(e.contains("guard was interrupted"), "{e}");
    assert!(marker.exists(), "cleanup ran: {e}");
    assert_eq!(procs_with_arg("63.5"), 0, "{e}");
}
