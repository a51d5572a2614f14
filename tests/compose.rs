//! Compositions made with `wasm-compose` from components written in WAT: a provider with a
//! memory, a table and a start function across several modules, and consumers whose init
//! calls it. The composed component is snapshotted, run and compared like any other.

mod common;

use common::{check, snapshotter, wat};
use indexmap::IndexMap;
use std::path::Path;
use wasm_compose::composer::ComponentComposer;
use wasm_compose::config::{Config, Dependency, Instantiation, InstantiationArg};

/// A key-value store with a dispatch table. Two modules: `$tbl` defines the table and fills
/// slot 0 in its start function; `$store` keeps values in memory and writes slots of the
/// imported table.
const PROVIDER: &str = r#"
(component
  (core module $tbl
    (type $r (func (param i32) (result i32)))
    (table (export "t") 4 funcref)
    (memory (export "m") 1)
    (func $double (type $r) (i32.mul (local.get 0) (i32.const 2)))
    (func $start (table.set 0 (i32.const 0) (ref.func $double)) (i32.store (i32.const 0) (i32.const 1)))
    (elem declare func $double)
    (start $start))
  (core module $store
    (type $r (func (param i32) (result i32)))
    (import "tbl" "t" (table 4 funcref))
    (import "tbl" "m" (memory 1))
    (func $square (type $r) (i32.mul (local.get 0) (local.get 0)))
    (func $neg (type $r) (i32.sub (i32.const 0) (local.get 0)))
    (elem declare func $square $neg)
    (func (export "put") (param i32 i32)
      (i32.store (i32.add (i32.const 16) (i32.shl (local.get 0) (i32.const 2))) (local.get 1)))
    (func (export "get") (param i32) (result i32)
      (i32.load (i32.add (i32.const 16) (i32.shl (local.get 0) (i32.const 2)))))
    (func (export "register") (param i32 i32)
      (if (i32.eqz (local.get 1))
        (then (table.set 0 (local.get 0) (ref.func $square)))
        (else (table.set 0 (local.get 0) (ref.func $neg)))))
    (func (export "apply") (param i32 i32) (result i32)
      (call_indirect 0 (type $r) (local.get 1) (local.get 0)))
    (func (export "started") (result i32) (i32.load (i32.const 0))))
  (core instance $t (instantiate $tbl))
  (core instance $s (instantiate $store (with "tbl" (instance $t))))
  (func (export "put") (param "k" u32) (param "v" u32) (canon lift (core func $s "put")))
  (func (export "get") (param "k" u32) (result u32) (canon lift (core func $s "get")))
  (func (export "register") (param "slot" u32) (param "which" u32)
    (canon lift (core func $s "register")))
  (func (export "apply") (param "slot" u32) (param "x" s32) (result s32)
    (canon lift (core func $s "apply")))
  (func (export "started") (result u32) (canon lift (core func $s "started"))))
"#;

/// The provider's interface as a consumer imports it.
const PROVIDER_TYPE: &str = r#"
      (export "put" (func (param "k" u32) (param "v" u32)))
      (export "get" (func (param "k" u32) (result u32)))
      (export "register" (func (param "slot" u32) (param "which" u32)))
      (export "apply" (func (param "slot" u32) (param "x" s32) (result s32)))
      (export "started" (func (result u32)))"#;

/// A consumer importing one provider per name in `imports`; its init sends `values[i]` to
/// provider `i % n` under key `i / n` and registers a function there, and counts its own runs.
/// It re-exports each provider's readers as `<name>-get` and so on.
fn consumer(imports: &[&str], values: &[u32]) -> Vec<u8> {
    let mut text = String::from("(component\n");
    for name in imports {
        text += &format!("  (import \"{name}\" (instance ${name} {PROVIDER_TYPE}))\n");
        text += &format!("  (core func ${name}-put (canon lower (func ${name} \"put\")))\n");
        text += &format!("  (core func ${name}-reg (canon lower (func ${name} \"register\")))\n");
    }
    text += "  (core module $c\n";
    for name in imports {
        text += &format!("    (import \"{name}\" \"put\" (func ${name}-put (param i32 i32)))\n");
        text += &format!("    (import \"{name}\" \"reg\" (func ${name}-reg (param i32 i32)))\n");
    }
    text += "    (global $runs (mut i32) (i32.const 0))\n";
    text += "    (func (export \"init\")\n";
    text += "      (global.set $runs (i32.add (global.get $runs) (i32.const 1)))\n";
    let n = imports.len();
    for (i, v) in values.iter().enumerate() {
        let (name, key) = (imports[i % n], i / n);
        text += &format!("      (call ${name}-put (i32.const {key}) (i32.const {v}))\n");
        text += &format!(
            "      (call ${name}-reg (i32.const {}) (i32.const {}))\n",
            1 + key % 3,
            v % 2
        );
    }
    text += "    )\n    (func (export \"runs\") (result i32) (global.get $runs)))\n";
    text += "  (core instance $ci (instantiate $c\n";
    for name in imports {
        text += &format!(
            "    (with \"{name}\" (instance (export \"put\" (func ${name}-put)) (export \"reg\" (func ${name}-reg))))\n"
        );
    }
    text += "  ))\n";
    text += "  (func (export \"init\") (canon lift (core func $ci \"init\")))\n";
    text += "  (func (export \"runs\") (result u32) (canon lift (core func $ci \"runs\")))\n";
    for name in imports {
        for f in ["get", "apply", "started"] {
            text += &format!("  (export \"{name}-{f}\" (func ${name} \"{f}\"))\n");
        }
    }
    text += ")\n";
    wat(&text)
}

/// Composes `root` with providers: `instances` names each provider instance and the consumer
/// import it satisfies.
fn compose(dir: &Path, root: &[u8], instances: &[(&str, &str)]) -> Vec<u8> {
    std::fs::write(dir.join("root.wasm"), root).unwrap();
    std::fs::write(dir.join("provider.wasm"), wat(PROVIDER)).unwrap();
    let mut config = Config {
        dir: dir.to_path_buf(),
        disallow_imports: true,
        ..Config::default()
    };
    config.dependencies.insert(
        "provider".into(),
        Dependency {
            path: dir.join("provider.wasm"),
        },
    );
    let mut arguments = IndexMap::new();
    for (instance, import) in instances {
        config.instantiations.insert(
            instance.to_string(),
            Instantiation {
                dependency: Some("provider".into()),
                arguments: IndexMap::new(),
            },
        );
        arguments.insert(
            import.to_string(),
            InstantiationArg {
                instance: instance.to_string(),
                export: None,
            },
        );
    }
    config.instantiations.insert(
        wasm_compose::composer::ROOT_COMPONENT_NAME.into(),
        Instantiation {
            dependency: None,
            arguments,
        },
    );
    let root = dir.join("root.wasm");
    ComponentComposer::new(&root, &config)
        .compose()
        .expect("wasm-compose composes the components")
}

fn temp_dir(name: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("compsnap-compose-{name}-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Calls that read back everything the consumer's init did to provider `p`.
fn provider_calls(p: &str) -> Vec<String> {
    let mut calls = vec![format!("{p}-started()")];
    for k in 0..3 {
        calls.push(format!("{p}-get({k})"));
    }
    for slot in 0..4 {
        calls.push(format!("{p}-apply({slot}, 7)"));
    }
    calls
}

fn calls(providers: &[&str]) -> Vec<String> {
    let mut calls = vec!["runs()".to_string()];
    for p in providers {
        calls.extend(provider_calls(p));
    }
    calls
}

fn strs(v: &[String]) -> Vec<&str> {
    v.iter().map(String::as_str).collect()
}

#[test]
fn consumer_init_fills_a_provider_with_memory_table_and_start() {
    let dir = temp_dir("one");
    let composed = compose(&dir, &consumer(&["p"], &[11, 22, 33]), &[("p1", "p")]);
    let calls = calls(&["p"]);
    let output = check(&snapshotter("init"), &composed, "init", &strs(&calls));
    let tree = compsnap::internals::tree(&composed).unwrap();
    assert_eq!(
        tree.instances.len(),
        3,
        "two provider modules and the consumer"
    );
    // The provider's start function ran at build time; its effect is in the image.
    let mut snap = common::Running::new(&output);
    assert_eq!(snap.call("p-started()"), "[U32(1)]");
    assert_eq!(snap.call("p-apply(0, 7)"), "[S32(14)]");
    assert_eq!(snap.call("p-get(1)"), "[U32(22)]");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn three_components_with_one_provider_per_import() {
    let dir = temp_dir("two");
    let composed = compose(
        &dir,
        &consumer(&["a", "b"], &[5, 6, 7, 8]),
        &[("pa", "a"), ("pb", "b")],
    );
    let calls = calls(&["a", "b"]);
    let (_, stats) = snapshotter("init").snapshot_with_stats(&composed).unwrap();
    check(&snapshotter("init"), &composed, "init", &strs(&calls));
    assert_eq!(stats.sharing.shared, 0, "different states share nothing");
    std::fs::remove_dir_all(dir).ok();
}

#[test]
fn providers_that_end_in_the_same_state_are_emitted_once() {
    let dir = temp_dir("same");
    // Both providers get put(0, 9) and the same registration: identical states.
    let composed = compose(
        &dir,
        &consumer(&["a", "b"], &[9, 9]),
        &[("pa", "a"), ("pb", "b")],
    );
    let calls = calls(&["a", "b"]);
    let (output, stats) = snapshotter("init").snapshot_with_stats(&composed).unwrap();
    check(&snapshotter("init"), &composed, "init", &strs(&calls));
    assert_eq!(
        stats.sharing.shared, 1,
        "the provider definition is emitted once"
    );
    eprintln!(
        "composition with two providers in the same state: input {} bytes, output {} bytes, \
         {} definition shared, {} bytes saved",
        composed.len(),
        output.len(),
        stats.sharing.shared,
        stats.sharing.bytes_saved
    );
    std::fs::remove_dir_all(dir).ok();
}
