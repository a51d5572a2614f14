//! Golden fixtures, in the style of wit-component's `tests/components/<case>/`.
//!
//! Every folder `tests/components/<case>/` holds an `input.wat`, a small component whose first
//! line is `;; init: <spec>` (the init function spec, as `-f` takes it) and whose second line is
//! a comment saying what the case shows. For each case, in sorted order, this test:
//!
//! - instruments the input (`compsnap::internals::instrument`) and compares the printed result
//!   with `instrumented.wat`;
//! - snapshots the input (`Snapshotter` with that init spec) and compares the printed result
//!   with `output.wat`;
//! - validates the output (all features) and instantiates it in Wasmtime.
//!
//! `BLESS=1 cargo test --test golden` (re)writes `instrumented.wat` and `output.wat` instead
//! of comparing them. The files are committed, so a reviewer sees every change to what compsnap
//! emits as a diff of these files. Every failing case is reported, each with the first line
//! that differs, before the test fails.

mod common;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

const CASES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/components");

const BLESS_HINT: &str = "run `BLESS=1 cargo test --test golden` to create or update it";

#[test]
fn golden_components() {
    let bless = std::env::var("BLESS").is_ok_and(|v| v == "1");
    let cases = case_dirs();
    assert!(!cases.is_empty(), "no cases under {CASES}");

    let mut failures = Vec::new();
    for dir in &cases {
        let name = dir.file_name().unwrap().to_string_lossy().into_owned();
        // A panic in one case (in compsnap or here) must not hide the other cases.
        let problems =
            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| run_case(dir, bless)))
                .unwrap_or_else(|panic| vec![format!("panicked: {}", panic_message(&*panic))]);
        for problem in problems {
            failures.push(format!("{name}: {problem}"));
        }
    }

    if !failures.is_empty() {
        let mut msg = format!(
            "{} problem(s) in {} golden case(s):\n",
            failures.len(),
            cases.len()
        );
        for failure in &failures {
            let _ = writeln!(msg, "\n{failure}");
        }
        panic!("{msg}");
    }
}

/// The case folders, sorted by name.
fn case_dirs() -> Vec<PathBuf> {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(CASES)
        .unwrap_or_else(|e| panic!("reading {CASES}: {e}"))
        .map(|entry| entry.expect("directory entry").path())
        .filter(|path| path.is_dir())
        .collect();
    dirs.sort();
    dirs
}

/// Runs one case; returns its problems (none when it passes).
fn run_case(dir: &Path, bless: bool) -> Vec<String> {
    let input_path = dir.join("input.wat");
    let text = match std::fs::read_to_string(&input_path) {
        Ok(text) => text,
        Err(e) => return vec![format!("reading {}: {e}", input_path.display())],
    };
    let init = match init_spec(&text) {
        Ok(init) => init,
        Err(e) => return vec![format!("input.wat: {e}")],
    };
    let input = match wat::parse_str(&text) {
        Ok(bytes) => bytes,
        Err(e) => return vec![format!("input.wat does not parse: {e}")],
    };

    let mut problems = Vec::new();

    match compsnap::internals::instrument(&input, &init) {
        Ok(instrumented) => {
            if let Err(e) = compare_printed(dir, "instrumented.wat", &instrumented, bless) {
                problems.push(e);
            }
        }
        Err(e) => problems.push(format!("instrument (init `{init}`) failed: {e:#}")),
    }

    let mut snapshotter = compsnap::Snapshotter::new();
    snapshotter.init_func(init.as_str());
    match snapshotter.snapshot(&input) {
        Ok(output) => {
            if let Err(e) = compare_printed(dir, "output.wat", &output, bless) {
                problems.push(e);
            }
            if let Err(e) =
                wasmparser::Validator::new_with_features(wasmparser::WasmFeatures::all())
                    .validate_all(&output)
            {
                problems.push(format!("the output does not validate: {e}"));
            }
            // Imports trap; instantiating runs no init, only what the output itself does.
            if let Err(e) = common::Running::try_with_wasi(&output, None) {
                problems.push(format!("the output does not instantiate: {e:#}"));
            }
        }
        Err(e) => problems.push(format!("snapshot (init `{init}`) failed: {e:#}")),
    }

    problems
}

/// The init spec from the first line, `;; init: <spec>`; the second line must be a comment
/// saying what the case shows.
fn init_spec(text: &str) -> Result<String, String> {
    let mut lines = text.lines();
    let first = lines.next().unwrap_or("");
    let spec = first
        .strip_prefix(";; init:")
        .map(str::trim)
        .filter(|spec| !spec.is_empty())
        .ok_or_else(|| format!("the first line must be `;; init: <spec>`, found `{first}`"))?;
    match lines.next() {
        Some(second) if second.starts_with(";;") && second.len() > 3 => Ok(spec.to_string()),
        other => Err(format!(
            "the second line must be a `;;` comment saying what the case shows, found `{}`",
            other.unwrap_or("")
        )),
    }
}

/// Prints `bytes` and compares the text with `dir/file`, or writes it there when blessing.
fn compare_printed(dir: &Path, file: &str, bytes: &[u8], bless: bool) -> Result<(), String> {
    let mut got =
        wasmprinter::print_bytes(bytes).map_err(|e| format!("printing {file} failed: {e:#}"))?;
    if !got.ends_with('\n') {
        got.push('\n');
    }
    let path = dir.join(file);
    let existing = std::fs::read_to_string(&path).ok();

    if bless {
        if existing.as_deref().map(normalize) != Some(got.clone()) {
            std::fs::write(&path, &got).map_err(|e| format!("writing {}: {e}", path.display()))?;
        }
        return Ok(());
    }

    let Some(expected) = existing else {
        return Err(format!("{file} is missing; {BLESS_HINT}"));
    };
    let expected = normalize(&expected);
    if expected == got {
        return Ok(());
    }
    let (line, want, have) = first_difference(&expected, &got);
    Err(format!(
        "{file} differs at line {line}:\n  expected: {want}\n  got:      {have}\n\
         if the change is intended, {BLESS_HINT}"
    ))
}

/// The text with `\r\n` line ends made `\n` (a checkout may have converted them).
fn normalize(text: &str) -> String {
    text.replace("\r\n", "\n")
}

/// The first line (1-based) where `expected` and `got` differ, and both lines there; a side
/// that has ended shows as `<end of file>`.
fn first_difference(expected: &str, got: &str) -> (usize, String, String) {
    let mut want = expected.lines();
    let mut have = got.lines();
    let mut line = 1;
    loop {
        match (want.next(), have.next()) {
            (Some(w), Some(h)) if w == h => line += 1,
            (None, None) => {
                // Same lines, so they differ only in the final line end.
                return (line, "<end of file>".into(), "<end of file>".into());
            }
            (w, h) => {
                let show = |l: Option<&str>| l.map_or("<end of file>".to_string(), str::to_string);
                return (line, show(w), show(h));
            }
        }
    }
}

fn panic_message(panic: &(dyn std::any::Any + Send)) -> String {
    if let Some(s) = panic.downcast_ref::<&str>() {
        s.to_string()
    } else if let Some(s) = panic.downcast_ref::<String>() {
        s.clone()
    } else {
        "(no message)".to_string()
    }
}
