//! nfsha's SQLite reader (`formats::sqlite`) reads what the real `sqlite3`
//! program writes: small pages that force interior b-tree pages, payloads
//! that spill into overflow chains, every column type, deleted rows, and the
//! nfsdcld layout read as `status` reads it.

mod common;

use std::io::Write;
use std::path::Path;
use std::process::{Command, Stdio};

use nfsha::formats::sqlite::{Database, Value};

fn sqlite3(db: &Path, sql: &str) {
    common::require("sqlite3", "sqlite3");
    let mut c = Command::new("sqlite3")
        .arg(db)
        .stdin(Stdio::piped())
        .spawn()
        .unwrap();
    c.stdin.take().unwrap().write_all(sql.as_bytes()).unwrap();
    assert!(c.wait().unwrap().success(), "sqlite3 failed on:\n{sql}");
}

#[test]
fn many_rows_on_small_pages_with_overflow_and_deletes() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("t.sqlite");
    let mut sql = String::from("PRAGMA page_size=512;\nCREATE TABLE t (id BLOB PRIMARY KEY, n INTEGER, r REAL, s TEXT);\nBEGIN;\n");
    for i in 0..2000 {
        // Every 97th blob is 3000 bytes: longer than a 512-byte page holds.
        let len = if i % 97 == 0 { 3000 } else { 10 + i % 50 };
        sql.push_str(&format!(
            "INSERT INTO t VALUES (randomblob({len}), {}, {i}.5, 'row {i}');\n",
            i64::from(i) * 1_000_003 - 1_000_000_000
        ));
    }
    sql.push_str("DELETE FROM t WHERE n % 7 = 0;\nCOMMIT;\n");
    sqlite3(&db, &sql);
    let data = std::fs::read(&db).unwrap();
    let d = Database::open(&data).unwrap();
    let rows = d.table("t").unwrap().expect("table t");
    // What sqlite3 itself counts.
    let out = Command::new("sqlite3")
        .arg(&db)
        .arg("SELECT count(*), sum(length(id)), sum(n) FROM t;")
        .output()
        .unwrap();
    let want: Vec<i64> = String::from_utf8_lossy(&out.stdout)
        .trim()
        .split('|')
        .map(|x| x.parse().unwrap())
        .collect();
    assert_eq!(rows.len() as i64, want[0]);
    let len: usize = rows
        .iter()
        .map(|(_, c)| c[0].as_bytes().unwrap().len())
        .sum();
    assert_eq!(len as i64, want[1]);
    let sum: i64 = rows.iter().map(|(_, c)| c[1].as_i64().unwrap()).sum();
    assert_eq!(sum, want[2]);
    // Rows come in rowid order, with their real and text columns.
    assert!(rows.windows(2).all(|w| w[0].0 < w[1].0));
    let (_, first) = &rows[0];
    assert_eq!(first[2], Value::Real(0.5));
    assert_eq!(first[3].as_str(), Some("row 0"));
    let big = rows
        .iter()
        .find(|(_, c)| c[3].as_str() == Some("row 97"))
        .expect("row 97");
    assert_eq!(big.1[0], Value::Blob(big.1[0].as_bytes().unwrap().to_vec()));
    assert_eq!(big.1[0].as_bytes().unwrap().len(), 3000);
}

#[test]
fn a_wal_database_is_refused_with_the_reason() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("w.sqlite");
    sqlite3(
        &db,
        "PRAGMA journal_mode=WAL;\nCREATE TABLE t (a);\nINSERT INTO t VALUES (1);\n",
    );
    let data = std::fs::read(&db).unwrap();
    let e = Database::open(&data).unwrap_err().to_string();
    assert!(e.contains("WAL"), "{e}");
}

#[test]
fn nfsdcld_tracking_as_status_reads_it() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("main.sqlite");
    // The statements nfsdcld (nfs-utils 2.6, utils/nfsdcld/sqlite.c) runs
    // for a fresh database, a grace start and two clients' records.
    sqlite3(
        &db,
        "CREATE TABLE parameters (key TEXT PRIMARY KEY, value TEXT);\n\
         CREATE TABLE grace (current INTEGER , recovery INTEGER);\n\
         INSERT OR FAIL INTO grace values (1, 0);\n\
         CREATE TABLE \"rec-0000000000000001\" (id BLOB PRIMARY KEY, princhash BLOB);\n\
         INSERT OR FAIL INTO parameters values (\"version\", \"4\");\n\
         INSERT OR FAIL INTO parameters values (\"first_time\", \"1\");\n\
         INSERT OR REPLACE INTO \"rec-0000000000000001\" (id) VALUES (X'4c696e7578204e465376342e3220610001');\n\
         INSERT OR REPLACE INTO \"rec-0000000000000001\" (id) VALUES (X'4c696e7578204e465376342e322062');\n\
         UPDATE grace SET current = 2, recovery = 1;\n\
         CREATE TABLE \"rec-0000000000000002\" (id BLOB PRIMARY KEY, princhash blob);\n\
         INSERT OR REPLACE INTO \"rec-0000000000000002\" (id) VALUES (X'4c696e7578204e465376342e3220610001');\n",
    );
    let data = nfsha::status::nfsdcld::read_locked(&db).unwrap();
    let t = nfsha::status::nfsdcld::from_bytes(&data).unwrap();
    assert_eq!((t.current_epoch, t.recovery_epoch), (2, 1));
    let r = t.reclaim();
    assert_eq!((r.allowed, r.reclaimed, r.new), (2, 1, 0));
    assert_eq!(
        t.client(b"Linux NFSv4.2 a\x00\x01"),
        nfsha::status::nfsdcld::ClientReclaim::Reclaimed
    );
    // Grace done: nfsdcld drops the recovery epoch.
    sqlite3(
        &db,
        "UPDATE grace SET recovery = \"0\";\nDROP TABLE \"rec-0000000000000001\";\n",
    );
    let t = nfsha::status::nfsdcld::from_bytes(&std::fs::read(&db).unwrap()).unwrap();
    assert_eq!(t.recovery_epoch, 0);
    assert!(!t.reclaim().in_grace);
}

#[test]
fn a_database_locked_for_writing_is_not_read_halfway() {
    let tmp = tempfile::tempdir().unwrap();
    let db = tmp.path().join("main.sqlite");
    sqlite3(
        &db,
        "CREATE TABLE grace (current INTEGER, recovery INTEGER);\n",
    );
    // A writer holding SQLite's EXCLUSIVE lock (what sqlite3 takes while it
    // writes the database file): the reader waits, then gives up saying so.
    let mut writer = Command::new("sqlite3")
        .arg(&db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdin = writer.stdin.take().unwrap();
    stdin
        .write_all(b"BEGIN EXCLUSIVE;\nINSERT INTO grace VALUES (1, 0);\nSELECT 'locked';\n")
        .unwrap();
    stdin.flush().unwrap();
    // Wait until sqlite3 says it holds the lock.
    let mut out = writer.stdout.take().unwrap();
    let mut buf = [0u8; 7];
    std::io::Read::read_exact(&mut out, &mut buf).unwrap();
    assert_eq!(&buf, b"locked\n");
    let e = nfsha::status::nfsdcld::read_locked(&db).unwrap_err();
    assert!(e.contains("locked for writing"), "{e}");
    stdin.write_all(b"COMMIT;\n.quit\n").unwrap();
    drop(stdin);
    writer.wait().unwrap();
    assert!(nfsha::status::nfsdcld::read_locked(&db).is_ok());
}
