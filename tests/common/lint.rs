//! The lint fixtures (`tests/fixtures/lint/<CODE>/`): listing them and
//! linting them in process.

use std::path::{Path, PathBuf};

use nfsha::lint::{self, output, Config};

pub const FIXTURES: &str = "tests/fixtures/lint";

/// The files in `dir` whose names start with `prefix`, sorted.
pub fn files(dir: &Path, prefix: &str) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.file_name().unwrap().to_string_lossy().starts_with(prefix))
        .collect();
    v.sort();
    v
}

/// The per-rule fixture directories, sorted.
pub fn rule_dirs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(FIXTURES)
        .unwrap()
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.is_dir())
        .collect();
    v.sort();
    v
}

/// Every `bad.*` fixture with the `host-bad.*` files linted along with it.
pub fn bad_cases() -> Vec<Vec<PathBuf>> {
    let mut out = Vec::new();
    for dir in rule_dirs() {
        let host = files(&dir, "host-bad.");
        for f in files(&dir, "bad.") {
            let mut paths = vec![f];
            paths.extend(host.iter().cloned());
            out.push(paths);
        }
    }
    out
}

/// Read fixtures as `nfsha lint` would: a `*.mounts` file as `--mounts`
/// names it, the others by their detected dialect.
pub fn read(paths: &[PathBuf]) -> lint::Inputs {
    let dialect = |p: &PathBuf| {
        p.extension()
            .is_some_and(|e| e == "mounts")
            .then_some(nfsha::model::Dialect::Mounts)
    };
    let inputs = lint::inputs::read_all(paths.iter().map(|p| (p, dialect(p))));
    if let Some(e) = inputs.errors.first() {
        panic!("{e}");
    }
    inputs
}

/// Lint files in process: the findings and the human output.
pub fn run(paths: &[PathBuf]) -> (Vec<lint::Finding>, String) {
    let inputs = read(paths);
    let files = inputs.files.clone();
    let findings = lint::lint_inputs(inputs.clusters, inputs.host, &Config::default());
    let mut out = Vec::new();
    output::human(&mut out, &findings, &files).unwrap();
    (findings, String::from_utf8(out).unwrap())
}

/// The one cluster model of `paths`, with the host files joined in.
pub fn model(paths: &[PathBuf]) -> Option<nfsha::model::Model> {
    let inputs = read(paths);
    let mut m = inputs.clusters.into_iter().next()?;
    m.host = inputs.host;
    Some(m)
}
