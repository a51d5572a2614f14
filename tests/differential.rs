//! Differential corpus: generated init programs over memories, globals, tables and two
//! instances (one importing the other's memory, table and a global). For each case the
//! original after init and the snapshot must give identical results and identical state
//! (every memory byte, every global, the identity of every table slot, dropped segments).
//!
//! `cargo test --test differential` runs a 25-case slice; `fuzz/differential.sh` runs 500.
//! A case that ever fails becomes a named regression test below.

mod common;

use common::{check, snapshotter, wat};
use std::fmt::Write;

use compsnap::internals::trees::Rng;

/// What the generator knows statically while it writes the init.
struct Shape {
    table_size: u64,
    pages: [u64; 2],
    elem_dropped: bool,
    data_dropped: bool,
}

/// One generated component: module $a owns two memories, globals and a table (declared with
/// an initializer in every third case); module $b imports $a's memory 0, table and global 0,
/// and adds its own functions to the table.
fn generate(seed: u64) -> String {
    let mut r = Rng::new(seed);
    let mut shape = Shape {
        table_size: 2 + r.below(6),
        pages: [1, 1],
        elem_dropped: false,
        data_dropped: false,
    };
    let mut init_a = String::new();
    let mut init_b = String::new();
    let ops = 8 + r.below(24);
    for _ in 0..ops {
        let (code, in_b) = op(&mut r, &mut shape);
        let _ = writeln!(if in_b { &mut init_b } else { &mut init_a }, "      {code}");
    }
    let table_size0 = shape_initial(seed);
    // Every third case declares the table with an initializer, so its slots start non-null.
    let table_init = match seed % 3 {
        1 => " (ref.func $a1)",
        _ => "",
    };
    format!(
        r#"(component
  (core module $a
    (type $ii (func (param i32) (result i32)))
    (type $ll (func (param i64) (result i64)))
    (memory (export "mem") 1)
    (memory $m1 1)
    (table $t (export "tab") {table_size0} funcref{table_init})
    (global $g0 (export "g0") (mut i32) (i32.const 0))
    (global $g1 (mut i64) (i64.const 0))
    (global $g2 (mut f64) (f64.const 0))
    (global $g3 (mut v128) (v128.const i64x2 0 0))
    (func $a0 (type $ii) (i32.add (local.get 0) (i32.const 11)))
    (func $a1 (type $ii) (i32.mul (local.get 0) (i32.const 3)))
    (func $a2 (type $ll) (i64.sub (local.get 0) (i64.const 5)))
    (elem $pe funcref (ref.func $a2) (ref.func $a0) (ref.func $a1))
    (data $pd "passive data")
    (elem declare func $a0 $a1 $a2)
    (func (export "init-a")
{init_a}    )
    (func (export "probe") (result i64) (local $i i32) (local $s i64)
      (loop $bytes
        (local.set $s (i64.add (i64.mul (local.get $s) (i64.const 31))
          (i64.add (i64.load8_u (local.get $i)) (i64.load8_u $m1 (local.get $i)))))
        (local.set $i (i32.add (local.get $i) (i32.const 1)))
        (br_if $bytes (i32.lt_u (local.get $i) (i32.const 4096))))
      (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (global.get $g0))))
      (local.set $s (i64.add (local.get $s) (global.get $g1)))
      (local.set $s (i64.add (local.get $s) (i64.trunc_sat_f64_s (global.get $g2))))
      (local.set $s (i64.add (local.get $s) (i64x2.extract_lane 1 (global.get $g3))))
      (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (memory.size))))
      (local.set $s (i64.add (local.get $s) (i64.extend_i32_u (memory.size $m1))))
      (local.set $i (i32.const 0))
      (block $done
        (loop $slots
          (br_if $done (i32.ge_u (local.get $i) (table.size $t)))
          (local.set $s (i64.mul (local.get $s) (i64.const 7)))
          (if (ref.is_null (table.get $t (local.get $i)))
            (then (local.set $s (i64.add (local.get $s) (i64.const 1))))
            (else
              (if (ref.test (ref $ii) (table.get $t (local.get $i)))
                (then (local.set $s (i64.add (local.get $s) (i64.extend_i32_u
                  (call_indirect $t (type $ii) (local.get $i) (local.get $i))))))
                (else (local.set $s (i64.add (local.get $s)
                  (call_indirect $t (type $ll) (i64.extend_i32_u (local.get $i)) (local.get $i))))))))
          (local.set $i (i32.add (local.get $i) (i32.const 1)))
          (br $slots)))
      (local.get $s)))
  (core instance $ia (instantiate $a))
  (core module $b
    (type $ii (func (param i32) (result i32)))
    (import "a" "mem" (memory 1))
    (import "a" "tab" (table $t 1 funcref))
    (import "a" "g0" (global $g0 (mut i32)))
    (import "a" "init-a" (func $init_a))
    (global $own (mut i32) (i32.const 0))
    (func $b0 (type $ii) (i32.xor (local.get 0) (i32.const 0x55)))
    (elem declare func $b0)
    (func (export "init")
      (call $init_a)
{init_b}    )
    (func (export "own") (result i32) (global.get $own)))
  (core instance $ib (instantiate $b (with "a" (instance $ia))))
  (func (export "init") (canon lift (core func $ib "init")))
  (func (export "probe") (result s64) (canon lift (core func $ia "probe")))
  (func (export "own") (result u32) (canon lift (core func $ib "own")))
)"#
    )
}

/// The table's initial size for `seed` (the generator's first draw).
fn shape_initial(seed: u64) -> u64 {
    2 + Rng::new(seed).below(6)
}

/// One init operation that cannot trap, and whether it belongs in $b's init.
fn op(r: &mut Rng, s: &mut Shape) -> (String, bool) {
    let slot = |r: &mut Rng, s: &Shape| r.below(s.table_size);
    match r.below(13) {
        0 | 1 => {
            let mem = r.below(2);
            let addr = r.below(s.pages[mem as usize] * 65536 - 8);
            let m = if mem == 1 { " $m1" } else { "" };
            (
                format!(
                    "(i64.store{m} (i32.const {addr}) (i64.const {}))",
                    r.next() as i64
                ),
                false,
            )
        }
        2 => {
            let mem = r.below(2) as usize;
            let n = r.below(3);
            s.pages[mem] += n;
            let m = if mem == 1 { " $m1" } else { "" };
            (format!("(drop (memory.grow{m} (i32.const {n})))"), false)
        }
        3 => (
            format!("(global.set $g0 (i32.const {}))", r.next() as i32),
            r.below(2) == 0,
        ),
        4 => (
            format!("(global.set $g1 (i64.const {}))", r.next() as i64),
            false,
        ),
        5 => (
            format!(
                "(global.set $g2 (f64.const {}))",
                (r.below(1 << 20) as f64) / 8.0
            ),
            false,
        ),
        6 => (
            format!(
                "(global.set $g3 (v128.const i64x2 {} {}))",
                r.next() as i64,
                r.next() as i64
            ),
            false,
        ),
        7 => {
            let f = ["$a0", "$a1", "$a2"][r.below(3) as usize];
            (
                format!("(table.set $t (i32.const {}) (ref.func {f}))", slot(r, s)),
                false,
            )
        }
        8 => {
            let n = 1 + r.below(4);
            let f = ["(ref.null func)", "(ref.func $a1)", "(ref.func $a2)"][r.below(3) as usize];
            s.table_size += n;
            (format!("(drop (table.grow $t {f} (i32.const {n})))"), false)
        }
        9 => {
            // $b writes its own function, or $a's via nothing: cross-instance slot.
            (
                format!("(table.set $t (i32.const {}) (ref.func $b0))", slot(r, s)),
                true,
            )
        }
        10 => {
            let start = slot(r, s);
            let len = r.below(s.table_size - start + 1);
            let f = ["(ref.null func)", "(ref.func $a0)"][r.below(2) as usize];
            (
                format!("(table.fill $t (i32.const {start}) {f} (i32.const {len}))"),
                false,
            )
        }
        11 => {
            let len = r.below(s.table_size + 1);
            let (src, dst) = (
                r.below(s.table_size - len + 1),
                r.below(s.table_size - len + 1),
            );
            (
                format!("(table.copy $t $t (i32.const {dst}) (i32.const {src}) (i32.const {len}))"),
                false,
            )
        }
        _ => {
            if !s.elem_dropped && s.table_size >= 3 && r.below(2) == 0 {
                let dst = r.below(s.table_size - 2);
                if r.below(3) == 0 {
                    s.elem_dropped = true;
                    return (format!("(table.init $t $pe (i32.const {dst}) (i32.const 0) (i32.const 3)) (elem.drop $pe)"), false);
                }
                return (
                    format!("(table.init $t $pe (i32.const {dst}) (i32.const 0) (i32.const 3))"),
                    false,
                );
            }
            if !s.data_dropped {
                let dst = r.below(65536 - 12);
                if r.below(2) == 0 {
                    s.data_dropped = true;
                    return (format!("(memory.init $pd (i32.const {dst}) (i32.const 0) (i32.const 12)) (data.drop $pd)"), false);
                }
                return (
                    format!("(memory.init $pd (i32.const {dst}) (i32.const 0) (i32.const 12))"),
                    false,
                );
            }
            ("(nop)".to_string(), false)
        }
    }
}

fn run_cases(range: std::ops::Range<u64>) {
    let snap = snapshotter("init");
    for seed in range {
        let source = generate(seed);
        let input = wat(&source);
        let result =
            std::panic::catch_unwind(|| check(&snap, &input, "init", &["probe()", "own()"]));
        if let Err(e) = result {
            let path = std::env::temp_dir().join(format!("compsnap-differential-{seed}.wat"));
            let _ = std::fs::write(&path, &source);
            eprintln!("case {seed} failed; its component is in {}", path.display());
            std::panic::resume_unwind(e);
        }
    }
}

#[test]
fn differential_slice() {
    run_cases(common::seed_slice(
        "COMPSNAP_DIFF_CASES",
        "COMPSNAP_DIFF_FIRST",
        25,
    ));
}
