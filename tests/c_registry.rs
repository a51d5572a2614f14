//! A real toolchain: a C plugin registry compiled with Debian's clang-14 + wasi-libc, made
//! into a component with wit-component and the WASI preview1 adapter. Its init (which reads
//! the environment through WASI) grows the indirect function table and registers function
//! pointers in the new slots; `dispatch` calls through them.
//!
//! Needs the apt packages clang-14, clang-19, lld, wasi-libc and libclang-rt-14-dev-wasm32
//! (`.ci/run` installs them).

mod common;

use common::{check_with_env, wit_component, Running};
use std::path::{Path, PathBuf};
use std::process::Command;

use common::c_build::{registry_module as build_core_module, run, REGISTRY_WIT};

fn component(core: Vec<u8>) -> Vec<u8> {
    wit_component(&core, REGISTRY_WIT, "registry", true)
}

fn temp_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("compsnap-c-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

#[test]
fn c_plugin_registry_grows_and_fills_the_function_table_during_init() {
    let dir = temp_dir();
    let input = component(build_core_module(&dir));
    let _ = std::fs::remove_dir_all(&dir);

    let mut snap = compsnap::Snapshotter::new();
    snap.allow_wasi(true).env("PLUGINS", "6");
    let env: &[(&str, &str)] = &[("PLUGINS", "6")];
    let calls = [
        "plugins()",
        "dispatch(0, 5)",
        "dispatch(1, 5)",
        "dispatch(2, 5)",
        "dispatch(3, 5)",
        "dispatch(4, 5)",
        "dispatch(5, 5)",
    ];
    let out = check_with_env(&snap, &input, "wizer-initialize", &calls, Some(env));
    let (again, stats) = snap.snapshot_with_stats(&input).unwrap();
    assert_eq!(again, out, "deterministic");
    let original = wasmparser::Parser::new(0)
        .parse_all(&input)
        .filter_map(|p| match p.unwrap() {
            wasmparser::Payload::TableSection(r) => {
                r.into_iter().next().map(|t| t.unwrap().ty.initial)
            }
            _ => None,
        })
        .next()
        .expect("the C module defines its function table");
    let table = stats
        .tables
        .iter()
        .find(|t| t.slots as u64 == original + 6)
        .unwrap_or_else(|| {
            panic!(
                "no table grew by 6 slots from {original}: {:?}",
                stats.tables
            )
        });
    eprintln!("indirect function table: {table:?}");
    assert_eq!(
        table.folded,
        table.slots - table.nulls,
        "the owner writes every slot, foldably"
    );
    let mut run = Running::new(&out);
    assert_eq!(run.call("plugins()"), "[U32(6)]");
    assert_eq!(run.call("dispatch(2, 5)"), "[U32(25)]");
    assert_eq!(
        run.call("dispatch(3, 5)"),
        format!("[U32({})]", 0u32.wrapping_sub(5))
    );
    assert_eq!(run.call("dispatch(5, 5)"), "[U32(10)]");
}

/// tests/c/stdin_words.c: its init is the core export `componentize.wizer`, which the component
/// does not lift, and it reads stdin; compsnap lifts it and feeds `--stdin` bytes.
#[test]
fn c_core_init_reads_stdin() {
    // Not inside temp_dir(): the other test removes that one when it is done.
    let dir = std::env::temp_dir().join(format!("compsnap-c-stdin-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let wasm = dir.join("stdin_words.wasm");
    run(Command::new("clang-14")
        .args(["--target=wasm32-wasi", "-mexec-model=reactor", "-O2"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/stdin_words.c"))
        .arg("-o")
        .arg(&wasm));
    let core = std::fs::read(&wasm).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let wit = r#"
        package test:words;
        world words {
            export words: func() -> u32;
            export first-byte: func() -> u32;
            export say: func() -> u32;
        }"#;
    let input = wit_component(&core, wit, "words", true);

    let mut snap = compsnap::Snapshotter::new();
    snap.init_func("componentize.wizer")
        .allow_wasi(true)
        .stdin("  three little\twords\n");
    let out = snap.snapshot(&input).expect("snapshot");
    compsnap::validate(&out).unwrap();
    let mut running = Running::with_wasi(&out, Some(&[]));
    assert_eq!(running.call("words()"), "[U32(3)]");
    assert_eq!(running.call("first-byte()"), "[U32(32)]");
    assert_eq!(running.call("say()"), "[U32(3)]");
    assert_eq!(Running::with_wasi(&input, None).call("words()"), "[U32(0)]");
    let before = snap.state(&input, true).unwrap();
    let after = snap.state(&out, false).unwrap();
    assert_eq!(common::state_diff(&before, &after), None);
}

/// tests/c/keeps_file.c built as a WASI reactor in a fresh directory that also holds the
/// `data/config.txt` it opens; returns the directory and the core module.
fn keeps_file(name: &str) -> (PathBuf, Vec<u8>) {
    let dir = std::env::temp_dir().join(format!("compsnap-{name}-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("data")).unwrap();
    std::fs::write(dir.join("data/config.txt"), "hello").unwrap();
    let wasm = dir.join("keeps.wasm");
    run(Command::new("clang-14")
        .args(["--target=wasm32-wasi", "-mexec-model=reactor", "-O2"])
        .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/keeps_file.c"))
        .arg("-o")
        .arg(&wasm));
    let core = std::fs::read(&wasm).unwrap();
    (dir, core)
}

/// Snapshots `input` with the init keeping its file (refused, naming the handle, and so is
/// its state after init), then closing it; returns the second snapshot.
fn refused_then_closed(mut snap: compsnap::Snapshotter, input: &[u8], dir: &Path) -> Vec<u8> {
    snap.allow_wasi(true).dir(dir.join("data"), "/data");
    let msg = format!("{:#}", snap.snapshot(input).unwrap_err());
    assert!(
        msg.contains("1 open file(s) (wasi:filesystem/types.descriptor)"),
        "{msg}"
    );
    // The state after init, which `verify` compares, is refused alike.
    let msg = format!("{:#}", snap.state(input, true).unwrap_err());
    assert!(
        msg.contains("1 open file(s) (wasi:filesystem/types.descriptor)"),
        "state: {msg}"
    );
    snap.env("CLOSE", "1");
    let out = snap
        .snapshot(input)
        .expect("an init that closes its file snapshots");
    let _ = std::fs::remove_dir_all(dir);
    out
}

/// tests/c/keeps_file.c: an init (wasi-libc, preview1 adapter) that keeps a `FILE*` open.
/// The snapshot would answer -1 where the original reads the file, so it is refused, naming
/// the handle; the same init that closes its file snapshots fine.
#[test]
fn c_init_that_keeps_a_file_open_is_refused() {
    let (dir, core) = keeps_file("c-keeps");
    let wit = r#"
        package test:keeps;
        world keeps {
            export wizer-initialize: func();
            export first: func() -> s32;
        }"#;
    let input = wit_component(&core, wit, "keeps", true);
    let out = refused_then_closed(compsnap::Snapshotter::new(), &input, &dir);
    assert_eq!(Running::new(&out).call("first()"), "[S32(104)]");
}

/// The same init as a core module (Wizer's mode, WASI preview 1): the `FILE*` it keeps is a
/// file descriptor in the host's table, refused the same way.
#[test]
fn core_init_that_keeps_a_file_open_is_refused() {
    let (dir, input) = keeps_file("core-keeps");
    let mut snap = compsnap::Snapshotter::new();
    snap.init_func("wizer-initialize");
    let out = refused_then_closed(snap, &input, &dir);
    assert_eq!(
        common::CoreRunning::new(&out, &[]).outcome("first()"),
        "[I32(104)]"
    );
}
