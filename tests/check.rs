//! `nfsha heartbeat check` on lease-area slots written by the test itself: a
//! writer whose wall clock is an hour off either way, and stale, missing,
//! corrupt, foreign and future-format records, which are never `alive`.

mod common;

use std::path::Path;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::hb::write_config;
use nfsha::heartbeat::clock::{boottime_ms, wall_ms};
use nfsha::heartbeat::fence::FenceAction;
use nfsha::heartbeat::record::{Record, WriterState};

fn record(seq: u64, skew_ms: i64) -> Record {
    Record {
        host: "kvm9".into(),
        generation: 0xabc,
        seq,
        mono_ms: boottime_ms(),
        wall_ms: wall_ms() + skew_ms,
        interval_ms: 200,
        io_timeout_ms: 1000,
        dead_after_ms: 2000,
        fence_action: FenceAction::Reboot,
        state: WriterState::Ok,
        failing_ms: 0,
    }
}

/// The reader's config: dead_after 5 s (log-only: fence_after 3s + 1s + 1s margin).
fn reader(tmp: &Path) -> std::path::PathBuf {
    reader_with(tmp, "1s", "3s")
}

/// The reader's config with its own `io_timeout` and `fence_after` (which
/// must exceed io_timeout + interval; dead_after grows with both).
fn reader_with(tmp: &Path, io_timeout: &str, fence_after: &str) -> std::path::PathBuf {
    let mnt = tmp.join("mnt");
    std::fs::create_dir_all(mnt.join(".nfsha/hb")).unwrap();
    write_config(
        tmp,
        "reader.toml",
        &format!(
            "host_id = \"kvm1\"\ninterval = \"200ms\"\nio_timeout = \"{io_timeout}\"\nfence_after = \"{fence_after}\"\ntakeover_margin = \"1s\"\nfence_action = \"log-only\"\nrun_dir = \"{}\"\n[[storage]]\nname = \"pool\"\nmount = \"{}\"\n",
            tmp.join("run").display(),
            mnt.display()
        ),
    )
}

fn check(cfg: &Path, wait: &str) -> (i32, String) {
    let out = common::hb::check(cfg, "kvm9", wait);
    (
        out.status.code().unwrap(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
    )
}

/// kvm9's slot (slot 3 of the area, as another daemon would have it).
fn put(tmp: &Path, data: &[u8]) {
    common::hb::put_slot(&tmp.join("mnt"), 3, data);
}

fn writer(tmp: &Path, skew_ms: i64) -> (Arc<AtomicBool>, std::thread::JoinHandle<()>) {
    let stop = Arc::new(AtomicBool::new(false));
    let (s, dir) = (stop.clone(), tmp.to_path_buf());
    let h = std::thread::spawn(move || {
        let mut seq = 1;
        while !s.load(Ordering::SeqCst) {
            put(&dir, record(seq, skew_ms).encode().as_bytes());
            seq += 1;
            std::thread::sleep(Duration::from_millis(200));
        }
    });
    (stop, h)
}

#[test]
fn writer_an_hour_off_either_way_is_alive_then_dead() {
    for skew in [3_600_000i64, -3_600_000] {
        let tmp = tempfile::tempdir().unwrap();
        let cfg = reader(tmp.path());
        let (stop, h) = writer(tmp.path(), skew);
        let (code, out) = check(&cfg, "3s");
        assert_eq!(code, 0, "{out}");
        assert!(
            out.contains("alive") && out.contains("ignored"),
            "skew shown: {out}"
        );
        stop.store(true, Ordering::SeqCst);
        h.join().unwrap();
        // This look may still see the writer's last record as a change since
        // the previous look (a change is dated to when it is seen). It must
        // have read the record: a read that failed on a loaded machine saw
        // nothing, and the next look would see that change instead.
        let mut looks = 0;
        while check(&cfg, "300ms").1.contains("last read failed") {
            looks += 1;
            assert!(looks < 100, "no read of a local file succeeded");
        }
        let t = Instant::now();
        // Past the alive window (2 intervals + io_timeout) it is no longer alive.
        std::thread::sleep(Duration::from_secs(2));
        assert_eq!(check(&cfg, "300ms").0, 3);
        let (code, out) = check(&cfg, "10s");
        assert_eq!(code, 1, "{out}");
        assert!(out.starts_with("kvm9: dead"), "{out}");
        assert!(
            t.elapsed() >= Duration::from_secs(4),
            "dead only after dead_after: {:?}",
            t.elapsed()
        );
    }
}

#[test]
fn missing_and_corrupt_records_are_unknown() {
    let tmp = tempfile::tempdir().unwrap();
    // Each read is bounded by io_timeout, not by --wait: a generous one, so
    // that a loaded machine's slow helper start is never mistaken for a
    // storage that does not answer (the messages below are those of reads
    // that completed). Local reads answer at once, so nothing waits for it.
    let cfg = reader_with(tmp.path(), "30s", "40s");
    let (code, out) = check(&cfg, "500ms");
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("cannot read"), "no lease area at all: {out}");
    put(tmp.path(), b"");
    let (code, out) = check(&cfg, "500ms");
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("no record of kvm9 in the lease area"), "{out}");
    // A damaged slot names no host: kvm9 has no record.
    let good = record(5, 0).encode();
    put(tmp.path(), good.replace("seq=5", "seq=6").as_bytes());
    let (code, out) = check(&cfg, "500ms");
    assert_eq!(code, 3, "{out}");
    put(tmp.path(), &good.as_bytes()[..good.len() / 2]);
    assert_eq!(check(&cfg, "500ms").0, 3);
    put(tmp.path(), b"1795305661\n");
    assert_eq!(check(&cfg, "500ms").0, 3);
    // A record of another host, or of a future format, is not kvm9's.
    let mut other = record(5, 0);
    other.host = "kvm8".into();
    put(tmp.path(), other.encode().as_bytes());
    let (code, out) = check(&cfg, "500ms");
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("no record of kvm9"), "{out}");
    let v2 = good.replace("nfsha-heartbeat 1\n", "nfsha-heartbeat 2\n");
    let body = &v2[..v2.rfind("crc32=").unwrap()];
    let v2 = format!(
        "{body}crc32={:08x}\n",
        nfsha::heartbeat::record::crc32(body.as_bytes())
    );
    put(tmp.path(), v2.as_bytes());
    assert_eq!(
        check(&cfg, "500ms").0,
        3,
        "a future version is not accepted"
    );
    // Even after the full dead_after, a corrupt record is unknown, not dead:
    // the kept observation is moved back to the start of this boot (a
    // virtual clock: no sleeping for dead_after).
    let kept = tmp.path().join("run/check-observations.json");
    let mut cache: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&kept).unwrap()).unwrap();
    let o = cache.get_mut("pool|kvm9").expect("kvm9's kept observation");
    assert!(o["generation"].is_null(), "no valid record was read: {o}");
    o["last_change_ms"] = 0.into();
    std::fs::write(&kept, cache.to_string()).unwrap();
    let (code, out) = check(&cfg, "500ms");
    assert_eq!(code, 3, "{out}");
    assert!(out.contains("kvm9: unknown"), "{out}");
}

#[test]
fn stale_and_future_dated_records_are_never_alive() {
    let tmp = tempfile::tempdir().unwrap();
    let cfg = reader(tmp.path());
    // A day in the future, and never changing.
    put(tmp.path(), record(7, 86_400_000).encode().as_bytes());
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(4) {
        let (code, out) = check(&cfg, "300ms");
        assert_ne!(
            code, 0,
            "a record that does not change is never alive: {out}"
        );
        // Unknown until dead_after; a check that ran late under load may
        // already say dead, but only with the unchanged time past dead_after.
        if code == 1 {
            let secs: f64 = out
                .split("unchanged for ")
                .nth(1)
                .and_then(|r| r.split('s').next())
                .and_then(|n| n.parse().ok())
                .unwrap_or_else(|| panic!("no unchanged time in: {out}"));
            assert!(secs >= 5.0, "dead before dead_after: {out}");
        } else {
            assert_eq!(code, 3, "{out}");
        }
    }
    let (code, out) = check(&cfg, "5s");
    assert_eq!(code, 1, "{out}");
}
