//! Benchmark of the CloudStack check (`kvmheartbeat.sh -r`) as the agent
//! runs it (`tests/cloudstack/agent.rs`), run as an ordinary test (about
//! 20 s) so CI exercises it; `benches/cloudstack-check.sh` runs it in release
//! mode for BENCHMARKS.md. Side by side in one run:
//!
//! - nfsha with the heartbeat daemon running on the host (its observations
//!   answer);
//! - nfsha without the daemon (it reads the peer's files each call);
//! - the stock script's read path, reproduced line for line (`cat` and
//!   `expr` in bash: the script itself is not vendored), on the same file.
//!
//! Each call is a process, as the agent runs it. It asserts the answers, never
//! a duration. Writes Markdown to `$NFSHA_BENCH_OUT` (or stdout).

#[macro_use]
mod common;
mod cloudstack {
    pub mod agent;
}

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use cloudstack::agent::{Agent, Numbers, Pool};
use common::hangfs::Mounted;
use common::hb::{bin, write_config, Daemon};

fn stats(mut ms: Vec<f64>) -> String {
    ms.sort_by(|a, b| a.partial_cmp(b).unwrap());
    let p = |q: f64| ms[((ms.len() - 1) as f64 * q).round() as usize];
    format!("{:.1} | {:.1} | {:.1}", p(0.5), p(0.95), ms[ms.len() - 1])
}

fn daemon_toml(id: &str, run: &std::path::Path, mount: &std::path::Path) -> String {
    format!(
        "host_id = \"{id}\"\ninterval = \"1s\"\nio_timeout = \"1s\"\nfence_after = \"8s\"\ntakeover_margin = \"2s\"\nrun_dir = \"{}\"\nfence_record_file = \"{}\"\n[[storage]]\nmount = \"{}\"\n",
        run.display(),
        run.join("fence.log").display(),
        mount.display()
    )
}

#[test]
fn cloudstack_check_latency_with_and_without_the_daemon() {
    need_fuse!();
    const CALLS: usize = 30;
    let tmp = tempfile::tempdir().unwrap();
    let fs = Mounted::new(&tmp.path().join("pool"));
    let pool = Pool::nfs(&fs.path);
    let props = write_config(
        tmp.path(),
        "agent.properties",
        &Numbers::STOCK.properties(""),
    );
    // This host (10.0.0.1) and the peer (10.0.0.2) both run the daemon.
    let ours_run = tmp.path().join("ours");
    let ours_cfg = write_config(
        tmp.path(),
        "ours.toml",
        &daemon_toml("10.0.0.1", &ours_run, &fs.path),
    );
    let peer_run = tmp.path().join("peer");
    let peer_cfg = write_config(
        tmp.path(),
        "peer.toml",
        &daemon_toml("10.0.0.2", &peer_run, &fs.path),
    );
    let env = |cfg: &std::path::Path| {
        vec![
            (
                "NFSHA_HEARTBEAT_CONFIG".to_string(),
                cfg.display().to_string(),
            ),
            ("AGENT_PROPS".to_string(), props.display().to_string()),
        ]
    };
    let with_daemon = Agent::new(
        &tmp.path().join("a"),
        &bin(),
        Numbers::STOCK,
        env(&ours_cfg),
    );
    // Without a daemon: another run_dir, so no status file is found.
    let alone_cfg = write_config(
        tmp.path(),
        "alone.toml",
        &daemon_toml("10.0.0.1", &tmp.path().join("alone"), &fs.path),
    );
    let without = Agent::new(
        &tmp.path().join("b"),
        &bin(),
        Numbers::STOCK,
        env(&alone_cfg),
    );
    let _peer = Daemon::start(&peer_cfg, &peer_run);
    let ours = Daemon::start(&ours_cfg, &ours_run);
    ours.wait_for(Duration::from_secs(60), "the peer seen renewing", |s| {
        s.storages
            .iter()
            .flat_map(|st| &st.peers)
            .any(|p| p.host == "10.0.0.2" && p.changes > 1)
    });
    // The peer's agent wrote through the drop-in too (decimal file for the stock reader).
    assert!(with_daemon.write(&pool, "10.0.0.2").ok());

    let time = |f: &dyn Fn() -> String, want: &str| -> Vec<f64> {
        (0..CALLS)
            .map(|_| {
                let t = Instant::now();
                let line = f();
                let ms = t.elapsed().as_secs_f64() * 1000.0;
                assert!(line.starts_with(want), "{line}");
                ms
            })
            .collect()
    };
    let daemon_ms = time(
        &|| with_daemon.check(&pool, "10.0.0.2").first_line,
        "=====> ALIVE <=====",
    );
    // Without the daemon each call reads until it sees a change (the
    // peer's daemon renews every second), within check_budget (30 s).
    let sampled_ms = time(
        &|| without.check(&pool, "10.0.0.2").first_line,
        "=====> ALIVE <=====",
    );
    // A first look, with nothing kept from earlier calls: it reads until the
    // peer's record changes (every second here).
    let first_ms: Vec<f64> = (0..5)
        .map(|_| {
            let _ = std::fs::remove_dir_all(tmp.path().join("alone/cloudstack/observations"));
            let t = Instant::now();
            let c = without.check(&pool, "10.0.0.2");
            assert_eq!(c.first_line, "=====> ALIVE <=====", "{:?}", c.output);
            t.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    let hb = fs.path.join("KVMHA/hb-10.0.0.2");
    let stock_ms = time(
        &|| {
            let out = common::run(
                "bash",
                &[
                    "-c",
                    r#"now=$(date +%s); hb=$(cat $1); diff=`expr $now - $hb`
                       if [ $diff -gt 60 ]; then echo "=====> DEAD <======"; else echo "=====> ALIVE <====="; fi"#,
                    "stock",
                    hb.to_str().unwrap(),
                ],
            );
            String::from_utf8_lossy(&out.stdout).into_owned()
        },
        "=====> ALIVE <=====",
    );
    let mut md = String::new();
    let _ = writeln!(md, "| `-r` on one pool, peer alive ({CALLS} calls, each a new process) | median ms | p95 ms | max ms |");
    let _ = writeln!(md, "|---|---|---|---|");
    let _ = writeln!(
        md,
        "| nfsha, heartbeat daemon running (its observations) | {} |",
        stats(daemon_ms.clone())
    );
    let _ = writeln!(
        md,
        "| nfsha, no daemon, earlier calls kept (reads once) | {} |",
        stats(sampled_ms)
    );
    let _ = writeln!(md, "| nfsha, no daemon, first look (reads until the record changes; peer renews every 1 s; 5 calls) | {} |", stats(first_ms));
    let _ = writeln!(
        md,
        "| stock read path (`cat` + `expr` in bash, reproduced) | {} |",
        stats(stock_ms)
    );
    let whole: f64 = daemon_ms.iter().take(12).sum();
    let _ = writeln!(
        md,
        "\nA `KVMHAChecker` over 12 pools with the daemon: {whole:.0} ms (the agent allows 360 s)."
    );
    match std::env::var_os("NFSHA_BENCH_OUT") {
        Some(p) => std::fs::write(p, md).unwrap(),
        None => print!("{md}"),
    }
}
