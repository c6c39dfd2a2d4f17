//! nfsha's nfs.conf reader against nfs-utils' own: for files full of what
//! nfs-utils reads in its particular way (quotes, comments, broken lines,
//! includes, drop-ins, CRLF, NUL bytes), every value `nfsconf --get` reports,
//! and some it does not, must be what the agents' `NfsConf::load` (through
//! the real system seam) and lint's model give.
//!
//! Needs `nfsconf` (apt-get install nfs-common); a missing one fails the test.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;

use nfsha::model::{input, nfsconf, HostConfig};
use nfsha::nfs::NfsConf;
use nfsha::sys::{Paths, Real};

/// The main file: every rule of nfs-utils' parser, and lines it ignores.
const MAIN: &str = r#"# nfs.conf as nobody should write it
before-any-section = 1
include = early.conf
[nfsd]
threads = 8
threads = 16
lease-time = 90 # comment
grace-time = 90;comment
Scope = "with # hash" tail
quoted-single = 'single'
quote-in-single = 'it"s'
inner-quotes = a "b" c
padded = "  padded  "
empty-quoted = ""
equals = a=b=c
  indented   =   inner  spaces   
	tabbed	=	tab
empty =
kept = 1
kept =
kept = # only a comment
unterminated = "open
unterminated-single = 'open
joined = first\
  second
# a comment that goes on \
hidden-by-comment = 1
vers3 = n
[ NFSD ]
vers4.0 = N
[Mountd] trailing junk
manage-gids = y
[broken
lost = 1
[statd]
include = inc/statd.conf
port = 662
include = -inc/missing.conf
include = - inc/statd.conf
include = inc/required-but-missing.conf
not an assignment
= no tag
[exportd "sub"]
threads = 4
[nfsdcld]
storagedir = $cld
[nfsdcltrack]
storagedir = $missing
[environment]
cld = /srv/state/nfsdcld
[general]
dollar = $
[x]
t = plain
[x "sub"]
t = sub
[x]
u = plain
[]
nameless = 1
[last]
no-newline = 1"#;

const FILES: &[(&str, &[u8])] = &[
    ("early.conf", b"[nfsd]\nearly = 1\n"),
    (
        "inc/statd.conf",
        b"state-directory-path = /srv/state/statd\nport = 1000\ninclude = deeper/d.conf\n[nfsd]\nfrom-include = yes\nthreads = 32\n",
    ),
    ("inc/deeper/d.conf", b"outgoing-port = 2000\n"),
    ("inc/from-dropin.conf", b"from-dropin-include = 1\n"),
    (
        "nfs.conf.d/9-first.conf",
        b"[nfsd]\nthreads = 9\norder = 9\n",
    ),
    ("nfs.conf.d/10-second.conf", b"[NFSD]\nOrder = 10\n"),
    ("nfs.conf.d/.hidden.conf", b"[nfsd]\norder = hidden\n"),
    ("nfs.conf.d/99.conf.disabled", b"[nfsd]\norder = disabled\n"),
    (
        "nfs.conf.d/50-crlf.conf",
        b"[nfsd]\r\ncrlf = 1\r\ncrlf-empty =\r\ncrlf-quoted = \"q\"\r\n",
    ),
    (
        "nfs.conf.d/60-nul.conf",
        b"[nfsd]\nbefore-nul = 1\nnul = a\0b\nafter-nul = 1\n",
    ),
    (
        "nfs.conf.d/70-relative.conf",
        b"[nfsd]\ninclude = ../inc/from-dropin.conf\n",
    ),
    ("nfs.conf.d/8-mountd.conf", b"[mountd]\nmanage-gids = n\n"),
];

/// Keys nfs-utils does not report (ignored lines, subsections, other case).
const EXTRA_KEYS: &[(&str, &str)] = &[
    ("", "before-any-section"),
    ("nfsd", "early"),
    ("nfsd", "empty"),
    ("nfsd", "empty-quoted"),
    ("nfsd", "unterminated"),
    ("nfsd", "unterminated-single"),
    ("nfsd", "hidden-by-comment"),
    ("NFSD", "THREADS"),
    ("Mountd", "Manage-Gids"),
    ("broken", "lost"),
    ("nfsd", "lost"),
    ("statd", "lost"),
    ("exportd", "threads"),
    ("x", "t"),
    ("nfsdcltrack", "storagedir"),
    ("general", "dollar"),
    ("last", "no-newline"),
    ("nfsd", "nul"),
    ("nfsd", "after-nul"),
    ("nfsd", "no-such-key"),
];

fn nfsconf_binary() -> PathBuf {
    common::require("nfsconf", "nfs-common");
    which::which("nfsconf").unwrap_or_else(|_| {
        ["/usr/sbin/nfsconf", "/sbin/nfsconf"]
            .into_iter()
            .map(PathBuf::from)
            .find(|p| p.exists())
            .expect("nfsconf")
    })
}

/// nfs-utils' answer. The environment is emptied: a `$name` value would
/// otherwise come from nfsconf's own environment, which nfsha does not read.
fn oracle(bin: &Path, conf: &Path, section: &str, tag: &str) -> Option<String> {
    let out = Command::new(bin)
        .env_clear()
        .arg("--file")
        .arg(conf)
        .args(["--get", section, tag])
        .output()
        .unwrap_or_else(|e| panic!("cannot run {}: {e}", bin.display()));
    match out.status.code() {
        Some(0) => {
            let mut v = String::from_utf8(out.stdout).unwrap();
            assert_eq!(v.pop(), Some('\n'));
            Some(v)
        }
        Some(1) => None,
        c => panic!(
            "nfsconf --get {section} {tag}: exit {c:?}: {}",
            String::from_utf8_lossy(&out.stderr)
        ),
    }
}

/// The (section, tag) pairs `nfsconf --dump` lists, subsections too.
fn dumped_keys(bin: &Path, conf: &Path) -> Vec<(String, String)> {
    let out = Command::new(bin)
        .env_clear()
        .arg("--file")
        .arg(conf)
        .arg("--dump")
        .output()
        .unwrap();
    assert!(out.status.success(), "nfsconf --dump failed");
    let mut section = String::new();
    let mut keys = Vec::new();
    for line in String::from_utf8(out.stdout).unwrap().lines() {
        if let Some(header) = line.strip_prefix('[') {
            section = header
                .trim_end_matches(']')
                .split(" \"")
                .next()
                .unwrap()
                .to_string();
        } else if let Some((tag, _)) = line.split_once(" = ") {
            keys.push((section.clone(), tag.trim().to_string()));
        }
    }
    keys
}

fn write_tree(root: &Path, main: &str, files: &[(&str, &[u8])]) -> PathBuf {
    let conf = root.join("nfs.conf");
    std::fs::write(&conf, main).unwrap();
    for (name, content) in files {
        let p = root.join(name);
        std::fs::create_dir_all(p.parent().unwrap()).unwrap();
        std::fs::write(p, content).unwrap();
    }
    conf
}

/// Compare nfs-utils, the runtime reader and lint's model on every key;
/// returns how many keys nfs-utils has a value for.
fn compare(conf: &Path, host: &HostConfig) -> usize {
    let bin = nfsconf_binary();
    let paths = Paths {
        nfs_conf: conf.to_path_buf(),
        nfs_conf_d: PathBuf::from(format!("{}.d", conf.display())),
        ..Paths::default()
    };
    let runtime = NfsConf::load(&Real::with_paths(paths));
    let mut keys = dumped_keys(&bin, conf);
    keys.extend(
        EXTRA_KEYS
            .iter()
            .map(|(s, t)| (s.to_string(), t.to_string())),
    );
    let mut known = 0;
    let mut wrong = Vec::new();
    for (section, tag) in &keys {
        let want = oracle(&bin, conf, section, tag);
        known += usize::from(want.is_some());
        let got = runtime.get(section, tag).map(str::to_string);
        let key = format!("{}.{}", section.to_lowercase(), tag.to_lowercase());
        let linted = host.nfsconf(&key).map(|p| p.value.clone());
        if got != want || linted != want {
            wrong.push(format!(
                "[{section}] {tag}: nfsconf {want:?}, NfsConf::load {got:?}, lint {linted:?}"
            ));
        }
    }
    assert!(wrong.is_empty(), "differences:\n{}", wrong.join("\n"));
    known
}

#[test]
fn tricky_files_read_like_nfsconf_reads_them() {
    let dir = tempfile::tempdir().unwrap();
    let conf = write_tree(dir.path(), MAIN, FILES);
    std::fs::create_dir_all(dir.path().join("nfs.conf.d/a-directory.conf")).unwrap();
    let mut host = HostConfig::default();
    nfsconf::parse_nfs_conf(
        MAIN,
        &Arc::from(conf.display().to_string()),
        Some(&conf),
        &mut host,
    )
    .expect("nfs-utils reads on past the lines it ignores, and so does lint");
    let first = host
        .nfsconf_ignored
        .first()
        .expect("lint records the lines nfs-utils ignores (rule NFS002)");
    assert_eq!(first.loc.line, 2, "{first:?}");
    let known = compare(&conf, &host);
    assert!(
        known >= 30,
        "only {known} values: did nfsconf read the files?"
    );
}

#[test]
fn a_clean_file_with_include_and_dropins_lints_the_same_values() {
    let dir = tempfile::tempdir().unwrap();
    let main = "[nfsd]\nthreads = 8\nlease-time = 90\ninclude = -/nonexistent/nfs.conf\ninclude = local.conf\n[nfsdcld]\nstoragedir = \"/srv/state/nfsdcld\"\n";
    let conf = write_tree(
        dir.path(),
        main,
        &[
            ("local.conf", b"grace-time = 90 ; per node\n"),
            ("nfs.conf.d/10-b.conf", b"[nfsd]\nthreads = 10\n"),
            ("nfs.conf.d/2-a.conf", b"[nfsd]\nthreads = 2\nvers3 = n\n"),
        ],
    );
    let input = input::read_file(&conf, None).unwrap();
    assert_eq!(input.host.nfsconf("nfsd.threads").unwrap().value, "10");
    let known = compare(&conf, &input.host);
    assert_eq!(known, 6, "five keys, and threads asked for in upper case");
}
