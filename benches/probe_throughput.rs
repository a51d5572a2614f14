//! Table probing throughput: snapshot a component whose init fills a 100 000-slot table with
//! functions of 50 different types, and report slots per second end to end and for the probe
//! alone, and the share of the snapshot spent probing. Run with `cargo bench`.
//!
//! Target (issue #3): at least 1 000 000 slots/s end to end.

use std::fmt::Write;
use std::time::Duration;

/// A component whose init grows a table to `slots` and fills it, `types` functions at a time,
/// from a passive segment holding one function of each type.
fn component(slots: u32, types: u32) -> String {
    let mut wat = String::from("(component (core module $m\n");
    for t in 0..types {
        // Type t: (t % 10) i32 params, (t / 10 + 1) i64 results: 50 distinct signatures.
        let params = " i32".repeat((t % 10) as usize);
        let results = " i64".repeat((t / 10 + 1) as usize);
        let _ = writeln!(wat, "(type $t{t} (func (param{params}) (result{results})))");
        let consts = " (i64.const 1)".repeat((t / 10 + 1) as usize);
        let _ = writeln!(wat, "(func $f{t} (type $t{t}){consts})");
    }
    let funcs: String = (0..types).map(|t| format!(" $f{t}")).collect();
    let _ = writeln!(wat, "(table $tab 0 funcref)\n(elem $all func{funcs})");
    let _ = writeln!(
        wat,
        r#"(func (export "init") (local $i i32)
             (drop (table.grow $tab (ref.null func) (i32.const {slots})))
             (loop $l
               (table.init $tab $all (local.get $i) (i32.const 0) (i32.const {types}))
               (local.set $i (i32.add (local.get $i) (i32.const {types})))
               (br_if $l (i32.lt_u (local.get $i) (i32.const {slots})))))
           (func (export "size") (result i32) (table.size $tab)))
         (core instance $i (instantiate $m))
         (func (export "init") (canon lift (core func $i "init")))
         (func (export "size") (result u32) (canon lift (core func $i "size"))))"#
    );
    wat
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1e3
}

fn main() {
    let runs = 5;
    println!("| slots | types | snapshot ms | probe (dump) ms | probe share | slots/s end to end | slots/s probe |");
    println!("|---:|---:|---:|---:|---:|---:|---:|");
    for (slots, types) in [(10_000u32, 50u32), (100_000, 50), (100_000, 5)] {
        let input = wat::parse_str(component(slots, types)).expect("benchmark WAT");
        let mut snap = compsnap::Snapshotter::new();
        snap.init_func("init");
        // Best of `runs`: the machine is shared, the minimum is the least disturbed run.
        let best = (0..runs)
            .map(|_| snap.snapshot_with_stats(&input).expect("snapshot").1)
            .min_by_key(|s| s.total())
            .expect("at least one run");
        let total = best.total();
        let dump = best.stage("dump");
        assert_eq!(best.tables[0].slots, slots as usize);
        println!(
            "| {slots} | {types} | {:.1} | {:.1} | {:.0}% | {:.0} | {:.0} |",
            ms(total),
            ms(dump),
            100.0 * dump.as_secs_f64() / total.as_secs_f64(),
            slots as f64 / total.as_secs_f64(),
            slots as f64 / dump.as_secs_f64(),
        );
    }
}
