//! lint
#[derive(clap::Args, Debug)]
pub struct LintArgs {}
pub fn run(_a: &LintArgs) -> i32 {
    0
}
#[derive(Default)]
pub struct Config {}
pub fn lint_model(_m: &crate::model::Model, _c: &Config) -> Vec<()> {
    vec![]
}
