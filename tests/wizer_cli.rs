//! The compsnap binary run with Wizer's command lines, as the pipelines built around Wizer
//! run it: ComponentizeJS's `wizerBin` spawn, StarlingMonkey's `wasmtime wizer` line, a
//! binary named `wizer`. Errors must read as Wizer's do, since ComponentizeJS parses them.

mod common;

use common::{wat, CoreRunning};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("compsnap-wizer-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// Runs `program args` with `stdin` and the environment `env` added.
fn run(program: &Path, args: &[&str], stdin: &[u8], env: &[(&str, &str)]) -> Output {
    let mut child = Command::new(program)
        .args(args)
        .envs(env.iter().copied())
        .env("COMPSNAP_CACHE_DIR", dir("cache"))
        .env_remove("RUST_BACKTRACE")
        .env_remove("RUST_LIB_BACKTRACE")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child.stdin.take().unwrap().write_all(stdin).unwrap();
    child.wait_with_output().unwrap()
}

fn compsnap() -> &'static Path {
    Path::new(env!("CARGO_BIN_EXE_compsnap"))
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

/// tests/c/wasi_reads.c: its init reads stdin, `MODE` and `/data/config.txt`.
fn wasi_reads(d: &Path) -> PathBuf {
    let wasm = d.join("reads.wasm");
    common::c_build::run(
        Command::new("clang-14")
            .args(["--target=wasm32-wasi", "-mexec-model=reactor", "-O2"])
            .arg(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/c/wasi_reads.c"))
            .arg("-o")
            .arg(&wasm),
    );
    wasm
}

/// ComponentizeJS 0.23's exact arguments: `--dir=`, `--mapdir=/::`, `--wasm-bulk-memory=true`,
/// `--inherit-env=true`, `-o=`, and the engine's arguments on stdin.
#[test]
fn componentize_js_command_line() {
    let d = dir("cjs");
    let input = wasi_reads(&d);
    std::fs::create_dir_all(d.join("ws/data")).unwrap();
    std::fs::write(d.join("ws/data/config.txt"), "xyz!").unwrap();
    let out = d.join("out.wasm");
    let args = [
        "--allow-wasi".to_string(),
        "--init-func".into(),
        "wizer.initialize".into(),
        format!("--dir={}", d.join("ws").display()),
        format!("--mapdir=/::{}", d.join("ws").display()),
        "--wasm-bulk-memory=true".into(),
        "--inherit-env=true".into(),
        format!("-o={}", out.display()),
        input.display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = run(compsnap(), &args, b"four words on stdin", &[("MODE", "js")]);
    assert!(r.status.success(), "{}", stderr(&r));
    let mut running = CoreRunning::new(&std::fs::read(&out).unwrap(), &[]);
    assert_eq!(running.outcome("words()"), "[I32(4)]", "stdin is inherited");
    assert_eq!(
        running.outcome("mode(0)"),
        "[I32(106)]",
        "MODE=js is inherited"
    );
    assert_eq!(
        running.outcome("config_len()"),
        "[I32(4)]",
        "/ maps the workspace"
    );
    let _ = std::fs::remove_dir_all(&d);
}

/// Without `-o` the module goes to stdout; without an input it comes from stdin.
#[test]
fn stdin_to_stdout() {
    let input = wat(r#"
        (module (global $g (mut i32) (i32.const 0))
          (func (export "wizer.initialize") (global.set $g (i32.const 7)))
          (func (export "g") (result i32) (global.get $g)))
    "#);
    let r = run(
        compsnap(),
        &["--keep-init-func=false", "--allow-wasi=false"],
        &input,
        &[],
    );
    assert!(r.status.success(), "{}", stderr(&r));
    assert!(r.stdout.starts_with(b"\0asm"));
    assert_eq!(CoreRunning::new(&r.stdout, &[]).outcome("g()"), "[I32(7)]");
}

/// A trapping init: exit status 1, no output, and stderr in Wizer's words, which
/// ComponentizeJS's `parseWizerStderr` reduces to what the guest printed.
#[test]
fn trapping_init_reads_as_wizer_and_componentize_js_parses_it() {
    let d = dir("trap");
    let input = d.join("trap.wat");
    std::fs::write(
        &input,
        r#"(module
          (import "wasi_snapshot_preview1" "proc_exit" (func $exit (param i32)))
          (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
          (memory (export "memory") 1)
          (data (i32.const 16) "SyntaxError: oops\n")
          (func (export "componentize.wizer")
            (i32.store (i32.const 0) (i32.const 16))
            (i32.store (i32.const 4) (i32.const 18))
            (drop (call $w (i32.const 2) (i32.const 0) (i32.const 1) (i32.const 8)))
            (call $exit (i32.const 1))))"#,
    )
    .unwrap();
    let out = d.join("out.wasm");
    let out_arg = format!("-o={}", out.display());
    let args = [
        "--allow-wasi",
        "--init-func",
        "componentize.wizer",
        "--wasm-bulk-memory=true",
        &out_arg,
        input.to_str().unwrap(),
    ];
    let r = run(compsnap(), &args, b"", &[]);
    assert!(!r.status.success());
    assert!(!out.exists(), "no output after a failed init");
    let err = stderr(&r);
    assert!(
        err.contains("Error: the `componentize.wizer` function trapped\n\nCaused by:"),
        "{err}"
    );
    assert!(err.contains("Exited with i32 exit status 1"), "{err}");
    // ComponentizeJS 0.23's parseWizerStderr, step for step.
    let cause = err
        .find("Error: the `componentize.wizer` function trapped\n\nCaused by:")
        .unwrap();
    let exit = err.find("Exited with i32 exit status").unwrap();
    let end = err[exit + 1..]
        .find('\n')
        .map_or(err.len(), |i| exit + 1 + i);
    let parsed = format!("{}{}", &err[..cause], &err[end..]);
    assert_eq!(parsed.trim(), "SyntaxError: oops");
    let _ = std::fs::remove_dir_all(&d);
}

/// Turning off a feature the input uses is an error naming the flag; others are no-ops.
#[test]
fn feature_flags() {
    let d = dir("features");
    let simd = d.join("simd.wat");
    std::fs::write(
        &simd,
        r#"(module (global (mut v128) (v128.const i64x2 0 0)) (func (export "wizer.initialize")))"#,
    )
    .unwrap();
    let out = d.join("o.wasm");
    let out = out.to_str().unwrap();
    let r = run(
        compsnap(),
        &["--wasm-simd=false", "-o", out, simd.to_str().unwrap()],
        b"",
        &[],
    );
    assert!(!r.status.success());
    assert!(
        stderr(&r).contains("`--wasm-simd=false` turns off"),
        "{}",
        stderr(&r)
    );
    let r = run(
        compsnap(),
        &[
            "--wasm-multi-memory=false",
            "--wasm-simd=true",
            "-o",
            out,
            simd.to_str().unwrap(),
        ],
        b"",
        &[],
    );
    assert!(r.status.success(), "{}", stderr(&r));
    let _ = std::fs::remove_dir_all(&d);
}

/// StarlingMonkey's `wasmtime wizer` line, spelled `compsnap wizer`; and a binary named
/// `wizer`.
#[test]
fn wasmtime_wizer_line_and_a_binary_named_wizer() {
    let d = dir("wasmtime");
    let input = wasi_reads(&d);
    std::fs::create_dir_all(d.join("data")).unwrap();
    std::fs::write(d.join("data/config.txt"), "12345").unwrap();
    let out = d.join("out.wasm");
    let dir_arg = format!("{}::/data", d.join("data").display());
    let args = [
        "wizer",
        "-S",
        "cli",
        "-S",
        "inherit-env",
        "-W",
        "bulk-memory",
        "-W",
        "unknown-imports-trap",
        "--dir",
        &dir_arg,
        "--init-func",
        "wizer.initialize",
        "-o",
        out.to_str().unwrap(),
        input.to_str().unwrap(),
    ];
    let r = run(compsnap(), &args, b"a b", &[("MODE", "sm")]);
    assert!(r.status.success(), "{}", stderr(&r));
    let mut running = CoreRunning::new(&std::fs::read(&out).unwrap(), &[]);
    assert_eq!(running.outcome("words()"), "[I32(2)]");
    assert_eq!(running.outcome("mode(1)"), "[I32(109)]");
    assert_eq!(running.outcome("config_len()"), "[I32(5)]");

    // `wizer` on PATH pointing at compsnap: Wizer's own defaults (init `wizer.initialize`).
    let wizer = d.join("wizer");
    std::os::unix::fs::symlink(compsnap(), &wizer).unwrap();
    let simple = wat(r#"
        (module (global $g (mut i32) (i32.const 0))
          (func (export "wizer.initialize") (global.set $g (i32.const 3)))
          (func (export "g") (result i32) (global.get $g)))
    "#);
    let r = run(&wizer, &[], &simple, &[]);
    assert!(r.status.success(), "{}", stderr(&r));
    assert_eq!(CoreRunning::new(&r.stdout, &[]).outcome("g()"), "[I32(3)]");
    let _ = std::fs::remove_dir_all(&d);
}
