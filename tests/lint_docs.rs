//! docs/lint.md's rule table is made from the rule registry: this test fails
//! when they drift apart; `UPDATE_DOCS=1 cargo test --test lint_docs`
//! rewrites the table.

use nfsha::lint::output;

const DOC: &str = "docs/lint.md";
const BEGIN: &str = "<!-- rules table: generated from the registry by tests/lint_docs.rs -->\n";
const END: &str = "<!-- end of rules table -->\n";

#[test]
fn rule_table_is_generated_from_the_registry() {
    let doc = std::fs::read_to_string(DOC).unwrap();
    let (head, rest) = doc
        .split_once(BEGIN)
        .expect("docs/lint.md lacks the table's start marker");
    let (_, tail) = rest
        .split_once(END)
        .expect("docs/lint.md lacks the table's end marker");
    let mut table = Vec::new();
    output::rules_markdown(&mut table).unwrap();
    let table = String::from_utf8(table).unwrap();
    let want = format!("{head}{BEGIN}{table}{END}{tail}");
    if std::env::var_os("UPDATE_DOCS").is_some() {
        std::fs::write(DOC, &want).unwrap();
        return;
    }
    assert!(
        doc == want,
        "docs/lint.md's rule table differs from the registry; run UPDATE_DOCS=1 cargo test --test lint_docs"
    );
    for r in nfsha::lint::rules::ALL {
        assert!(table.contains(&format!("| {} | {} |", r.code, r.name)));
    }
}
