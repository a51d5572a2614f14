//! Reproducible by default: the init sees the preopened files' contents, but not when or
//! where they were copied. tests/c/lists_files.c lists a preopened directory and stats its
//! entries; two fresh copies of the same files (created at other times, in another order,
//! so other mtimes, inodes and, on most filesystems, another listing order) give the same
//! snapshot, as a component and as a core module. `--host-world` shows the host's files as
//! they are.
//!
//! Needs clang-14 and wasi-libc (`.ci/run` installs them).

mod common;

use common::c_build::run;
use common::{wit_component, CoreRunning, Running};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, SystemTime};

const WIT: &str = r#"
    package test:lists;
    world lists {
        export wizer-initialize: func();
        export name-byte: func(i: s32) -> s32;
        export mtime: func() -> s64;
        export atime: func() -> s64;
        export inos: func() -> s64;
    }"#;

fn scratch(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join("reproducible")
        .join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The core module of tests/c/lists_files.c, its init exported as `init`.
fn core_module(dir: &Path, init: &str) -> Vec<u8> {
    let wasm = dir.join("lists.wasm");
    run(Command::new("clang-14")
        .args(["--target=wasm32-wasi", "-mexec-model=reactor", "-O2"])
        .arg(format!("-DINIT_EXPORT=\"{init}\""))
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/lists_files.c"))
        .arg("-o")
        .arg(&wasm));
    std::fs::read(&wasm).unwrap()
}

/// A directory holding `names` (each file holds its own name), created in that order, every
/// time set `age` before now.
fn tree(dir: &Path, names: &[&str], age: Duration) -> PathBuf {
    std::fs::create_dir_all(dir).unwrap();
    let when = SystemTime::now() - age;
    for name in names {
        let path = dir.join(name);
        std::fs::write(&path, name).unwrap();
        let file = std::fs::File::options().write(true).open(&path).unwrap();
        file.set_times(
            std::fs::FileTimes::new()
                .set_accessed(when)
                .set_modified(when),
        )
        .unwrap();
    }
    dir.to_path_buf()
}

/// Two copies of the same files, made apart in time and order.
fn two_copies(root: &Path) -> [PathBuf; 2] {
    let names = ["delta.py", "alpha.py", "charlie.py", "bravo.py", "echo.py"];
    let mut reversed = names;
    reversed.reverse();
    [
        tree(&root.join("one"), &names, Duration::from_secs(86_400 * 400)),
        tree(&root.join("two"), &reversed, Duration::from_secs(0)),
    ]
}

fn wall() -> i64 {
    match compsnap::World::default() {
        compsnap::World::Deterministic { wall, .. } => wall as i64,
        compsnap::World::Host => unreachable!("the default world is deterministic"),
    }
}

fn listing(mut name_byte: impl FnMut(i32) -> String) -> String {
    let mut out = String::new();
    for i in 0..64 {
        let b = name_byte(i);
        let b: u8 = number(&b)
            .try_into()
            .unwrap_or_else(|_| panic!("name-byte({i}) -> {b}"));
        if b == 0 {
            break;
        }
        out.push(b as char);
    }
    out
}

/// The one number in a call's results (`[S32(97)]`, `[I64(5)]`).
fn number(results: &str) -> i64 {
    results
        .split(['(', ')'])
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or_else(|| panic!("not one number: {results}"))
}

const SORTED: &str = "alpha.py/bravo.py/charlie.py/delta.py/echo.py/";

#[test]
fn fresh_copies_of_the_preopens_give_the_same_component_snapshot() {
    let root = scratch("component");
    let core = core_module(&root, "wizer-initialize");
    let input = wit_component(&core, WIT, "lists", true);
    let copies = two_copies(&root);
    let outputs: Vec<Vec<u8>> = copies
        .iter()
        .map(|dir| {
            let mut snap = compsnap::Snapshotter::new();
            snap.allow_wasi(true).dir(dir, "/data");
            snap.snapshot(&input).expect("snapshot")
        })
        .collect();
    assert!(
        outputs[0] == outputs[1],
        "two fresh copies of the same files give different snapshots"
    );
    let mut running = Running::new(&outputs[0]);
    assert_eq!(
        listing(|i| running.call(&format!("name-byte({i})"))),
        SORTED
    );
    assert_eq!(running.call("mtime()"), format!("[S64({})]", wall()));
    assert_eq!(running.call("atime()"), format!("[S64({})]", wall()));

    // The host world shows the files as they are: the mtime of the copy made 400 days ago.
    let mut snap = compsnap::Snapshotter::new();
    snap.allow_wasi(true)
        .host_world(true)
        .dir(&copies[0], "/data");
    let host = snap.snapshot(&input).expect("snapshot in the host world");
    let real = std::fs::metadata(copies[0].join("delta.py"))
        .unwrap()
        .modified()
        .unwrap()
        .duration_since(SystemTime::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64;
    let got = Running::new(&host).call("mtime()");
    assert_ne!(got, format!("[S64({})]", wall()));
    assert!((number(&got) - real).abs() <= 1, "{got} vs {real}");
    let _ = std::fs::remove_dir_all(&root);
}

#[test]
fn fresh_copies_of_the_preopens_give_the_same_core_snapshot() {
    let root = scratch("core");
    let input = core_module(&root, "wizer.initialize");
    let copies = two_copies(&root);
    let outputs: Vec<Vec<u8>> = copies
        .iter()
        .map(|dir| {
            let mut snap = compsnap::Snapshotter::new();
            snap.init_func("wizer.initialize")
                .allow_wasi(true)
                .dir(dir, "/data");
            snap.snapshot(&input).expect("snapshot")
        })
        .collect();
    assert!(
        outputs[0] == outputs[1],
        "two fresh copies of the same files give different snapshots"
    );
    let mut running = CoreRunning::new(&outputs[0], &[]);
    assert_eq!(
        listing(|i| running.outcome(&format!("name-byte({i})"))),
        SORTED
    );
    assert_eq!(number(&running.outcome("mtime()")), wall());

    let mut snap = compsnap::Snapshotter::new();
    snap.init_func("wizer.initialize")
        .allow_wasi(true)
        .host_world(true)
        .dir(&copies[1], "/data");
    let host = snap.snapshot(&input).expect("snapshot in the host world");
    assert_ne!(
        number(&CoreRunning::new(&host, &[]).outcome("mtime()")),
        wall()
    );
    let _ = std::fs::remove_dir_all(&root);
}
