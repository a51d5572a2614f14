//! parse → instrument → rewrite without an engine, on every component the other tests use and
//! on synthetic states: the fuzz targets' property, checked on known inputs in every run.

mod common;

/// What a `{body}` placeholder stands for: the `init` and `run` its template lifts.
const BODY: &str = r#"(func (export "init") (global.set $g (i32.const 7)))
    (func (export "run") (result i32) (call $five))"#;

#[test]
fn every_test_component_instruments_and_rewrites_validly_on_synthetic_states() {
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sources = vec![std::fs::read_to_string(dir.join("examples/lookup.wat")).unwrap()];
    // Every component literal in the test files.
    for file in ["tests/snapshot.rs", "tests/tables.rs", "tests/tree.rs"] {
        let text = std::fs::read_to_string(dir.join(file)).unwrap();
        for chunk in text.split("r#\"").skip(1) {
            let body = chunk.split("\"#").next().unwrap_or("");
            // `format!` templates are instantiated with their `{{ }}` unescaped and
            // placeholders set: tree.rs's numbers to 1, snapshot.rs's `{body}` to an init and
            // a `run`, tables.rs's module bodies and types to theirs in `common`.
            let body = body
                .replace("{{", "{")
                .replace("}}", "}")
                .replace("{second}", "1")
                .replace("{bump_a}", "1")
                .replace("{bump_b}", "2")
                .replace("{body}", BODY)
                .replace(
                    "{TABLES_WITH_INITIALIZERS}",
                    common::TABLES_WITH_INITIALIZERS,
                )
                .replace("{PROBE_BUILT_ARGUMENTS}", common::PROBE_BUILT_ARGUMENTS)
                .replace("{types}", &common::wide_struct_types());
            if body.trim_start().starts_with("(component") {
                sources.push(body);
            }
        }
    }
    assert!(sources.len() > 20, "found {} components", sources.len());
    // `COMPSNAP_WRITE_SEEDS=DIR cargo test --test offline` writes them as fuzzing seeds.
    let seeds = std::env::var_os("COMPSNAP_WRITE_SEEDS").map(std::path::PathBuf::from);
    let mut rewritten = 0;
    for (n, source) in sources.iter().enumerate() {
        let bytes = wat::parse_str(source).expect("test component parses");
        if let Some(dir) = &seeds {
            std::fs::create_dir_all(dir).unwrap();
            let mut seed = vec![0x5a; 32];
            seed.extend_from_slice(&bytes);
            std::fs::write(dir.join(format!("test-{n}.bin")), seed).unwrap();
        }
        for seed in [
            &b""[..],
            b"\x01\x02\x03",
            b"\xff\x80\x07\x00\x10\x33",
            &[7u8; 64][..],
        ] {
            if compsnap::internals::offline_pipeline(&bytes, seed).is_ok() {
                rewritten += 1;
            }
        }
    }
    assert!(
        rewritten >= sources.len() * 3,
        "only {rewritten} rewrites succeeded"
    );
}

/// Found by `pipeline_bytes`: a shared mutable global made the accessor's import mismatch.
#[test]
fn shared_mutable_globals_are_refused_not_mangled() {
    let input = wat::parse_str(
        r#"(component
             (core module $m (global (shared mut i32) (i32.const 0)))
             (core instance (instantiate $m)))"#,
    )
    .unwrap();
    let err = compsnap::internals::offline_pipeline(&input, &[1, 2, 3]).unwrap_err();
    assert!(
        format!("{err:#}").contains("global 0: shared mutable globals are not supported"),
        "{err:#}"
    );
}
