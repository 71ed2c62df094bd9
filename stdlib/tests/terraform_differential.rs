//! The differential test against Terraform: every expression of the corpus
//! (`tests/data/terraform/expressions.txt` and every example in `docs/functions/*.md`) is
//! evaluated as `jsonencode(EXPR)` by Infra and compared with Terraform 1.11's answer,
//! recorded in `tests/data/terraform/answers.json` by `tests/terraform/record.py`. Both
//! evaluate in a copy of `tests/data/terraform/files/`, so relative paths name the same
//! files for both (the templates of `templatefile` cases).
//!
//! Two answers agree when both are errors, or both are JSON texts of the same value
//! (numbers compared as numbers). A disagreement fails the test unless
//! `tests/data/terraform/differences.json` marks the expression as a documented,
//! deliberate difference, pointing at the heading of the page that documents it; a mark
//! on an expression that no longer differs fails too, so the list stays true.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde_json::Value as Json;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("cannot read {path}: {e}"))
}

/// The corpus, in order and without duplicates, read as `record.py` reads it.
fn expressions() -> Vec<String> {
    let mut found: Vec<String> = read("tests/data/terraform/expressions.txt")
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty() && !l.starts_with('#'))
        .map(str::to_string)
        .collect();
    let mut pages: Vec<PathBuf> = std::fs::read_dir(root().join("docs/functions"))
        .expect("docs/functions")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "md"))
        .collect();
    pages.sort();
    for page in pages {
        let text = std::fs::read_to_string(&page).expect("page");
        for line in text.lines() {
            let Some(rest) = line.strip_prefix("- `") else { continue };
            if let Some(end) = rest.find("` → ") {
                found.push(rest[..end].to_string());
            }
        }
    }
    let mut seen = std::collections::HashSet::new();
    found.retain(|e| seen.insert(e.clone()));
    found
}

/// An answer: the JSON text of the value, or an error (its message is only shown, in a
/// failure: two errors agree whatever they say).
#[derive(Debug)]
enum Answer {
    Json(String),
    Error(#[allow(dead_code)] String),
}

fn terraform_answers() -> BTreeMap<String, Answer> {
    let json: BTreeMap<String, Json> =
        serde_json::from_str(&read("tests/data/terraform/answers.json")).expect("answers.json is JSON");
    json.into_iter()
        .map(|(expr, answer)| {
            let answer = match (answer.get("json"), answer.get("error")) {
                (Some(Json::String(text)), _) => Answer::Json(text.clone()),
                (_, Some(error)) => Answer::Error(error.as_str().unwrap_or("error").to_string()),
                _ => panic!("answers.json: `{expr}` has neither `json` nor `error`"),
            };
            (expr, answer)
        })
        .collect()
}

fn infra_answer(expr: &str) -> Answer {
    let dir = root().join("tests/data/terraform/files");
    match infra_stdlib::testing::eval_in(&dir, &[], &format!("jsonencode({expr})")) {
        Ok(value) => match value.as_str() {
            Some(text) => Answer::Json(text.to_string()),
            None => Answer::Error(format!("not a string: {value}")),
        },
        Err(error) => Answer::Error(error),
    }
}

/// Two JSON values are the same, numbers compared as numbers (`1` and `1.0`, and the
/// long decimals Terraform writes for `1 / 3`).
fn same(a: &Json, b: &Json) -> bool {
    match (a, b) {
        (Json::Number(x), Json::Number(y)) => x.as_f64() == y.as_f64(),
        (Json::Array(x), Json::Array(y)) => x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same(a, b)),
        (Json::Object(x), Json::Object(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| same(v, w)))
        }
        _ => a == b,
    }
}

fn agree(terraform: &Answer, infra: &Answer) -> bool {
    match (terraform, infra) {
        (Answer::Error(_), Answer::Error(_)) => true,
        (Answer::Json(a), Answer::Json(b)) => match (serde_json::from_str(a), serde_json::from_str(b)) {
            (Ok(a), Ok(b)) => same(&a, &b),
            _ => a == b,
        },
        _ => false,
    }
}

/// `differences.json`: `documented` maps an expression to the `PAGE#anchor` of the heading
/// that documents how Infra differs on it; `varies` maps one whose answer depends on the
/// machine or on chance (a random salt, the working directory) to the reason.
struct Differences {
    documented: BTreeMap<String, String>,
    varies: BTreeMap<String, String>,
}

fn differences() -> Differences {
    let json: Json =
        serde_json::from_str(&read("tests/data/terraform/differences.json")).expect("differences.json is JSON");
    let section = |name: &str| -> BTreeMap<String, String> {
        let entries = json[name].as_object().unwrap_or_else(|| panic!("differences.json has no `{name}` object"));
        entries.iter().map(|(k, v)| (k.clone(), v.as_str().expect("a string").to_string())).collect()
    };
    Differences { documented: section("documented"), varies: section("varies") }
}

/// The anchor GitHub gives a heading: lower case, spaces to `-`, punctuation dropped.
fn anchor(heading: &str) -> String {
    heading
        .trim()
        .to_lowercase()
        .chars()
        .filter_map(|c| match c {
            ' ' => Some('-'),
            c if c.is_alphanumeric() || c == '-' || c == '_' => Some(c),
            _ => None,
        })
        .collect()
}

#[test]
fn infra_agrees_with_terraform_on_the_corpus_except_where_documented() {
    let answers = terraform_answers();
    let Differences { documented: marked, varies } = differences();
    let corpus = expressions();
    let unrecorded: Vec<&String> = corpus.iter().filter(|e| !answers.contains_key(*e)).collect();
    assert!(
        unrecorded.is_empty(),
        "{} expressions have no recorded Terraform answer; run `python3 tests/terraform/record.py`: {unrecorded:?}",
        unrecorded.len()
    );
    let mut unexplained = Vec::new();
    let mut stale = Vec::new();
    for expr in corpus.iter().filter(|e| !varies.contains_key(*e)) {
        let terraform = &answers[expr];
        let infra = infra_answer(expr);
        let agrees = agree(terraform, &infra);
        match (agrees, marked.contains_key(expr)) {
            (false, false) => {
                unexplained.push(format!("{expr}\n    terraform: {terraform:?}\n    infra:     {infra:?}"))
            }
            (true, true) => stale.push(expr.clone()),
            _ => {}
        }
    }
    let agreeing = corpus.len() - unexplained.len() - (marked.len() - stale.len()) - varies.len();
    assert!(
        unexplained.is_empty(),
        "{} of {} expressions disagree with Terraform and are not documented differences \
         (tests/data/terraform/differences.json):\n{}",
        unexplained.len(),
        corpus.len(),
        unexplained.join("\n")
    );
    assert!(stale.is_empty(), "marked as differences but now agree with Terraform: {stale:?}");
    assert!(agreeing * 10 >= corpus.len() * 8, "only {agreeing} of {} agree", corpus.len());
}

#[test]
fn every_marked_difference_points_at_a_documenting_heading() {
    let corpus = expressions();
    let Differences { documented, varies } = differences();
    for expr in varies.keys() {
        assert!(corpus.contains(expr), "differences.json says `{expr}` varies, but it is not in the corpus");
    }
    for (expr, place) in documented {
        assert!(corpus.contains(&expr), "differences.json marks `{expr}`, which is not in the corpus");
        let (page, wanted) = place.split_once('#').unwrap_or_else(|| panic!("`{place}` has no #anchor"));
        let text = read(page);
        let found =
            text.lines().filter_map(|l| l.strip_prefix('#')).any(|h| anchor(h.trim_start_matches('#')) == wanted);
        assert!(found, "`{expr}`: no heading `#{wanted}` in {page}");
    }
}
