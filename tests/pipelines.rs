//! The real pipelines, end to end. ComponentizeJS 0.23 and componentize-py 0.25 each build a
//! hello component twice: as usual (pre-initialized by their own Wizer or component-init),
//! and with their init step captured instead of run (`examples/js`, `examples/python`).
//! compsnap snapshots the captured un-initialized component; the test then checks that the
//! snapshot starts in exactly the state the original reaches after init (`verify`), and that
//! its exports answer what the pipeline's own pre-initialized component answers.
//!
//! ComponentizeJS also runs unmodified with compsnap as its Wizer binary (`wizerBin`).
//!
//! Needs Node 20+ with npm, Python 3.10+ with venv, gdb and binutils (`.ci/run` installs
//! them); the example scripts install the pinned npm and PyPI packages. Captures are kept
//! under the target directory and made again when an example's files change.

mod common;

use common::Running;
use compsnap::capture::Capture;
use std::path::{Path, PathBuf};
use std::process::Command;

fn repo() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// A hash of every file of the example (outputs and installed packages aside): the stamp
/// that says whether a kept capture is still the example's.
fn example_stamp(dir: &Path) -> String {
    fn walk(dir: &Path, files: &mut Vec<PathBuf>) {
        let mut entries: Vec<_> = std::fs::read_dir(dir)
            .unwrap()
            .map(|e| e.unwrap().path())
            .collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            if ["out", "node_modules", "__pycache__"].contains(&name.as_str()) {
                continue;
            }
            match path.is_dir() {
                true => walk(&path, files),
                false => files.push(path),
            }
        }
    }
    let mut files = Vec::new();
    walk(dir, &mut files);
    // FNV-1a over names and contents: a stamp, not a security boundary.
    let mut h: u64 = 0xcbf29ce484222325;
    for file in files {
        let name = file
            .strip_prefix(dir)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        for b in name.bytes().chain(std::fs::read(&file).unwrap()) {
            h = (h ^ b as u64).wrapping_mul(0x100000001b3);
        }
    }
    format!("{h:016x}")
}

/// Runs the example's capture script into a kept directory unless a capture of the same
/// example files is already there; returns the capture.
fn capture(example: &str, script: &[&str]) -> Capture {
    // Two tests use the JavaScript capture: one script run at a time writes it.
    static CAPTURING: std::sync::Mutex<()> = std::sync::Mutex::new(());
    let _one_at_a_time = CAPTURING.lock().unwrap_or_else(|e| e.into_inner());
    let src = repo().join("examples").join(example);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("pipelines")
        .join(example);
    let stamp_file = out.join(".compsnap-test-stamp");
    let stamp = example_stamp(&src);
    if std::fs::read_to_string(&stamp_file).ok().as_deref() != Some(stamp.as_str()) {
        std::fs::create_dir_all(&out).unwrap();
        let mut cmd = Command::new(script[0]);
        cmd.args(&script[1..]).arg(&out);
        let status = cmd
            .status()
            .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e} (see .ci/run for what it needs)"));
        assert!(status.success(), "{cmd:?} failed");
        std::fs::write(&stamp_file, &stamp).unwrap();
    }
    Capture::load(&out.join("compsnap.args")).expect("the script's compsnap.args")
}

/// Makes `calls` on one fresh instance of `bytes`, with WASI (no environment, no preopens)
/// and the WASI interfaces wasmtime-wasi lacks stubbed, as a user's host would run it.
fn answers(bytes: &[u8], calls: &[String]) -> Vec<String> {
    let mut running = Running::with_wasi(bytes, Some(&[]));
    calls.iter().map(|call| running.call(call)).collect()
}

/// Copies the tree `from` to `to`, creating every directory's entries in reverse name order.
fn copy_reversed(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).unwrap();
    let mut entries: Vec<_> = std::fs::read_dir(from)
        .unwrap()
        .map(|e| e.unwrap())
        .collect();
    entries.sort_by_key(|e| std::cmp::Reverse(e.file_name()));
    for entry in entries {
        let (src, dst) = (entry.path(), to.join(entry.file_name()));
        let kind = entry.file_type().unwrap();
        if kind.is_dir() {
            copy_reversed(&src, &dst);
        } else if kind.is_symlink() {
            std::os::unix::fs::symlink(std::fs::read_link(&src).unwrap(), &dst).unwrap();
        } else {
            std::fs::copy(&src, &dst).unwrap();
        }
    }
}

fn check(capture: &Capture) {
    assert!(
        !capture.calls.is_empty(),
        "the capture names calls to compare"
    );
    let mut snap = capture.snapshotter().unwrap();
    snap.cache_dir(Some(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("pipelines/compile-cache"),
    ));
    let input = std::fs::read(&capture.input).unwrap();
    let report = compsnap::verify::verify(&snap, &input, &capture.calls).expect("verify");
    for c in &report.calls {
        assert_eq!(c.original, c.snapshot, "{}", c.call);
    }
    assert_eq!(report.state, None, "core state after init vs snapshot");
    assert!(!report.output.is_empty());
    // Reproducible: the init's clocks and randomness are deterministic by default, so a
    // second snapshot of the same input (and the same preopened files) is the same bytes.
    assert!(
        snap.snapshot(&input).unwrap() == report.output,
        "a second snapshot differs from the first"
    );
    // And so is a snapshot from fresh copies of the preopened directories (new times, new
    // inodes, entries created in another order), with nothing sealed.
    let mut fresh = capture.clone();
    let copies = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("pipelines/fresh-preopens")
        .join(capture.input.file_name().unwrap());
    let _ = std::fs::remove_dir_all(&copies);
    for (i, (host, _)) in fresh.dirs.iter_mut().enumerate() {
        let copy = copies.join(i.to_string());
        copy_reversed(host, &copy);
        *host = copy;
    }
    let mut again = fresh.snapshotter().unwrap();
    again.cache_dir(Some(
        Path::new(env!("CARGO_TARGET_TMPDIR")).join("pipelines/compile-cache"),
    ));
    assert!(
        again.snapshot(&input).unwrap() == report.output,
        "a snapshot from fresh copies of the preopens differs"
    );
    let _ = std::fs::remove_dir_all(&copies);

    // The snapshot, run as a user runs it, answers what the pipeline's own build answers.
    let reference = std::fs::read(capture.reference.as_ref().expect("#reference")).unwrap();
    let expected = answers(&reference, &capture.calls);
    let got = answers(&report.output, &capture.calls);
    assert_eq!(
        got, expected,
        "snapshot vs the pipeline's pre-initialized component"
    );
    // And the init really was needed: the input alone does not answer the first call.
    let before = std::panic::catch_unwind(|| answers(&input, &capture.calls[..1]));
    assert!(
        before.map_or(true, |a| a != expected[..1]),
        "the un-initialized component already answers {:?}",
        expected[0]
    );
}

#[test]
fn componentize_js_hello() {
    let script = repo().join("examples/js/build.mjs");
    let capture = capture("js", &["node", script.to_str().unwrap(), "--capture-only"]);
    check(&capture);
}

/// ComponentizeJS itself, unmodified, with compsnap as its `wizerBin`: the component it
/// builds (after checking compsnap's core module in Node's V8 with `check_init`) answers
/// every call as the component ComponentizeJS builds with its own Wizer.
#[test]
fn componentize_js_with_compsnap_as_its_wizer() {
    let script = repo().join("examples/js/build.mjs");
    let capture = capture("js", &["node", script.to_str().unwrap(), "--capture-only"]);
    let out = Path::new(env!("CARGO_TARGET_TMPDIR")).join("pipelines/js-wizer-bin.wasm");
    let status = Command::new("node")
        .arg(repo().join("examples/js/componentize.mjs"))
        .args(["--wizer-bin", env!("CARGO_BIN_EXE_compsnap")])
        .arg(&out)
        // The compile cache of a user's machine, here one of the test's own.
        .env(
            "COMPSNAP_CACHE_DIR",
            Path::new(env!("CARGO_TARGET_TMPDIR")).join("pipelines/compile-cache"),
        )
        .status()
        .expect("node");
    assert!(
        status.success(),
        "ComponentizeJS with compsnap as wizerBin failed"
    );
    let built = std::fs::read(&out).unwrap();
    let reference = std::fs::read(capture.reference.as_ref().expect("#reference")).unwrap();
    assert_eq!(
        answers(&built, &capture.calls),
        answers(&reference, &capture.calls),
        "ComponentizeJS + compsnap vs ComponentizeJS + Wizer"
    );
}

#[test]
fn componentize_py_hello() {
    let script = repo().join("examples/python/capture.sh");
    let capture = capture("python", &[script.to_str().unwrap()]);
    check(&capture);
}
