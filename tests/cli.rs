//! The command line: exit codes, messages, and that OUTPUT is replaced atomically or not at all.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn compsnap(args: &[&str]) -> Output {
    compsnap_with_cache(args, &test_cache())
}

/// The compile cache the tests use, out of the user's home: one directory per test process.
fn test_cache() -> PathBuf {
    std::env::temp_dir().join(format!("compsnap-cli-cache-{}", std::process::id()))
}

fn compsnap_with_cache(args: &[&str], cache: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_compsnap"))
        .args(args)
        .env("COMPSNAP_CACHE_DIR", cache)
        .output()
        .expect("run compsnap")
}

/// The files in the compile cache `dir`, none when it does not exist.
fn cache_entries(dir: &Path) -> Vec<PathBuf> {
    std::fs::read_dir(dir)
        .map(|d| d.map(|e| e.unwrap().path()).collect())
        .unwrap_or_default()
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

struct Dir(PathBuf);

impl Dir {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("compsnap-cli-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Dir(dir)
    }
    fn file(&self, name: &str, contents: &[u8]) -> String {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path.to_string_lossy().into_owned()
    }
    fn path(&self, name: &str) -> String {
        self.0.join(name).to_string_lossy().into_owned()
    }
    /// Every file name in the directory, sorted.
    fn listing(&self) -> Vec<String> {
        let mut names: Vec<String> = std::fs::read_dir(&self.0)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }
}

impl Drop for Dir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn example() -> String {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("examples/lookup.wat")
        .to_string_lossy()
        .into_owned()
}

const TRAPS: &str = r#"(component
  (core module $m (func (export "wizer-initialize") unreachable))
  (core instance $i (instantiate $m))
  (func (export "wizer-initialize") (canon lift (core func $i "wizer-initialize"))))"#;

const HANGS: &str = r#"(component
  (core module $m (func (export "wizer-initialize") (loop br 0)))
  (core instance $i (instantiate $m))
  (func (export "wizer-initialize") (canon lift (core func $i "wizer-initialize"))))"#;

#[test]
fn snapshots_the_example_deterministically() {
    let dir = Dir::new("example");
    let (a, b) = (dir.path("a.wasm"), dir.path("b.wasm"));
    let out = compsnap(&[&example(), "-o", &a, "-v"]);
    assert!(out.status.success(), "{}", stderr(&out));
    for stage in [
        "parse",
        "instrument",
        "compile",
        "init",
        "dump",
        "snapshot",
        "rewrite",
    ] {
        assert!(
            stderr(&out).contains(&format!("compsnap: {stage}")),
            "{}",
            stderr(&out)
        );
    }
    let out = compsnap(&[&example(), "-o", &b]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
    assert_eq!(dir.listing(), ["a.wasm", "b.wasm"]);
}

/// README's first look at a result: `compsnap call` on the snapshot answers without any init;
/// on the input the same call traps (its table is built by the init).
#[test]
fn call_shows_a_snapshot_answering_without_init() {
    let dir = Dir::new("call");
    let snap = dir.path("lookup.snap.wasm");
    assert!(compsnap(&[&example(), "-o", &snap]).status.success());
    let out = compsnap(&["call", &snap, "run(3)", "run(0)"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 2, "{stdout}");
    assert!(
        lines[0].starts_with("run(3) -> ") && !lines[0].contains("trap"),
        "{stdout}"
    );
    let out = compsnap(&["call", &example(), "run(3)"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("run(3) -> trap"));
    let out = compsnap(&["call", &snap, "nope()"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("no export `nope`"),
        "{}",
        stderr(&out)
    );
}

#[test]
fn trapping_init_keeps_the_previous_output() {
    let dir = Dir::new("trap");
    let input = dir.file("in.wat", TRAPS.as_bytes());
    let output = dir.file("out.wasm", b"previous");
    let out = compsnap(&[&input, "-o", &output]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.starts_with("error: "), "{err}");
    assert!(err.contains("unreachable"), "{err}");
    assert!(err.contains("wasm backtrace"), "{err}");
    assert_eq!(std::fs::read(&output).unwrap(), b"previous");
    assert_eq!(
        dir.listing(),
        ["in.wat", "out.wasm"],
        "no temp file is left behind"
    );
}

/// An init that fills 64 MiB: its output takes long enough to write and validate to be seen.
const FILLS_64_MIB: &str = r#"(component
  (core module $m
    (memory 1)
    (func (export "wizer-initialize") (local $p i32)
      (drop (memory.grow (i32.const 1023)))
      (loop $l
        (i64.store (local.get $p) (i64.const 0x0101010101010101))
        (local.set $p (i32.add (local.get $p) (i32.const 8)))
        (br_if $l (i32.lt_u (local.get $p) (i32.const 0x4000000))))))
  (core instance $i (instantiate $m))
  (func (export "wizer-initialize") (canon lift (core func $i "wizer-initialize"))))"#;

/// On Linux a new output has no name in its directory until it is whole (the staged file is
/// unnamed, `O_TMPFILE`, and linked as the output once it validates): a run watched throughout
/// shows nothing else there, and a run killed part way leaves nothing or the whole output.
#[cfg(target_os = "linux")]
#[test]
fn the_output_directory_never_shows_a_partial_file() {
    let dir = Dir::new("unnamed");
    let input = dir.file("in.wat", FILLS_64_MIB.as_bytes());
    let out_dir = Dir::new("unnamed-out");
    let output = out_dir.path("out.wasm");
    let cache = test_cache();
    let start = || {
        Command::new(env!("CARGO_BIN_EXE_compsnap"))
            .args([&input, "-o", &output])
            .env("COMPSNAP_CACHE_DIR", &cache)
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("run compsnap")
    };
    let mut seen = std::collections::BTreeSet::new();
    let mut child = start();
    let t = std::time::Instant::now();
    // Each listing comes after the check for an exit, so the last one is taken after it: a
    // run that ended between a listing and the check was never seen with its output (it
    // happened twice in four runs of the whole suite).
    let status = loop {
        let exited = child.try_wait().unwrap();
        seen.extend(out_dir.listing());
        if let Some(status) = exited {
            break status;
        }
    };
    let took = t.elapsed();
    assert!(status.success());
    assert_eq!(
        Vec::from_iter(seen),
        ["out.wasm"],
        "only the output ever shows"
    );
    let whole = std::fs::read(&output).unwrap();
    for part in [0.2, 0.4, 0.6, 0.8] {
        let _ = std::fs::remove_file(&output);
        let mut child = start();
        std::thread::sleep(took.mul_f64(part));
        let _ = child.kill();
        child.wait().unwrap();
        match out_dir.listing()[..] {
            [] => {}
            [ref name] if name == "out.wasm" => {
                assert!(std::fs::read(&output).unwrap() == whole, "a whole output")
            }
            ref other => panic!("killed at {part} of the run, the directory has {other:?}"),
        }
    }
}

#[test]
fn hanging_init_times_out() {
    let dir = Dir::new("hang");
    let input = dir.file("in.wat", HANGS.as_bytes());
    let out = compsnap(&[&input, "-o", &dir.path("out.wasm"), "--init-timeout", "0.5"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("did not finish within 0.5 s"),
        "{}",
        stderr(&out)
    );
    assert_eq!(dir.listing(), ["in.wat"]);
}

#[test]
fn bad_inputs_get_one_clear_message() {
    let dir = Dir::new("bad");
    let cases: Vec<(String, &str)> = vec![
        (dir.path("missing.wasm"), "reading"),
        (
            dir.file("text.wasm", b"\xff\xfe not wasm"),
            "neither a WebAssembly binary",
        ),
        (
            dir.file("bad.wat", b"(component (core module (func i32.add)))"),
            "does not validate",
        ),
        (
            dir.file("core.wat", b"(module)"),
            "init function `wizer-initialize` is not exported by the module",
        ),
        (
            dir.file("trunc.wasm", &[0, b'a', b's', b'm', 0x0d, 0, 1, 0, 1]),
            "does not validate",
        ),
    ];
    for (input, expected) in cases {
        let out = compsnap(&[&input, "-o", &dir.path("out.wasm")]);
        assert!(!out.status.success(), "{input}");
        let err = stderr(&out);
        assert!(err.contains(expected), "{input}: {err}");
        assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    }
    assert!(!dir.listing().contains(&"out.wasm".to_string()));
}

#[test]
fn missing_init_export_lists_what_there_is() {
    let dir = Dir::new("noinit");
    let out = compsnap(&[&example(), "-o", &dir.path("o.wasm"), "-f", "setup"]);
    assert!(!out.status.success());
    let err = stderr(&out);
    assert!(err.contains("`setup` is not exported"), "{err}");
    assert!(err.contains("wizer-initialize, run"), "{err}");
}

#[test]
fn wasi_options_require_allow_wasi() {
    let dir = Dir::new("wasiopts");
    let out = compsnap(&[&example(), "-o", &dir.path("o.wasm"), "--env", "A=B"]);
    assert!(!out.status.success());
    assert!(stderr(&out).contains("--allow-wasi"), "{}", stderr(&out));
}

#[test]
fn verbose_reports_each_table() {
    let dir = Dir::new("tables");
    let input = dir.file(
        "in.wat",
        br#"(component
  (core module $m
    (table $t 2 funcref)
    (func $f)
    (elem declare func $f)
    (func (export "wizer-initialize")
      (drop (table.grow $t (ref.func $f) (i32.const 3)))
      (table.set $t (i32.const 0) (ref.func $f))))
  (core instance $i (instantiate $m))
  (func (export "wizer-initialize") (canon lift (core func $i "wizer-initialize"))))"#,
    );
    let out = compsnap(&[&input, "-o", &dir.path("out.wasm"), "-v"]);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(
        stderr(&out).contains(
            "table root/core instance 0 (module 0), dfs id 0, table 0: 5 slots, 1 null, \
             4 folded into the owner's image, 0 written by other instances"
        ),
        "{}",
        stderr(&out)
    );
}

/// One case per failure class: each exits non-zero with one `error:` message naming the
/// cause, and leaves the previous output and the directory untouched.
#[test]
fn every_failure_keeps_the_previous_output() {
    let dir = Dir::new("failures");
    let output = dir.file("out.wasm", b"previous");
    let component = |core: &str, tail: &str| {
        format!(r#"(component (core module $m {core}) (core instance $i (instantiate $m)) {tail})"#)
    };
    let lifted = r#"(func (export "wizer-initialize") (canon lift (core func $i "init")))"#;
    let cases: Vec<(&str, Vec<String>, String)> = vec![
        (
            "directory",
            vec![dir.0.to_string_lossy().into_owned()],
            "reading".into(),
        ),
        (
            "not an export",
            vec![
                dir.file(
                    "a.wat",
                    component(r#"(func (export "init"))"#, lifted).as_bytes(),
                ),
                "-f".into(),
                "nope".into(),
            ],
            "`nope` is not exported".into(),
        ),
        (
            "mistyped export",
            vec![
                dir.file(
                    "b.wat",
                    br#"(component (core module $m) (instance $x) (export "setup" (instance $x)))"#,
                ),
                "-f".into(),
                "setup".into(),
            ],
            "exports `setup` as an instance".into(),
        ),
        (
            "bad WAVE",
            vec![
                dir.file(
                    "c.wat",
                    component(r#"(func (export "init"))"#, lifted).as_bytes(),
                ),
                "-f".into(),
                "wizer-initialize(1 2)".into(),
            ],
            "bad WAVE arguments".into(),
        ),
        (
            "memory limit",
            vec![
                dir.file(
                    "d.wat",
                    component(
                        r#"(memory 1) (func (export "init") (drop (memory.grow (i32.const 100))))"#,
                        lifted,
                    )
                    .as_bytes(),
                ),
                "--max-memory".into(),
                "1048576".into(),
            ],
            "beyond --max-memory 1048576 bytes".into(),
        ),
        (
            "WASI denied",
            vec![dir.file(
                "e.wat",
                br#"(component
  (import "wasi:random/random@0.2.0" (instance $r (export "get-random-u64" (func (result u64)))))
  (core func $rand (canon lower (func $r "get-random-u64")))
  (core module $m (import "r" "get" (func $get (result i64))) (global (mut i64) (i64.const 0))
    (func (export "init") (drop (call $get))))
  (core instance $i (instantiate $m (with "r" (instance (export "get" (func $rand))))))
  (func (export "wizer-initialize") (canon lift (core func $i "init"))))"#,
            )],
            "the init called the import `wasi:random/random@0.2.0#get-random-u64`".into(),
        ),
        (
            "unsupported construct",
            vec![dir.file(
                "f.wat",
                component(r#"(memory 1 1 shared) (func (export "init"))"#, lifted).as_bytes(),
            )],
            "memory 0: shared memories are not supported".into(),
        ),
        (
            "64-bit memory beyond 4 GiB",
            vec![dir.file(
                "m64.wat",
                br#"(component
  (core module $m (memory i64 1)
    (func (export "init") (drop (memory.grow (i64.const 65536)))))
  (core instance $i (instantiate $m))
  (func (export "wizer-initialize") (canon lift (core func $i "init"))))"#,
            )],
            "memory 0 of core instance 0 (local id in its component) holds more than 4 GiB \
             after the init"
                .into(),
        ),
        (
            "imported module",
            vec![dir.file(
                "g.wat",
                br#"(component (import "lib" (core module $m)) (core instance (instantiate $m)))"#,
            )],
            "root: imports core module 'lib': its code is not in the input".into(),
        ),
        (
            "root exports a component",
            vec![dir.file(
                "k.wat",
                br#"(component (component $c) (export "c" (component $c)))"#,
            )],
            // Wasmtime refuses to compile it; the error comes first, naming the export.
            "root: exports component definition 'c' (component 0): Wasmtime cannot compile".into(),
        ),
    ];
    for (what, args, expected) in cases {
        let mut argv: Vec<&str> = args.iter().map(String::as_str).collect();
        argv.extend(["-o", output.as_str()]);
        let out = compsnap(&argv);
        let err = stderr(&out);
        assert!(!out.status.success(), "{what}: succeeded");
        assert!(err.starts_with("error: "), "{what}: {err}");
        assert!(
            err.contains(&expected),
            "{what}: expected `{expected}` in: {err}"
        );
        assert_eq!(std::fs::read(&output).unwrap(), b"previous", "{what}");
    }
    assert!(
        dir.listing().iter().all(|n| !n.contains(".compsnap-")),
        "temp files left: {:?}",
        dir.listing()
    );
}

/// `inspect` shows the tree with DFS ids, sizes, and how many table slots fold into the
/// image: none before the snapshot (the table is written by code), all written ones after.
#[test]
fn inspect_shows_the_tree_and_the_folded_table_slots() {
    let dir = Dir::new("inspect");
    let input = dir.file(
        "in.wat",
        br#"(component
  (component $inner
    (core module $m
      (type $r (func (result i32)))
      (table 4 funcref)
      (memory 2)
      (global (mut i32) (i32.const 0))
      (func $a (result i32) i32.const 1)
      (func $b (result i32) i32.const 2)
      (elem declare func $a $b)
      (func (export "init")
        (table.set (i32.const 1) (ref.func $a))
        (table.set (i32.const 2) (ref.func $b))
        (table.set (i32.const 3) (ref.func $a))))
    (core instance $i (instantiate $m))
    (func (export "init") (canon lift (core func $i "init"))))
  (instance $x (instantiate $inner))
  (export "init" (func $x "init")))"#,
    );
    let out = compsnap(&["inspect", &input]);
    assert!(out.status.success(), "{}", stderr(&out));
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("2 component definitions, 1 core modules, 2 nodes, 1 core instances"),
        "{text}"
    );
    assert!(
        text.contains("  instance 0 (component \"inner\")\n"),
        "{text}"
    );
    assert!(
        text.contains("core instance 0 (module 0), dfs id 0"),
        "{text}"
    );
    assert!(text.contains("memory 0: 2 pages (131072 bytes)"), "{text}");
    assert!(text.contains("globals: 1 defined, 1 mutable"), "{text}");
    assert!(
        text.contains("table 0: 4 slots, 0 folded into the table image"),
        "{text}"
    );

    let output = dir.path("out.wasm");
    let out = compsnap(&[&input, "-o", &output, "-f", "init"]);
    assert!(out.status.success(), "{}", stderr(&out));
    let out = compsnap(&["inspect", &output]);
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.contains("table 0: 4 slots, 3 folded into the table image"),
        "{text}"
    );

    let out = compsnap(&["inspect", &dir.path("missing.wasm")]);
    assert_eq!(out.status.code(), Some(1));
    assert!(stderr(&out).contains("reading"), "{}", stderr(&out));
}

/// The second run of the same input loads the compiled component from the cache and writes
/// the same bytes; a damaged entry is compiled again and replaced; `--no-cache` writes none.
#[test]
fn compiled_components_are_cached() {
    let dir = Dir::new("cache");
    let cache = dir.0.join("cache");
    let input = dir.file("in.wat", SETS_STATE.as_bytes());
    let run = |out: &str, extra: &[&str]| {
        let output = dir.path(out);
        let mut args = vec![input.as_str(), "-o", output.as_str(), "-f", "init", "-v"];
        args.extend_from_slice(extra);
        let out = compsnap_with_cache(&args, &cache);
        assert!(out.status.success(), "{}", stderr(&out));
        (std::fs::read(&output).unwrap(), stderr(&out))
    };
    let (first, log) = run("a.wasm", &[]);
    assert!(!log.contains("loaded from the cache"), "{log}");
    assert!(
        log.contains("compsnap: cache "),
        "a fresh entry was stored: {log}"
    );
    let entries = || cache_entries(&cache);
    assert_eq!(entries().len(), 1);
    let (second, log) = run("b.wasm", &[]);
    assert!(log.contains("loaded from the cache"), "{log}");
    assert!(
        !log.contains("compsnap: cache "),
        "a hit stores nothing: {log}"
    );
    assert_eq!(first, second);

    std::fs::write(&entries()[0], b"damaged").unwrap();
    let (third, log) = run("c.wasm", &[]);
    assert!(!log.contains("loaded from the cache"), "{log}");
    assert_eq!(first, third);
    let (_, log) = run("d.wasm", &[]);
    assert!(
        log.contains("loaded from the cache"),
        "the damaged entry was replaced: {log}"
    );

    std::fs::remove_dir_all(&cache).unwrap();
    let (fourth, _) = run("e.wasm", &["--no-cache"]);
    assert_eq!(first, fourth);
    assert!(!cache.exists());
}

/// The compiled component is written to the cache while the init runs: an init that traps
/// still leaves one whole entry and no temporary file, and the next run of the same input
/// loads it instead of writing it again (and fails the same way, leaving no output).
#[test]
#[cfg(unix)]
fn a_trapping_init_still_leaves_a_whole_cache_entry() {
    let dir = Dir::new("cache-trap");
    let cache = dir.0.join("cache");
    let input = dir.file("in.wat", TRAPS.as_bytes());
    let output = dir.path("out.wasm");
    let run = || {
        let out = compsnap_with_cache(&[&input, "-o", &output, "-v"], &cache);
        assert!(!out.status.success());
        let err = stderr(&out);
        assert!(err.contains("unreachable"), "{err}");
        err
    };
    run();
    let first = cache_entries(&cache);
    assert_eq!(first.len(), 1, "{first:?}");
    assert!(
        first[0].extension().is_some_and(|x| x == "cwasm"),
        "{first:?}"
    );
    // A damaged entry would be compiled again and renamed over: a new file.
    use std::os::unix::fs::MetadataExt;
    let inode = |p: &Path| std::fs::metadata(p).unwrap().ino();
    let before = inode(&first[0]);
    run();
    assert_eq!(cache_entries(&cache), first);
    assert_eq!(inode(&first[0]), before, "the second run loaded the entry");
    assert_eq!(dir.listing(), ["cache", "in.wat"]);
}

/// Several compsnap processes filling the same cache entry at once: every one succeeds with
/// the same output, the cache holds one whole entry and no temporary file, and the next run
/// loads it.
#[test]
fn processes_share_the_cache_safely() {
    let dir = Dir::new("cache-race");
    let cache = dir.0.join("cache");
    let input = dir.file("in.wat", SETS_STATE.as_bytes());
    let children: Vec<_> = (0..4)
        .map(|i| {
            Command::new(env!("CARGO_BIN_EXE_compsnap"))
                .args([&input, "-f", "init", "-o", &dir.path(&format!("{i}.wasm"))])
                .env("COMPSNAP_CACHE_DIR", &cache)
                .stderr(std::process::Stdio::null())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", stderr(&out));
    }
    let first = std::fs::read(dir.path("0.wasm")).unwrap();
    for i in 1..4 {
        assert_eq!(
            std::fs::read(dir.path(&format!("{i}.wasm"))).unwrap(),
            first
        );
    }
    let names: Vec<String> = std::fs::read_dir(&cache)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names.len(), 1, "{names:?}");
    assert!(names[0].ends_with(".cwasm"), "{names:?}");
    let out = compsnap_with_cache(
        &[&input, "-f", "init", "-v", "-o", &dir.path("again.wasm")],
        &cache,
    );
    assert!(
        stderr(&out).contains("loaded from the cache"),
        "{}",
        stderr(&out)
    );
}

/// The cache keeps at most `--cache-max` bytes (the newest entry always stays), `compsnap
/// cache clear` empties it, and a cache that cannot be written costs one warning line.
#[test]
fn the_cache_is_bounded_clearable_and_optional() {
    let dir = Dir::new("cache-bounds");
    let cache = dir.0.join("cache");
    let count = || std::fs::read_dir(&cache).map_or(0, |d| d.count());
    for (i, value) in ["7", "8", "9"].iter().enumerate() {
        let input = dir.file(
            &format!("in{i}.wat"),
            SETS_STATE.replace("7", value).as_bytes(),
        );
        let out = compsnap_with_cache(
            &[
                &input,
                "-f",
                "init",
                "--cache-max",
                "1",
                "-o",
                &dir.path("o.wasm"),
            ],
            &cache,
        );
        assert!(out.status.success(), "{}", stderr(&out));
        assert_eq!(count(), 1, "only the newest entry stays under a 1-byte cap");
    }
    let input = dir.file("in.wat", SETS_STATE.as_bytes());
    let out = compsnap_with_cache(&[&input, "-f", "init", "-o", &dir.path("o.wasm")], &cache);
    assert!(out.status.success());
    assert_eq!(count(), 2, "the default cap keeps both");
    let out = compsnap_with_cache(&["cache", "clear"], &cache);
    assert!(out.status.success(), "{}", stderr(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("removed 2 entries"));
    assert_eq!(count(), 0);

    // A file where the cache directory should be: compiled anyway, one warning.
    let not_a_dir = dir.file("not-a-dir", b"");
    let out = compsnap_with_cache(
        &[&input, "-f", "init", "-o", &dir.path("p.wasm")],
        Path::new(&not_a_dir),
    );
    assert!(out.status.success(), "{}", stderr(&out));
    let err = stderr(&out);
    assert_eq!(
        err.matches("warning: the compile cache").count(),
        1,
        "{err}"
    );
}

const SETS_STATE: &str = r#"(component
  (core module $m
    (memory 1)
    (global $g (mut i32) (i32.const 0))
    (func (export "init") (global.set $g (i32.const 7)) (i32.store (i32.const 8) (i32.const 9)))
    (func (export "get") (result i32) (global.get $g)))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "get") (result u32) (canon lift (core func $i "get"))))"#;

#[test]
fn verify_compares_calls_and_state_and_writes_only_on_success() {
    let dir = Dir::new("verify");
    let lookup = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/lookup.wat");
    let out_path = dir.0.join("lookup.snap.wasm");
    let out = compsnap(&[
        "verify",
        lookup,
        "--call",
        "run(3)",
        "--call",
        "run(4)",
        "-o",
        out_path.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{}{stdout}", stderr(&out));
    assert!(stdout.contains("same: run(3)"), "{stdout}");
    assert!(stdout.contains("same: core state"), "{stdout}");
    assert!(out_path.exists());

    // A call that cannot be made is an error, not a "same" outcome.
    let out = compsnap(&["verify", lookup, "--call", "nope()"]);
    assert!(!out.status.success());
    assert!(
        stderr(&out).contains("`nope()`: no such export"),
        "{}",
        stderr(&out)
    );

    // The host's clock is not core state: an original that read it during init sees it one
    // tick later afterwards than a fresh snapshot does. verify (whose clocks are deterministic,
    // so that nothing else differs) reports it, exits non-zero and writes nothing.
    let random = dir.file(
        "clock.wat",
        br#"(component
  (import "wasi:clocks/monotonic-clock@0.2.0" (instance $c (export "now" (func (result u64)))))
  (core func $now (canon lower (func $c "now")))
  (core module $m
    (import "c" "now" (func $now (result i64)))
    (global $t (mut i64) (i64.const 0))
    (func (export "init") (global.set $t (call $now)))
    (func (export "now") (result i64) (call $now)))
  (core instance $i (instantiate $m (with "c" (instance (export "now" (func $now))))))
  (func (export "init") (canon lift (core func $i "init")))
  (func (export "now") (result u64) (canon lift (core func $i "now"))))"#,
    );
    let bad_out = dir.0.join("clock.snap.wasm");
    let out = compsnap(&[
        "verify",
        &random,
        "-f",
        "init",
        "--allow-wasi",
        "--call",
        "now()",
        "-o",
        bad_out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(!out.status.success(), "{stdout}");
    assert!(stdout.contains("DIFFERENT: now()"), "{stdout}");
    assert!(stdout.contains("same: core state"), "{stdout}");
    assert!(stderr(&out).contains("does not behave like the original"));
    assert!(!bad_out.exists());
}

#[test]
fn progress_line_only_on_a_terminal() {
    // An init that spins for a while: long enough for the progress line to be drawn.
    let dir = Dir::new("progress");
    let input = dir.file(
        "spin.wat",
        br#"(component
  (core module $m
    (func (export "init") (local i32)
      (loop $l
        (local.set 0 (i32.add (local.get 0) (i32.const 1)))
        (br_if $l (i32.lt_u (local.get 0) (i32.const 2000000000))))))
  (core instance $i (instantiate $m))
  (func (export "init") (canon lift (core func $i "init"))))"#,
    );
    let output = dir.path("spin.snap.wasm");
    let cache = dir.0.join("cache");
    let command = format!(
        "COMPSNAP_CACHE_DIR={} {} {input} -f init -o {output}",
        cache.display(),
        env!("CARGO_BIN_EXE_compsnap")
    );
    // util-linux `script` runs the command on a pseudo-terminal.
    let tty = Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .output()
        .expect("run `script` (util-linux)");
    let shown = String::from_utf8_lossy(&tty.stdout);
    assert!(tty.status.success(), "{shown}");
    assert!(shown.contains("compsnap: running `init`"), "{shown:?}");
    assert!(
        shown.ends_with("\r\x1b[2K"),
        "the line is erased at the end: {shown:?}"
    );

    let piped = compsnap_with_cache(&[&input, "-f", "init", "-o", &output], &cache);
    assert!(piped.status.success());
    assert_eq!(
        stderr(&piped),
        "",
        "no progress line when stderr is not a terminal"
    );
}

/// A core module through compsnap's own command line: snapshot, `verify` with calls, and
/// `inspect`.
#[test]
fn core_module_snapshot_verify_and_inspect() {
    let dir = Dir::new("core");
    let input = dir.file(
        "core.wat",
        br#"(module
          (type $r (func (result i32)))
          (table $t 1 funcref)
          (elem declare func $seven)
          (global $g (mut i32) (i32.const 0))
          (func $seven (result i32) (i32.const 7))
          (func (export "init")
            (drop (table.grow $t (ref.func $seven) (i32.const 2)))
            (global.set $g (i32.const 35)))
          (func (export "run") (param i32) (result i32)
            (i32.add (global.get $g) (call_indirect (type $r) (local.get 0)))))"#,
    );
    let out = dir.path("core.snap.wasm");
    let r = compsnap(&[&input, "-f", "init", "-o", &out]);
    assert!(r.status.success(), "{}", stderr(&r));
    let r = compsnap(&["call", &out, "run(2)"]);
    assert_eq!(String::from_utf8_lossy(&r.stdout).trim(), "run(2) -> 42");
    let r = compsnap(&[
        "verify", &input, "-f", "init", "--call", "run(1)", "--call", "run(0)",
    ]);
    assert!(r.status.success(), "{}", stderr(&r));
    let stdout = String::from_utf8_lossy(&r.stdout).into_owned();
    assert!(
        stdout.contains("same: run(1)") && stdout.contains("same: core state"),
        "{stdout}"
    );
    let r = compsnap(&["inspect", &out]);
    let report = String::from_utf8_lossy(&r.stdout).into_owned();
    assert!(report.contains("a core module"), "{report}");
    assert!(report.contains("table 0: 3 slots, 2 folded"), "{report}");
}

/// `SOURCE_DATE_EPOCH` sets the wall clock the init reads (the reproducible-builds
/// convention).
#[test]
fn source_date_epoch_sets_the_init_clock() {
    let dir = Dir::new("epoch");
    let input = dir.file(
        "clock.wat",
        br#"(module
          (import "wasi_snapshot_preview1" "clock_time_get"
            (func $clock (param i32 i64 i32) (result i32)))
          (memory (export "memory") 1)
          (func (export "init") (drop (call $clock (i32.const 0) (i64.const 1) (i32.const 0))))
          (func (export "wall") (result i64) (i64.div_u (i64.load (i32.const 0)) (i64.const 1000000000))))"#,
    );
    let out = dir.path("clock.snap.wasm");
    let r = Command::new(env!("CARGO_BIN_EXE_compsnap"))
        .args([&input, "-f", "init", "--allow-wasi", "-o", &out])
        .env("SOURCE_DATE_EPOCH", "1234567890")
        .env("COMPSNAP_CACHE_DIR", dir.path("cache"))
        .output()
        .unwrap();
    assert!(r.status.success(), "{}", stderr(&r));
    let r = compsnap(&["call", &out, "wall()"]);
    assert_eq!(
        String::from_utf8_lossy(&r.stdout).trim(),
        "wall() -> 1234567890"
    );
}
